"""Read-only connections to the mirrors a follow process ingests, kept open across passes (a
mirror replaced by a restore gets a new one) with each mirror's table columns cached until
its schema changes; the pages a mirror's reader cached are dropped by SQLite itself when the
file's change counter moves (`polled_followers.apply` bumps it)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

CACHE_KIB = 512  # page cache per kept connection: 200 mirrors stay near 100 MB


class MirrorReaders:
    """One connection per node's current mirror; used from one thread at a time."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[Path, sqlite3.Connection]] = {}
        self._columns: dict[str, tuple[int, dict[str, set[str]]]] = {}
        self._lock = threading.Lock()

    def connection(self, node_id: str, mirror: Path) -> sqlite3.Connection:
        """The node's reader on `mirror` (the previous mirror's reader closed)."""
        with self._lock:
            kept = self._open.get(node_id)
            if kept and kept[0] == mirror:
                return kept[1]
            if kept:
                kept[1].close()
                self._columns.pop(node_id, None)
            conn = sqlite3.connect(
                f"file:{mirror}?mode=ro", uri=True, timeout=5, check_same_thread=False
            )
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._open[node_id] = (mirror, conn)
            return conn

    def columns(
        self, node_id: str, conn: sqlite3.Connection, tables: list[str]
    ) -> dict[str, set[str]]:
        """The columns each of `tables` has in the node's mirror (inside the caller's read
        transaction; read again only when the mirror's schema version moved)."""
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        cached = self._columns.get(node_id)
        if cached is None or cached[0] != version:
            found = {t: {row[1] for row in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
            cached = (version, found)
            self._columns[node_id] = cached
        return cached[1]

    def forget(self, node_id: str) -> None:
        """Close the node's reader (its mirror failed to read)."""
        with self._lock:
            kept = self._open.pop(node_id, None)
            self._columns.pop(node_id, None)
        if kept:
            kept[1].close()

    def close(self) -> None:
        """Close every reader."""
        for node_id in list(self._open):
            self.forget(node_id)
