"""Durable file writes: a file is whole on disk, under its name, before the caller goes on."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_durably(target: Path, data: bytes) -> None:
    """Write a temp file (0600) beside `target`, fsync it, rename it over, fsync the folder."""
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
