"""The only place that opens SQLite connections: one writer behind a lock, a few readers.

Checkpoints belong to Litestream: our connections never checkpoint (wal_autocheckpoint = 0).
An application checkpoint while `litestream replicate` is down, followed by a WAL restart
shorter than the point Litestream had copied, is a change Litestream cannot see on restart
(its last-page check still matches the old frame): the replica silently loses those pages.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiosqlite

from edge.kernel.storage_probe import write_refused

READERS = 4
BUSY_TIMEOUT_MS = 5000
BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


class DatabaseRefused(RuntimeError):
    """The database file is not one this program may open."""


class DatabaseBusy(sqlite3.OperationalError):
    """The writer was not had within BUSY_TIMEOUT_MS: another connection holds the write lock
    (a waiting request answers 503 with Retry-After; nothing was written). An SQLITE_BUSY, so
    loops that carry on after a database error carry on after this one too."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"database is locked: {reason}")
        self.sqlite_errorcode = sqlite3.SQLITE_BUSY
        self.sqlite_errorname = "SQLITE_BUSY"


def _quiet_driver_log() -> None:
    """aiosqlite logs every statement with its parameters (phones, ID numbers) at DEBUG: its
    logger stays at INFO or above, whatever level the node runs at (its warnings still show)."""
    driver = logging.getLogger("aiosqlite")
    if driver.level < logging.INFO:  # NOTSET (inherit the node's level) or DEBUG
        driver.setLevel(logging.INFO)


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for a lock (SQLITE_BUSY or SQLITE_LOCKED, any variant)."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in BUSY_CODES


async def connect(
    path: Path, *, readonly: bool = False, replicated: bool = True
) -> aiosqlite.Connection:
    """Open a connection with the project's PRAGMAs (WAL, busy timeout, foreign keys, FULL); a
    replicated database is never checkpointed by us."""
    _quiet_driver_log()
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if readonly:
            await conn.execute("PRAGMA query_only = ON")
        else:
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = FULL")
            if replicated:
                await conn.execute("PRAGMA wal_autocheckpoint = 0")  # Litestream's (module doc)
    except BaseException:
        await conn.close()  # its thread would otherwise keep the process alive
        raise
    return conn


def connect_sync(path: Path) -> sqlite3.Connection:
    """A blocking connection to an edge database with the same PRAGMAs (no checkpoints), for the
    huey worker, the replicate process and CLI checks."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # Litestream's (module doc)
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One BEGIN IMMEDIATE transaction on a blocking connection: COMMIT, or ROLLBACK on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Database:
    """A database file: `write()` runs one BEGIN IMMEDIATE transaction, `read()` lends a reader.
    An edge database is `replicated` (Litestream checkpoints it); central's is not."""

    def __init__(self, path: Path, *, replicated: bool = True) -> None:
        self.path = path
        self.replicated = replicated  # Litestream replicates it, and owns its checkpoints
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._tracers: list[Callable[[str], None]] = []

    async def open(self) -> None:
        """Open the writer first (it sets WAL), then the readers."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseRefused(f"cannot create the folder {self.path.parent}: {exc}") from None
        refusal = write_refused(self.path.parent)  # a read-only or full disk
        if refusal:
            raise DatabaseRefused(f"cannot write in {self.path.parent}: {refusal}")
        try:  # a plain probe first: a failed aiosqlite connect leaves its thread behind
            sqlite3.connect(self.path).close()
        except sqlite3.OperationalError as exc:  # unreadable, unwritable, not a file
            raise DatabaseRefused(f"cannot open {self.path}: {exc}") from None
        try:
            self._writer = await connect(self.path, replicated=self.replicated)
        except sqlite3.DatabaseError as exc:
            raise DatabaseRefused(f"{self.path} is not a SQLite database ({exc})") from None
        await self._writer.set_trace_callback(self._trace)
        for _ in range(READERS):
            reader = await connect(self.path, readonly=True, replicated=self.replicated)
            await reader.set_trace_callback(self._trace)
            self._all_readers.append(reader)
            self._readers.put_nowait(reader)

    async def close(self) -> None:
        """Close every connection."""
        for reader in self._all_readers:
            await reader.close()
        self._all_readers.clear()
        self._readers = asyncio.Queue()  # so a later open() lends only its own readers
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    def _trace(self, statement: str) -> None:
        for tracer in self._tracers:
            tracer(statement)

    def add_tracer(self, tracer: Callable[[str], None]) -> None:
        """Call `tracer` with every SQL statement run (used to count queries per page)."""
        self._tracers.append(tracer)

    def remove_tracer(self, tracer: Callable[[str], None]) -> None:
        """Stop calling `tracer`."""
        self._tracers.remove(tracer)

    @property
    def writer(self) -> aiosqlite.Connection:
        """The write connection, for the migration runner only."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        return self._writer

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow a read-only connection."""
        reader = await self._readers.get()
        try:
            yield reader
        finally:
            self._readers.put_nowait(reader)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run one transaction on the single writer; commits on success, rolls back on error.
        The wait for the writer (this process's queue, then SQLite's write lock) is one
        BUSY_TIMEOUT_MS in all; past it, DatabaseBusy."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        await self._take_turn(deadline)
        try:
            conn = self.writer
            await self._begin(conn, deadline)
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            try:
                await conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # e.g. disk full: leave the writer usable
                    await conn.execute("ROLLBACK")
                raise
        finally:
            self._write_lock.release()

    async def _take_turn(self, deadline: float) -> None:
        """This process's writers go one at a time; a turn not had by `deadline` is refused."""
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                await self._write_lock.acquire()
        except TimeoutError:
            raise DatabaseBusy("waited for this node's other writers") from None

    async def _begin(self, conn: aiosqlite.Connection, deadline: float) -> None:
        """BEGIN IMMEDIATE, waiting for another connection's write lock only until `deadline`
        (a request that queued here first has less left of its wait)."""
        left_ms = max(0, int((deadline - time.monotonic()) * 1000))
        shortened = left_ms < BUSY_TIMEOUT_MS - 100
        if shortened:
            await conn.execute(f"PRAGMA busy_timeout = {left_ms}")
        try:
            await conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise DatabaseBusy("another connection holds the write lock") from None
            raise
        finally:
            if shortened:
                await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
