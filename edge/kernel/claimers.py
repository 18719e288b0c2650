"""Who claimed an outbox row, and whether it still lives: a process holds an exclusive lock on a
file named after its token for as long as it runs, and the OS drops the lock when the process
dies (even by SIGKILL), so any process on the machine can tell a dead claimer at once."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from ulid import ULID

_HELD: dict[Path, tuple[str, IO[bytes]]] = {}


def this_process(directory: Path) -> str:
    """This process's claimer token under `directory`, taking its lock the first time."""
    directory = directory.resolve()
    if directory not in _HELD:
        directory.mkdir(parents=True, exist_ok=True)
        token = str(ULID())
        handle = (directory / f"{token}.lock").open("wb")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _HELD[directory] = (token, handle)
    return _HELD[directory][0]


def is_alive(directory: Path, token: str) -> bool:
    """Whether the claimer `token` still runs: its lock file exists and is locked. A dead
    claimer's file is removed once found dead."""
    path = directory / f"{Path(token).name}.lock"
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # also drops a lock just taken
    path.unlink(missing_ok=True)
    return False
