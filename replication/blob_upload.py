"""Upload blobs to the replica store: the `blobs` rows with no `uploaded_at` are the outbox.

Uploads are content-addressed, so sending one twice is harmless; a failed upload waits a
growing backoff and is tried again by the next pass (the worker runs one every 10 s).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import stamp
from edge.kernel.db import connect_sync
from replication.objectstore import ObjectStore, StoreUnavailable, blob_key, open_store, verified
from replication.replicated_node import ReplicatedNode

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)


class DamagedBlob(RuntimeError):
    """A local blob's bytes no longer hash to its name."""


@dataclass(frozen=True)
class UploadPass:
    """What one pass did."""

    uploaded: int
    failed: int


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 5, 10, 20 ... seconds, at most 10 minutes."""
    return min(timedelta(seconds=5 * 2 ** min(attempts - 1, 8)), MAX_BACKOFF)


def due(conn: sqlite3.Connection, now: datetime, limit: int) -> list[sqlite3.Row]:
    """Blobs not yet in the store whose next attempt is due, oldest first."""
    return conn.execute(
        """
        SELECT sha256, content_type, upload_attempts FROM blobs
        WHERE uploaded_at IS NULL AND (upload_next_at IS NULL OR upload_next_at <= ?)
        ORDER BY created_at, sha256 LIMIT ?
        """,
        (stamp(now), limit),
    ).fetchall()


def backlog(conn: sqlite3.Connection) -> int:
    """How many blobs wait for upload."""
    return conn.execute("SELECT count(*) FROM blobs WHERE uploaded_at IS NULL").fetchone()[0]


def upload_one(
    conn: sqlite3.Connection,
    local: BlobStore,
    store: ObjectStore,
    node_id: str,
    row: sqlite3.Row,
    now: datetime,
) -> None:
    """Upload one blob after checking its bytes still hash to its name; record it uploaded."""
    sha256 = row["sha256"]
    data = verified(local.read(sha256), sha256)
    if data is None:
        raise DamagedBlob(f"local blob {sha256[:12]} is damaged; not uploading it")
    store.put(blob_key(node_id, sha256), data, row["content_type"])
    conn.execute(
        "UPDATE blobs SET uploaded_at = ?, upload_error = '' WHERE sha256 = ?", (stamp(now), sha256)
    )


def _record_failure(conn: sqlite3.Connection, row: sqlite3.Row, now: datetime, error: str) -> None:
    attempts = row["upload_attempts"] + 1
    conn.execute(
        """
        UPDATE blobs SET upload_attempts = ?, upload_next_at = ?, upload_error = ?
        WHERE sha256 = ?
        """,
        (attempts, stamp(now + backoff(attempts)), error[:200], row["sha256"]),
    )


def upload_pass(node: ReplicatedNode, now: datetime, limit: int = 50) -> UploadPass:
    """Upload what is due; a store that is down ends the pass early (the rest waits)."""
    conn = connect_sync(node.database_path)
    local = BlobStore(node.blobs_dir)
    store = open_store(node.store)
    uploaded = failed = 0
    try:
        for row in due(conn, now, limit):
            try:
                upload_one(conn, local, store, node.node_id, row, now)
                uploaded += 1
            except (StoreUnavailable, DamagedBlob, OSError) as exc:
                failed += 1
                _record_failure(conn, row, now, str(exc))
                log.warning("blob %s not uploaded: %s", row["sha256"][:12], exc)
                if isinstance(exc, StoreUnavailable):
                    break
        return UploadPass(uploaded, failed)
    finally:
        conn.close()
