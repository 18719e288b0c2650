"""Upload blobs to the replica store: the `blobs` rows are a kind of the kernel outbox, due from
the moment a blob is recorded until `uploaded_at` is set. A pass uploads all that is due, a few
at a time, so the link sets the pace; the worker runs one when nudged after a commit and every
10 s. Uploads are content-addressed, so any failure is safely retried after a backoff.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import datetime, timedelta

from edge.kernel import outbox
from edge.kernel.blobstore import BlobStore
from edge.kernel.db import connect_sync
from edge.kernel.outbox import Columns, Drained, NotSent, OutboxKind, Send
from replication.objectstore import ObjectStore, StoreUnavailable, blob_key, open_store, verified
from replication.replicated_node import ReplicatedNode

UPLOADS_AT_ONCE = 4  # parallel PUTs: enough to keep a link busy while each waits its round trip
BATCH = 2  # rows an upload thread claims at a time: few, so threads share the tail of the queue
PASS_SECONDS = 8.0  # then the pass gives the worker back to the other jobs; the next one goes on

BLOB_UPLOAD = OutboxKind(
    name="blob",
    table="blobs",
    key="sha256",
    first_wait=timedelta(seconds=5),
    max_wait=timedelta(minutes=10),
    max_attempts=None,
    error_limit=200,
    columns=Columns(
        state="upload_state",
        attempts="upload_attempts",
        next_attempt_at="upload_next_at",
        claimed_at="upload_claimed_at",
        last_error="upload_error",
        sent_at="uploaded_at",
    ),
)


class DamagedBlob(RuntimeError):
    """A local blob's bytes no longer hash to its name."""


def upload_one(local: BlobStore, store: ObjectStore, node_id: str, row: sqlite3.Row) -> None:
    """Upload one blob after checking its bytes still hash to its name."""
    sha256 = row["sha256"]
    data = verified(local.read(sha256), sha256)
    if data is None:
        raise DamagedBlob(f"local blob {sha256[:12]} is damaged; not uploading it")
    store.put(blob_key(node_id, sha256), data, row["content_type"])


def _sender(local: BlobStore, store: ObjectStore, node_id: str, halted: threading.Event) -> Send:
    """Send one row; every failure is a NotSent (a content-addressed PUT is safe to repeat), and
    a store that is down also halts the pass."""

    def send(row: sqlite3.Row) -> None:
        try:
            upload_one(local, store, node_id, row)
        except StoreUnavailable as exc:
            halted.set()
            raise NotSent(str(exc), stop=True) from exc
        except Exception as exc:  # damaged, unreadable, or anything unforeseen: retry later
            raise NotSent(f"{type(exc).__name__}: {exc}") from exc

    return send


def upload_pass(
    node: ReplicatedNode,
    now: datetime,
    uploads_at_once: int = UPLOADS_AT_ONCE,
    seconds: float = PASS_SECONDS,
) -> Drained:
    """Upload everything due at `now`: one blob first (a store that is down ends the pass there),
    then `uploads_at_once` at a time until none is due, the store is down or `seconds` passed."""
    local = BlobStore(node.blobs_dir)
    store = open_store(node.store)
    halted = threading.Event()
    send = _sender(local, store, node.node_id, halted)
    with closing(connect_sync(node.database_path)) as conn:
        outbox.reap(conn, BLOB_UPLOAD, now)
        first = outbox.drain(conn, BLOB_UPLOAD, now, send, limit=1)
    if halted.is_set() or first == Drained(0, 0):
        return first
    until = time.monotonic() + seconds
    with ThreadPoolExecutor(uploads_at_once, thread_name_prefix="blob-upload") as threads:
        passes = [
            threads.submit(_drain_until_done, node, now, send, halted, until)
            for _ in range(uploads_at_once)
        ]
        results = [first, *(done.result() for done in passes)]
    return Drained(sum(r.sent for r in results), sum(r.failed for r in results))


def _drain_until_done(
    node: ReplicatedNode, now: datetime, send: Send, halted: threading.Event, until: float
) -> Drained:
    """One upload thread: claim a few due rows at a time on its own connection and send them,
    until none is due (a failed row waits its backoff), the store is down, or time is up."""
    sent = failed = 0
    with closing(connect_sync(node.database_path)) as conn:
        while not halted.is_set() and time.monotonic() < until:
            drained = outbox.drain(conn, BLOB_UPLOAD, now, send, limit=BATCH)
            if drained == Drained(0, 0):
                break
            sent, failed = sent + drained.sent, failed + drained.failed
    return Drained(sent, failed)
