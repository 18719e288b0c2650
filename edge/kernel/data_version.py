"""SQLite's `data_version` on a connection of our own: what tells kept answers (public pages,
sessions) that any process has committed to the database since."""

from __future__ import annotations

import sqlite3
from collections.abc import Hashable
from pathlib import Path
from weakref import WeakKeyDictionary

from edge.kernel.db import Database


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


MAX_KEPT = 1024  # values per database; all go when it changes


class VersionMemo:
    """Values read from a database, kept while its `data_version` holds: the caller reads
    `version()` before its query and `keep`s the answer under it (a commit meanwhile makes the
    next `get` miss)."""

    def __init__(self, path: Path) -> None:
        self.data_version = DataVersion(path)
        self.at: int | None = None
        self.values: dict[Hashable, object] = {}

    def version(self) -> int:
        """The database's change counter now; kept values of an older one are dropped."""
        now = self.data_version()
        if now != self.at:
            self.at, self.values = now, {}
        return now

    def get(self, key: Hashable) -> object | None:
        """The value kept for `key` at the current version (call `version()` first)."""
        return self.values.get(key)

    def keep(self, version: int, key: Hashable, value: object) -> None:
        """Keep `value`, read at `version`, unless the database has changed since."""
        if version == self.at and len(self.values) < MAX_KEPT:
            self.values[key] = value


_MEMOS: WeakKeyDictionary[Database, VersionMemo] = WeakKeyDictionary()


def memo_for(db: Database) -> VersionMemo:
    """The one memo of the node's database `db` (gone, with its connection, when `db` is)."""
    memo = _MEMOS.get(db)
    if memo is None:
        memo = _MEMOS[db] = VersionMemo(db.path)
    return memo
