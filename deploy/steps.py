"""What an install does, as steps that know whether they are already done: files, folders,
links and commands, applied under an optional root (tests) or only described (--dry-run)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """Where steps land: `root` prefixes every absolute path (a chroot-like folder for tests);
    `dry_run` only says what would change; commands that touch the system (apt-get, useradd,
    systemctl) run only when `root` is the real one."""

    root: Path = Path("/")
    dry_run: bool = False

    @property
    def real(self) -> bool:
        """Whether this is the machine itself (not a folder standing for it)."""
        return self.root == Path("/")

    def path(self, absolute: str | Path) -> Path:
        """`absolute` under the root."""
        return self.root / str(absolute).lstrip("/")


@dataclass(frozen=True)
class Outcome:
    """One step's result: what it is, and whether it changed (or would change) anything."""

    what: str
    changed: bool
    skipped: str = ""


class Step:
    """A thing an install makes true."""

    what: str

    def apply(self, target: Target) -> Outcome:
        raise NotImplementedError


@dataclass(frozen=True)
class Directory(Step):
    """A folder with its mode and owner."""

    path: str
    mode: int = 0o755
    owner: str = "root"

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"folder {self.path} ({self.mode:o}, {self.owner})"

    def apply(self, target: Target) -> Outcome:
        where = target.path(self.path)
        done = where.is_dir() and (where.stat().st_mode & 0o7777) == self.mode
        if done or target.dry_run:
            return Outcome(self.what, not done)
        where.mkdir(parents=True, exist_ok=True)
        where.chmod(self.mode)
        _chown(where, self.owner, target)
        return Outcome(self.what, True)


@dataclass(frozen=True)
class File(Step):
    """A file with exactly this content, mode and owner."""

    path: str
    content: str
    mode: int = 0o644
    owner: str = "root"

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"file {self.path} ({self.mode:o}, {self.owner})"

    def apply(self, target: Target) -> Outcome:
        where = target.path(self.path)
        done = (
            where.is_file()
            and where.read_text(encoding="utf-8") == self.content
            and (where.stat().st_mode & 0o7777) == self.mode
        )
        if done or target.dry_run:
            return Outcome(self.what, not done)
        where.parent.mkdir(parents=True, exist_ok=True)
        scratch = where.with_name(f".{where.name}.new")
        scratch.touch(mode=0o600)
        scratch.write_text(self.content, encoding="utf-8")
        scratch.chmod(self.mode)
        _chown(scratch, self.owner, target)
        os.replace(scratch, where)
        return Outcome(self.what, True)


@dataclass(frozen=True)
class KeepCopy(Step):
    """A copy of a file someone else wrote (a package's default) before we replace it, made
    once; nothing to do when the file is already ours (it starts with `ours`) or absent."""

    path: str
    copy: str
    ours: str

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"keep {self.path} as {self.copy}"

    def apply(self, target: Target) -> Outcome:
        source, copy = target.path(self.path), target.path(self.copy)
        done = (
            copy.exists()
            or not source.is_file()
            or source.read_text(encoding="utf-8").startswith(self.ours)
        )
        if done or target.dry_run:
            return Outcome(self.what, not done)
        shutil.copy2(source, copy)
        return Outcome(self.what, True)


@dataclass(frozen=True)
class Link(Step):
    """A symbolic link pointing at `to` (switched atomically)."""

    path: str
    to: str

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"link {self.path} -> {self.to}"

    def apply(self, target: Target) -> Outcome:
        where = target.path(self.path)
        done = where.is_symlink() and os.readlink(where) == self.to
        if done or target.dry_run:
            return Outcome(self.what, not done)
        where.parent.mkdir(parents=True, exist_ok=True)
        scratch = where.with_name(f".{where.name}.new")
        scratch.unlink(missing_ok=True)
        scratch.symlink_to(self.to)
        os.replace(scratch, where)
        return Outcome(self.what, True)


@dataclass(frozen=True)
class Command(Step):
    """A command run only when `needed(target)` says so; `system` commands (apt-get, useradd,
    systemctl) are skipped when the target is not the machine itself."""

    argv: Sequence[str]
    needed: Callable[[Target], bool] = field(compare=False)
    system: bool = True
    label: str = ""
    when_changed: tuple[str, ...] = ()  # also run when a step on one of these paths changed

    @property
    def what(self) -> str:  # type: ignore[override]
        return self.label or " ".join(self.argv)

    def apply(self, target: Target, forced: bool = False) -> Outcome:
        if self.system and not target.real:
            return Outcome(self.what, False, skipped="not run under --root")
        if not forced and not self.needed(target):
            return Outcome(self.what, False)
        if target.dry_run:
            return Outcome(self.what, True)
        done = subprocess.run(list(self.argv), check=False)
        if done.returncode != 0:
            raise StepFailed(f"{self.what}: {' '.join(self.argv)} exited with {done.returncode}")
        return Outcome(self.what, True)


class StepFailed(RuntimeError):
    """A step could not be made true (its command failed); the message says which."""


def _chown(where: Path, owner: str, target: Target) -> None:
    """Give `where` to `owner` on the machine itself; under a test root, files stay the caller's."""
    if not target.real or (owner == "root" and os.geteuid() != 0):
        return
    entry = pwd.getpwnam(owner)
    os.chown(where, entry.pw_uid, entry.pw_gid)


def run(steps: Sequence[Step], target: Target, say: Callable[[str], None] = print) -> int:
    """Apply every step in order, saying what changed; the number of steps that changed."""
    changed = 0
    changed_paths: list[str] = []
    for step in steps:
        if isinstance(step, Command):
            forced = any(p.startswith(step.when_changed) for p in changed_paths)
            outcome = step.apply(target, forced) if step.when_changed else step.apply(target)
        else:
            outcome = step.apply(target)
        if outcome.changed:
            changed_paths.append(str(getattr(step, "path", "")))
        if outcome.skipped:
            say(f"  skip     {outcome.what} ({outcome.skipped})")
        elif outcome.changed:
            changed += 1
            say(f"  {'would' if target.dry_run else 'done':<8} {outcome.what}")
        else:
            say(f"  ok       {outcome.what}")
    if changed == 0:
        say("nothing to change: the node is installed as asked")
    return changed


def user_missing(name: str) -> Callable[[Target], bool]:
    """Whether the system user `name` does not exist yet."""

    def check(_target: Target) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return True
        return False

    return check


def packages_missing(names: Sequence[str]) -> Callable[[Target], bool]:
    """Whether any of the Debian packages `names` is not installed."""

    def check(_target: Target) -> bool:
        if shutil.which("dpkg-query") is None:
            return True
        for name in names:
            found = subprocess.run(
                ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
            )
            if "install ok installed" not in found.stdout:
                return True
        return False

    return check
