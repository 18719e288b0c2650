"""SQLite's `data_version` on a connection of our own: what tells kept answers (public pages,
sessions) that any process has committed to the database since."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class DataVersion:
    """SQLite's `data_version` on a connection of our own: it changes whenever another
    connection (this process's or another's) commits to the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def __call__(self) -> int:
        if self._conn is None:
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints are Litestream's
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
