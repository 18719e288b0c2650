"""SQL of the replication monitor: every node's figures in two queries, whatever the node count."""

from __future__ import annotations

import aiosqlite

LAG_WINDOW = 100  # lag percentiles are taken over each node's newest samples

# One row per node. SQLite takes the bare columns of a max() aggregate from the row that holds
# the maximum: the newest heartbeat's feed fields, the newest applied command's time.
NODES_SQL = """
WITH beat AS (
    SELECT node_id, max(beat_ms) AS beat_ms, feed_pulled_ms, feed_error,
        ingested_ms AS beat_ingested_ms
    FROM edge_heartbeat GROUP BY node_id
), sent AS (
    SELECT node_id, max(seq) AS last_sent_seq, created_at AS last_sent_at
    FROM commands GROUP BY node_id
), applied AS (
    SELECT node_id, max(seq) AS last_applied_seq, applied_at AS last_applied_at,
        total(result = 'refused') AS commands_refused
    FROM edge_applied_commands GROUP BY node_id
), waiting AS (
    SELECT c.node_id, count(*) AS commands_waiting FROM commands c
    WHERE NOT EXISTS (
        SELECT 1 FROM edge_applied_commands a WHERE a.node_id = c.node_id AND a.id = c.id
    )
    GROUP BY c.node_id
), blobs AS (
    SELECT node_id, count(*) AS blobs_waiting, min(created_at) AS oldest_blob_waiting_at
    FROM edge_blobs WHERE uploaded_at IS NULL GROUP BY node_id
)
SELECT n.node_id, n.township_code, n.township_zh, n.township_en, n.county_zh, n.county_en,
    n.base_url,
    beat.beat_ms, beat.feed_pulled_ms, beat.feed_error, beat.beat_ingested_ms,
    f.state AS follower_state, f.pid AS follower_pid, f.restarts AS follower_restarts,
    f.started_ms AS follower_started_ms, f.rss_kb AS follower_rss_kb,
    f.last_error AS follower_error, f.updated_ms AS follower_updated_ms,
    f.replica_generation, f.mirror_state, f.mirror_good_ms,
    sent.last_sent_seq, sent.last_sent_at,
    applied.last_applied_seq, applied.last_applied_at,
    CAST(coalesce(applied.commands_refused, 0) AS INTEGER) AS commands_refused,
    coalesce(waiting.commands_waiting, 0) AS commands_waiting,
    coalesce(blobs.blobs_waiting, 0) AS blobs_waiting, blobs.oldest_blob_waiting_at,
    audit.state AS audit_state, audit.problems AS audit_problems
FROM nodes n
LEFT JOIN beat USING (node_id)
LEFT JOIN followers f USING (node_id)
LEFT JOIN sent USING (node_id)
LEFT JOIN applied USING (node_id)
LEFT JOIN waiting USING (node_id)
LEFT JOIN blobs USING (node_id)
LEFT JOIN audit_checks audit USING (node_id)
ORDER BY n.township_code
"""

LAGS_SQL = """
SELECT node_id, ingested_ms - beat_ms AS lag_ms FROM (
    SELECT node_id, beat_ms, ingested_ms,
        row_number() OVER (PARTITION BY node_id ORDER BY beat_ms DESC) AS newest
    FROM lag_samples
)
WHERE newest <= ?
ORDER BY node_id, beat_ms DESC
"""


async def node_rows(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    """Every registered node with its heartbeat, follower, feed and blob figures."""
    async with db.execute(NODES_SQL) as cursor:
        return list(await cursor.fetchall())


async def recent_lags(db: aiosqlite.Connection, window: int = LAG_WINDOW) -> dict[str, list[int]]:
    """Each node's replication lags in ms over its `window` newest samples, newest first."""
    lags: dict[str, list[int]] = {}
    async with db.execute(LAGS_SQL, (window,)) as cursor:
        async for row in cursor:
            lags.setdefault(row["node_id"], []).append(row["lag_ms"])
    return lags
