"""Photos sent ahead of an application that never came: forgotten after 30 days, files too
(those still waiting for their re-encode as well)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from edge.agent_outbox.received import received_store
from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import stamp
from edge.kernel.db import connect_sync
from edge.settings import Settings

KEEP_DAYS = 30

STALE = "SELECT sha256, thumb_sha256 FROM staged_photos WHERE created_at < ?"
RECEIVED_STALE = "SELECT sent_sha256 FROM received_photos WHERE created_at < ?"
RECEIVED_LEFT = "SELECT 1 FROM received_photos WHERE sent_sha256 = ? LIMIT 1"
STILL_NEEDED = """
SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = :sha)
    OR EXISTS (SELECT 1 FROM staged_photos
               WHERE (sha256 = :sha OR thumb_sha256 = :sha) AND created_at >= :cutoff)
"""


def forget_stale(settings: Settings, now: datetime, keep_days: int = KEEP_DAYS) -> int:
    """Delete staged rows older than `keep_days` and the files only they named; the rows gone.
    A photo attached to an application is a `blobs` row, so its file always stays."""
    cutoff = stamp(now - timedelta(days=keep_days))
    store = BlobStore(settings.blobs_dir)
    conn = connect_sync(settings.database_path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        stale = {sha for row in conn.execute(STALE, (cutoff,)) for sha in row}
        unneeded = [sha for sha in stale if not _needed(conn, sha, cutoff)]
        gone = conn.execute("DELETE FROM staged_photos WHERE created_at < ?", (cutoff,)).rowcount
        received = [row[0] for row in conn.execute(RECEIVED_STALE, (cutoff,))]
        gone += conn.execute("DELETE FROM received_photos WHERE created_at < ?", (cutoff,)).rowcount
        unsent = [sha for sha in set(received) if not _still_received(conn, sha)]
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    for sha in unneeded:  # after COMMIT: a crash here leaves a file, never a dangling row
        store.path(sha).unlink(missing_ok=True)
    for sha in unsent:
        received_store(store).path(sha).unlink(missing_ok=True)
    return gone


def _still_received(conn: sqlite3.Connection, sha: str) -> bool:
    return conn.execute(RECEIVED_LEFT, (sha,)).fetchone() is not None


def _needed(conn: sqlite3.Connection, sha: str, cutoff: str) -> bool:
    return bool(conn.execute(STILL_NEEDED, {"sha": sha, "cutoff": cutoff}).fetchone()[0])
