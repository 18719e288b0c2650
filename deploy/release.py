"""A release: a copy of the source tree under /opt/cunban/releases/<version> with its own venv
of the pinned dependencies (constraints.txt); `current` points at the one running."""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from deploy.steps import Command, Outcome, Step, Target

RELEASES = "/opt/cunban/releases"
CURRENT = "/opt/cunban/current"
SKIP = {".venv", ".git", "var", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
MARKER = "RELEASE"


def source_version(source: Path) -> str:
    """The version in the source tree's pyproject.toml."""
    text = (source / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version = "([^"]+)"', text, re.MULTILINE)
    if not match:
        raise SystemExit(f"no version in {source / 'pyproject.toml'}")
    return match.group(1)


def release_dir(version: str) -> str:
    """Where a version lives."""
    return f"{RELEASES}/{version}"


@dataclass(frozen=True)
class Release(Step):
    """The source tree copied once into its release folder (a release is never rewritten: a
    changed tree is a new version)."""

    source: Path
    version: str

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"release {self.version} in {release_dir(self.version)} (from {self.source})"

    def apply(self, target: Target) -> Outcome:
        dest = target.path(release_dir(self.version))
        done = (dest / MARKER).is_file()
        if done or target.dry_run:
            return Outcome(self.what, not done)
        scratch = dest.with_name(f".{dest.name}.partial")
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(
            self.source,
            scratch,
            ignore=lambda _folder, names: [
                n for n in names if n in SKIP or n.endswith(".egg-info")
            ],
            symlinks=True,
        )
        (scratch / MARKER).write_text(f"{self.version}\n", encoding="utf-8")
        shutil.rmtree(dest, ignore_errors=True)
        scratch.rename(dest)
        return Outcome(self.what, True)


@dataclass(frozen=True)
class BorrowedVenv(Step):
    """Under --root (tests), the release runs on the installer's own Python environment: a
    link stands for the venv a real install builds."""

    version: str

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"venv of release {self.version}: the installer's environment ({sys.prefix})"

    def apply(self, target: Target) -> Outcome:
        where = target.path(f"{release_dir(self.version)}/.venv")
        done = where.is_symlink()
        if done or target.dry_run:
            return Outcome(self.what, not done)
        where.symlink_to(sys.prefix)
        return Outcome(self.what, True)


def venv(version: str) -> Command:
    """The release's venv: pinned dependencies, the project itself (editable, so templates and
    static files are found beside it), compiled translations."""
    home = release_dir(version)
    script = (
        f"set -e; cd {home}; python3 -m venv .venv; "
        ".venv/bin/pip install --quiet --upgrade pip; "
        ".venv/bin/pip install --quiet -c constraints.txt -e .; "
        ".venv/bin/pybabel compile --statistics -d edge/locale -D messages; "
        "touch .venv/.installed"
    )
    return Command(
        ["sh", "-c", script],
        needed=lambda target: not target.path(f"{home}/.venv/.installed").is_file(),
        label=f"venv of release {version} ({home}/.venv, pinned by constraints.txt)",
    )
