"""Blob upload as a kind of the kernel outbox: due once recorded, uploaded once, all that is due
in one pass, a few at a time; a store that is down ends the pass, a damaged file or a store
answering nonsense does not leave a row sending; the migration keeps every pending upload."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.blobs.queries import record
from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import stamp
from edge.kernel.db import Database, connect_sync
from edge.kernel.outbox import Drained, claim
from edge.schema import MIGRATIONS_DIR, migrate_database
from edge.settings import Settings
from replication.blob_upload import BLOB_UPLOAD, upload_pass
from replication.objectstore import S3Store, StoreUnavailable, blob_key
from replication.store_config import StoreSettings
from tests.conftest import LIANZHOU
from tests.loopback_server import serving
from tests.test_migrations import _run as migrate_with

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _settings(tmp_path: Path, **store: str) -> Settings:
    return Settings(
        node_id="lianzhou",
        township_code=LIANZHOU,
        data_dir=tmp_path / "edge",
        replica=StoreSettings(replica_dir=tmp_path / "replica", **store),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings(tmp_path)


@pytest.fixture
def store_down(tmp_path: Path) -> Settings:
    """An S3 store on a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return _settings(
        tmp_path,
        store="s3",
        s3_endpoint=f"http://127.0.0.1:{port}",
        s3_bucket="cunban",
        s3_access_key="lianzhou",
        s3_secret_key="secret",
    )


def _s3(tmp_path: Path, endpoint: str) -> Settings:
    return _settings(
        tmp_path,
        store="s3",
        s3_endpoint=endpoint,
        s3_bucket="cunban",
        s3_access_key="lianzhou",
        s3_secret_key="secret",
    )


class _Bucket(http.server.BaseHTTPRequestHandler):
    """A loopback S3 bucket for PUTs: each takes 0.2 s (a round trip of a slow link), answers
    with the MD5 of what it stored, and the server counts how many were in flight at once."""

    protocol_version = "HTTP/1.1"
    server: _BucketServer

    def do_PUT(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most_at_once = max(self.server.most_at_once, self.server.in_flight)
        time.sleep(0.2)
        with self.server.lock:
            self.server.in_flight -= 1
            self.server.stored[self.path] = data
        self.send_response(200)
        self.send_header("ETag", f'"{hashlib.md5(data).hexdigest()}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _BucketServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Bucket)
        self.lock = threading.Lock()
        self.in_flight = self.most_at_once = 0
        self.stored: dict[str, bytes] = {}


class _Nonsense(http.server.BaseHTTPRequestHandler):
    """A captive portal in front of the store: every request gets 403 and an HTML page that
    claims to be XML."""

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        body = b"<html><body>Please sign in to the village Wi-Fi"
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def bucket() -> _BucketServer:
    return _BucketServer()


@pytest.fixture
def bucket_url(bucket: _BucketServer) -> Iterator[str]:
    yield from serving(bucket)


@pytest.fixture
def nonsense() -> Iterator[str]:
    yield from serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Nonsense))


async def _record(settings: Settings, files: list[bytes], now: datetime) -> list[str]:
    local = BlobStore(settings.blobs_dir)
    db = Database(settings.database_path)
    await db.open()
    try:
        await migrate_database(db)
        names = []
        async with db.write() as conn:
            for data in files:
                names.append(local.put(data))
                await record(conn, names[-1], "image/jpeg", len(data), stamp(now))
        return names
    finally:
        await db.close()


def recorded(settings: Settings, *files: bytes, now: datetime = T0) -> list[str]:
    return asyncio.run(_record(settings, list(files), now))


def blob(settings: Settings, sha256: str) -> sqlite3.Row:
    with closing(connect_sync(settings.database_path)) as conn:
        return conn.execute("SELECT * FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()


def test_a_recorded_blob_is_due_at_once_and_uploaded_once(settings):
    (sha,) = recorded(settings, b"photo one")
    row = blob(settings, sha)
    assert (row["upload_state"], row["upload_next_at"], row["uploaded_at"]) == (
        "queued",
        stamp(T0),
        None,
    )
    assert upload_pass(settings.replicated_node, T0) == Drained(1, 0)
    stored = settings.replica.replica_dir / blob_key("lianzhou", sha)
    assert stored.read_bytes() == b"photo one"
    row = blob(settings, sha)
    assert (row["upload_state"], row["uploaded_at"], row["upload_error"]) == ("sent", stamp(T0), "")
    assert upload_pass(settings.replicated_node, T0 + timedelta(days=1)) == Drained(0, 0)


def test_recording_a_blob_again_queues_nothing_new(settings):
    (sha,) = recorded(settings, b"photo one")
    assert upload_pass(settings.replicated_node, T0) == Drained(1, 0)
    assert recorded(settings, b"photo one", now=T0 + timedelta(hours=1)) == [sha]
    assert blob(settings, sha)["upload_state"] == "sent"
    assert upload_pass(settings.replicated_node, T0 + timedelta(hours=1)) == Drained(0, 0)


def test_a_store_that_is_down_ends_the_pass_and_each_blob_backs_off(store_down):
    first, second = sorted(recorded(store_down, b"photo one", b"photo two"))
    assert upload_pass(store_down.replicated_node, T0) == Drained(
        0, 1
    )  # the second is not even tried
    row = blob(store_down, first)
    assert (row["upload_state"], row["upload_attempts"]) == ("queued", 1)
    assert row["upload_next_at"] == stamp(T0 + timedelta(seconds=5))
    assert row["upload_error"].startswith("put nodes/lianzhou/blobs/")
    row = blob(store_down, second)
    assert (row["upload_state"], row["upload_attempts"], row["upload_next_at"]) == (
        "queued",
        0,
        stamp(T0),
    )
    assert upload_pass(store_down.replicated_node, T0 + timedelta(seconds=1)) == Drained(
        0, 1
    )  # the second now
    assert upload_pass(store_down.replicated_node, T0 + timedelta(seconds=5)) == Drained(0, 1)
    row = blob(store_down, first)
    assert (row["upload_attempts"], row["upload_next_at"]) == (
        2,
        stamp(T0 + timedelta(seconds=15)),
    )


def test_a_damaged_blob_waits_and_the_pass_goes_on(settings):
    damaged, sound = recorded(settings, b"photo one", b"photo two")
    BlobStore(settings.blobs_dir).path(damaged).write_bytes(b"not what was hashed")
    assert upload_pass(settings.replicated_node, T0) == Drained(1, 1)
    row = blob(settings, damaged)
    assert (row["upload_state"], row["upload_attempts"], row["uploaded_at"]) == ("queued", 1, None)
    assert "damaged" in row["upload_error"]
    assert row["upload_next_at"] == stamp(T0 + timedelta(seconds=5))
    assert blob(settings, sound)["upload_state"] == "sent"
    assert not (settings.replica.replica_dir / blob_key("lianzhou", damaged)).exists()


def test_an_upload_stuck_in_sending_is_reaped(settings):
    (sha,) = recorded(settings, b"photo one")
    with closing(connect_sync(settings.database_path)) as conn:
        assert [row["sha256"] for row in claim(conn, BLOB_UPLOAD, T0, 10)] == [sha]
    assert upload_pass(settings.replicated_node, T0 + timedelta(minutes=4)) == Drained(0, 0)
    assert upload_pass(settings.replicated_node, T0 + timedelta(minutes=5)) == Drained(1, 0)


def test_the_migration_keeps_every_pending_upload_due(tmp_path):
    (outbox_migration,) = MIGRATIONS_DIR.glob("*_blob_upload_outbox.sql")
    older = tmp_path / "older"
    older.mkdir()
    for script in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if script.name < outbox_migration.name:
            shutil.copy(script, older)
    path = tmp_path / "edge.db"
    migrate_with(path, older)
    created = stamp(T0 - timedelta(days=1))
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany(
            "INSERT INTO blobs (sha256, content_type, bytes, created_at, uploaded_at, "
            "upload_attempts, upload_next_at, upload_error) "
            "VALUES (?, 'image/jpeg', 9, ?, ?, ?, ?, ?)",
            [
                ("a" * 64, created, created, 0, None, ""),  # uploaded
                ("b" * 64, created, None, 0, None, ""),  # never tried
                ("c" * 64, created, None, 3, stamp(T0 + timedelta(seconds=40)), "put: refused"),
            ],
        )
    migrate_with(path, MIGRATIONS_DIR)
    with closing(connect_sync(path)) as conn:
        rows = conn.execute(
            "SELECT sha256, upload_state, upload_attempts, upload_next_at, upload_error, "
            "uploaded_at FROM blobs ORDER BY sha256"
        ).fetchall()
        assert [tuple(row) for row in rows] == [
            ("a" * 64, "sent", 0, None, "", created),
            ("b" * 64, "queued", 0, created, "", None),
            ("c" * 64, "queued", 3, stamp(T0 + timedelta(seconds=40)), "put: refused", None),
        ]
        assert [row["sha256"] for row in claim(conn, BLOB_UPLOAD, T0, 10)] == ["b" * 64]
        later = T0 + timedelta(seconds=40)
        assert [row["sha256"] for row in claim(conn, BLOB_UPLOAD, later, 10)] == ["c" * 64]


def test_one_pass_uploads_everything_due_not_a_batch_of_50(settings):
    names = recorded(settings, *(f"photo {n}".encode() for n in range(200)))
    assert upload_pass(settings.replicated_node, T0) == Drained(200, 0)
    with closing(connect_sync(settings.database_path)) as conn:
        states = conn.execute("SELECT upload_state, count(*) FROM blobs GROUP BY 1").fetchall()
    assert [tuple(row) for row in states] == [("sent", 200)]
    for sha in names:
        assert (settings.replica.replica_dir / blob_key("lianzhou", sha)).is_file()
    assert upload_pass(settings.replicated_node, T0 + timedelta(seconds=1)) == Drained(0, 0)


def test_uploads_overlap_so_the_link_not_one_round_trip_sets_the_pace(tmp_path, bucket, bucket_url):
    settings = _s3(tmp_path, bucket_url)
    names = recorded(settings, *(f"photo {n}".encode() for n in range(12)))
    assert upload_pass(settings.replicated_node, T0) == Drained(12, 0)
    assert bucket.most_at_once == 4
    assert {path.rsplit("/", 1)[-1] for path in bucket.stored} == set(names)
    assert all(blob(settings, sha)["upload_state"] == "sent" for sha in names)


def test_a_store_answering_nonsense_leaves_no_blob_sending(tmp_path, nonsense):
    settings = _s3(tmp_path, nonsense)
    first, second = sorted(recorded(settings, b"photo one", b"photo two"))
    assert upload_pass(settings.replicated_node, T0) == Drained(0, 1)  # as a store that is down
    row = blob(settings, first)
    assert (row["upload_state"], row["upload_attempts"]) == ("queued", 1)
    assert row["upload_next_at"] == stamp(T0 + timedelta(seconds=5))
    assert row["upload_error"].startswith("put nodes/lianzhou/blobs/")
    assert blob(settings, second)["upload_state"] == "queued"


def test_a_store_that_is_down_or_talks_nonsense_is_unavailable_to_every_read(
    store_down, tmp_path, nonsense
):
    for settings in (store_down, _s3(tmp_path, nonsense)):
        store = S3Store(settings.replicated_node.store)
        with pytest.raises(StoreUnavailable, match=r"^get nodes/lianzhou/blobs/"):
            store.get(blob_key("lianzhou", "a" * 64))
        with pytest.raises(StoreUnavailable, match=r"^list nodes/lianzhou"):
            store.keys("nodes/lianzhou")
