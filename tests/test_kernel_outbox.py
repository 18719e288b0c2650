"""The kernel outbox on a table of its own: enqueue in the caller's transaction, claim once,
back off to a cap, give up at the limit, reap what a dead worker left, stop a pass cleanly."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.kernel import outbox
from edge.kernel.clock import stamp
from edge.kernel.db import Database, connect_sync
from edge.kernel.outbox import Columns, Drained, NotSent, OutboxKind
from edge.push.outbox import PUSH
from edge.sms.outbox import SMS
from replication.blob_upload import BLOB_UPLOAD

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PHONE = "13812345678"

LETTERS_TABLE = """
CREATE TABLE letters (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'returned')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE TABLE returned (id TEXT PRIMARY KEY);
"""

LETTERS = OutboxKind(
    name="letter",
    table="letters",
    first_wait=timedelta(minutes=1),
    max_wait=timedelta(minutes=8),
    max_attempts=5,
    error_limit=40,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "letters.db"
    with closing(connect_sync(path)) as conn:
        conn.executescript(LETTERS_TABLE)
    return path


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(connect_sync(db_path)) as connection:
        yield connection


def letter(number: int, body: str, **extra: str) -> dict[str, object]:
    return {"id": f"L{number:03}", "body": body, "created_at": stamp(T0), **extra}


async def _enqueue(path: Path, rows: list[dict[str, object]], fail: bool = False) -> list:
    db = Database(path)
    await db.open()
    try:
        async with db.write() as conn:
            keys = [await outbox.enqueue(conn, LETTERS, row, due=stamp(T0)) for row in rows]
            if fail:
                raise RuntimeError("the change failed after queueing its letters")
    finally:
        await db.close()
    return keys


def enqueue(path: Path, *bodies: str) -> list[str | None]:
    return asyncio.run(_enqueue(path, [letter(n, body) for n, body in enumerate(bodies)]))


def row_of(conn: sqlite3.Connection, key: str) -> sqlite3.Row:
    return conn.execute("SELECT * FROM letters WHERE id = ?", (key,)).fetchone()


def failing(error: str = "refused", **how: object):
    def send(row: sqlite3.Row) -> None:
        raise NotSent(error, **how)

    return send


def test_enqueue_writes_a_queued_row_due_at_once(db_path, conn):
    assert enqueue(db_path, "hello") == ["L000"]
    row = row_of(conn, "L000")
    assert (row["state"], row["attempts"], row["next_attempt_at"]) == ("queued", 0, stamp(T0))


def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(db_path, conn):
    with pytest.raises(RuntimeError, match="the change failed"):
        asyncio.run(_enqueue(db_path, [letter(0, "one"), letter(1, "two")], fail=True))
    assert conn.execute("SELECT count(*) FROM letters").fetchone()[0] == 0
    assert outbox.drain(conn, LETTERS, T0, lambda row: None) == Drained(0, 0)


def test_a_unique_key_already_queued_is_not_queued_twice(db_path, conn):
    rows = [letter(n, "x", dedupe_key="once") for n in range(2)]
    assert asyncio.run(_enqueue(db_path, rows)) == ["L000", None]
    assert conn.execute("SELECT count(*) FROM letters").fetchone()[0] == 1


def test_backoff_doubles_to_its_cap():
    assert [outbox.backoff(LETTERS, n) for n in range(1, 8)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 8, 8, 8)
    ]
    assert [outbox.backoff(BLOB_UPLOAD, n) for n in (1, 2, 3, 7, 8, 9, 10)] == [
        timedelta(seconds=s) for s in (5, 10, 20, 320, 600, 600, 600)
    ]
    assert outbox.backoff(SMS, 10**6) == outbox.backoff(PUSH, 7) == timedelta(hours=1)


def test_failures_wait_their_backoff_then_fail_at_max_attempts(db_path, conn):
    enqueue(db_path, "hello")
    now = T0
    for attempt, wait in enumerate((1, 2, 4, 8), start=1):
        assert outbox.drain(conn, LETTERS, now, failing()) == Drained(0, 1)
        row = row_of(conn, "L000")
        assert (row["state"], row["attempts"], row["last_error"]) == ("queued", attempt, "refused")
        assert row["next_attempt_at"] == stamp(now + timedelta(minutes=wait))
        assert row["claimed_at"] is None
        assert outbox.drain(
            conn, LETTERS, now + timedelta(minutes=wait, seconds=-1), failing()
        ) == (Drained(0, 0))  # not due yet: not even tried
        now += timedelta(minutes=wait)
    assert outbox.drain(conn, LETTERS, now, failing()) == Drained(0, 1)
    assert (row_of(conn, "L000")["state"], row_of(conn, "L000")["attempts"]) == ("failed", 5)
    assert outbox.drain(conn, LETTERS, now + timedelta(days=30), lambda row: None) == Drained(0, 0)


def test_a_sent_row_is_sent_once(db_path, conn):
    enqueue(db_path, "one", "two")
    bodies = []
    assert outbox.drain(conn, LETTERS, T0, lambda row: bodies.append(row["body"])) == Drained(2, 0)
    assert outbox.drain(conn, LETTERS, T0 + timedelta(days=1), failing()) == Drained(0, 0)
    assert bodies == ["one", "two"]
    row = row_of(conn, "L001")
    assert (row["state"], row["attempts"], row["sent_at"], row["claimed_at"]) == (
        "sent",
        1,
        stamp(T0),
        None,
    )


def test_a_row_stuck_in_sending_is_reaped(db_path, conn):
    enqueue(db_path, "hello")
    assert [row["id"] for row in outbox.claim(conn, LETTERS, T0, 10)] == ["L000"]
    assert outbox.claim(conn, LETTERS, T0 + timedelta(hours=1), 10) == []  # claimed stays claimed
    assert outbox.reap(conn, LETTERS, T0 + timedelta(minutes=4, seconds=59)) == 0
    later = T0 + timedelta(minutes=5)
    assert outbox.reap(conn, LETTERS, later) == 1
    row = row_of(conn, "L000")
    assert (row["state"], row["claimed_at"], row["next_attempt_at"]) == (
        "queued",
        None,
        stamp(later),
    )
    assert outbox.drain(conn, LETTERS, later, lambda row: None) == Drained(1, 0)


def test_two_claimers_never_get_the_same_row(db_path):
    enqueue(db_path, *(f"letter {n}" for n in range(120)))
    start = threading.Barrier(4)

    def claimer() -> list[str]:
        got: list[str] = []
        with closing(connect_sync(db_path)) as conn:
            start.wait()
            while rows := outbox.claim(conn, LETTERS, T0, 7):
                got += [row["id"] for row in rows]
        return got

    with ThreadPoolExecutor(max_workers=4) as pool:
        claimed = [key for got in pool.map(lambda _: claimer(), range(4)) for key in got]
    assert len(claimed) == len(set(claimed)) == 120


def test_stop_ends_the_pass_and_the_rest_stays_due(db_path, conn):
    enqueue(db_path, "one", "two", "three")
    assert outbox.drain(conn, LETTERS, T0, failing("store down", stop=True)) == Drained(0, 1)
    states = [
        (r["id"], r["state"], r["attempts"], r["claimed_at"], r["next_attempt_at"])
        for r in (row_of(conn, key) for key in ("L000", "L001", "L002"))
    ]
    assert states == [
        ("L000", "queued", 1, None, stamp(T0 + timedelta(minutes=1))),
        ("L001", "queued", 0, None, stamp(T0)),
        ("L002", "queued", 0, None, stamp(T0)),
    ]
    assert outbox.drain(conn, LETTERS, T0, lambda row: None) == Drained(2, 0)


def test_an_unexpected_error_leaves_only_its_row_in_sending(db_path, conn):
    enqueue(db_path, "one", "two", "three")

    def send(row: sqlite3.Row) -> None:
        if row["body"] == "two":
            raise RuntimeError("the process is going down")

    with pytest.raises(RuntimeError):
        outbox.drain(conn, LETTERS, T0, send)
    assert [row_of(conn, key)["state"] for key in ("L000", "L001", "L002")] == [
        "sent",
        "sending",  # it may have gone out: the reaper decides, after 5 minutes
        "queued",
    ]


def test_a_final_state_and_its_other_change_share_one_transaction(db_path, conn):
    enqueue(db_path, "hello", "again")

    def returning(final: str, key: str):
        def also(write: sqlite3.Connection) -> None:
            write.execute("INSERT INTO returned (id) VALUES (?)", (key,))

        def send(row: sqlite3.Row) -> None:
            raise NotSent(f"no such address, call {PHONE}", final=final, also=also)

        return send

    assert outbox.drain(conn, LETTERS, T0, returning("returned", "R1"), limit=1) == Drained(0, 1)
    row = row_of(conn, "L000")
    assert (row["state"], row["attempts"]) == ("returned", 1)
    assert row["last_error"] == "no such address, call 138****5678"
    assert [r["id"] for r in conn.execute("SELECT id FROM returned")] == ["R1"]

    with pytest.raises(sqlite3.IntegrityError):  # a state the table refuses: no mark, no change
        outbox.drain(conn, LETTERS, T0, returning("lost", "R2"))
    assert row_of(conn, "L001")["state"] == "sending"
    assert [r["id"] for r in conn.execute("SELECT id FROM returned")] == ["R1"]


def test_errors_are_masked_and_cut(db_path, conn):
    enqueue(db_path, "hello")
    outbox.drain(conn, LETTERS, T0, failing(f"gateway refused {PHONE} " + "x" * 100))
    assert row_of(conn, "L000")["last_error"] == "gateway refused 138****5678 " + "x" * 12


def test_a_table_may_name_its_delivery_columns_its_own_way(tmp_path):
    path = tmp_path / "parcels.db"
    with closing(connect_sync(path)) as conn:
        conn.execute(
            "CREATE TABLE parcels (code TEXT PRIMARY KEY, ship_state TEXT NOT NULL, "
            "ship_attempts INTEGER NOT NULL DEFAULT 0, ship_next_at TEXT, ship_claimed_at TEXT, "
            "ship_error TEXT NOT NULL DEFAULT '', shipped_at TEXT)"
        )
        parcels = OutboxKind(
            name="parcel",
            table="parcels",
            key="code",
            first_wait=timedelta(seconds=5),
            max_wait=timedelta(minutes=10),
            max_attempts=None,
            columns=Columns(
                "ship_state",
                "ship_attempts",
                "ship_next_at",
                "ship_claimed_at",
                "ship_error",
                "shipped_at",
            ),
        )
        conn.execute(
            "INSERT INTO parcels (code, ship_state, ship_next_at) VALUES ('P1', 'queued', ?)",
            (stamp(T0),),
        )
        for attempt in range(1, 30):  # never given up
            assert outbox.drain(conn, parcels, T0 + timedelta(days=attempt), failing()) == (
                Drained(0, 1)
            )
        assert outbox.drain(conn, parcels, T0 + timedelta(days=30), lambda row: None) == (
            Drained(1, 0)
        )
        row = conn.execute("SELECT * FROM parcels").fetchone()
    assert (row["ship_state"], row["ship_attempts"], row["shipped_at"]) == (
        "sent",
        30,
        stamp(T0 + timedelta(days=30)),
    )


def test_an_attempt_counts_as_it_starts_and_a_claim_is_not_one(db_path, conn):
    enqueue(db_path, "one", "two", "three")
    counted: list[int] = []

    def send(row: sqlite3.Row) -> None:
        counted.append(row_of(conn, row["id"])["attempts"])  # as the far side gets it
        if row["body"] == "two":
            raise RuntimeError("the process is going down")

    with pytest.raises(RuntimeError):
        outbox.drain(conn, LETTERS, T0, send)
    assert counted == [1, 1]
    assert [(row_of(conn, k)["state"], row_of(conn, k)["attempts"]) for k in ("L000", "L001")] == [
        ("sent", 1),
        ("sending", 1),  # cut off mid-send: it shows as tried
    ]
    assert (row_of(conn, "L002")["state"], row_of(conn, "L002")["attempts"]) == ("queued", 0)
    later = T0 + LETTERS.stuck_after
    assert outbox.reap(conn, LETTERS, later) == 1
    assert outbox.drain(conn, LETTERS, later, lambda row: None) == Drained(2, 0)
    assert [row_of(conn, k)["attempts"] for k in ("L000", "L001", "L002")] == [1, 2, 1]
