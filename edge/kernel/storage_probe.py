"""Can this node still write its data folder: the free bytes there, and a real tiny write
(a read-only or full disk refuses it), read by /healthz and at start-up."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PROBE_BYTES = 4096  # one page: a disk with less than that free refuses it


def free_bytes(folder: Path) -> int:
    """Bytes this process may still write in `folder`'s file system."""
    return shutil.disk_usage(folder).free


def write_refused(folder: Path) -> str | None:
    """Why a small file cannot be written, synced and removed in `folder`; None if it can."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
    except OSError as exc:
        return exc.strerror or str(exc)
    try:
        os.write(fd, b"\0" * PROBE_BYTES)
        os.fsync(fd)
    except OSError as exc:
        return exc.strerror or str(exc)
    finally:
        os.close(fd)
        Path(name).unlink(missing_ok=True)
    return None
