"""Upload blobs to the replica store: the `blobs` rows are a kind of the kernel outbox, due from
the moment a blob is recorded until `uploaded_at` is set.

Uploads are content-addressed, so sending one twice is harmless; a failed upload waits a
growing backoff (5 s doubling to 10 min, never given up) and is tried again by a later pass
(the worker runs one every 10 s).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta

from edge.kernel import outbox
from edge.kernel.blobstore import BlobStore
from edge.kernel.db import connect_sync
from edge.kernel.outbox import Columns, Drained, NotSent, OutboxKind, Send
from replication.objectstore import ObjectStore, StoreUnavailable, blob_key, open_store, verified
from replication.replicated_node import ReplicatedNode

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


def _sender(local: BlobStore, store: ObjectStore, node_id: str) -> Send:
    def send(row: sqlite3.Row) -> None:
        try:
            upload_one(local, store, node_id, row)
        except (StoreUnavailable, DamagedBlob, OSError) as exc:
            raise NotSent(str(exc), stop=isinstance(exc, StoreUnavailable)) from exc

    return send


def upload_pass(node: ReplicatedNode, now: datetime, limit: int = 50) -> Drained:
    """Upload what is due; a store that is down ends the pass early (the rest waits)."""
    local = BlobStore(node.blobs_dir)
    store = open_store(node.store)
    with closing(connect_sync(node.database_path)) as conn:
        outbox.reap(conn, BLOB_UPLOAD, now)
        return outbox.drain(conn, BLOB_UPLOAD, now, _sender(local, store, node.node_id), limit)
