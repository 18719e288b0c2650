"""Pure figures of the monitor: lag percentiles, silence, and one NodeStatus per node."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

# What the edge's own /healthz said: answered 200, answered an error, or did not answer.
HEALTH_STATES = ("ok", "unhealthy", "unreachable")


@dataclass(frozen=True)
class NodeStatus:
    """Everything the monitor shows about one township node; times in ms since the epoch."""

    node_id: str
    township_code: str
    township_zh: str
    township_en: str
    county_zh: str
    county_en: str
    base_url: str
    silent: bool
    beat_ms: int | None
    beat_age_ms: int | None
    feed_pulled_ms: int | None
    feed_pulled_age_ms: int | None
    feed_error: str
    lag_last_ms: int | None
    lag_p50_ms: int | None
    lag_p95_ms: int | None
    lag_samples: int
    follower_state: str | None
    follower_pid: int | None
    follower_restarts: int
    follower_started_ms: int | None
    follower_rss_kb: int | None
    follower_error: str
    follower_updated_ms: int | None
    replica_generation: int | None
    mirror_state: str
    mirror_good_ms: int | None
    mirror_good_age_ms: int | None
    last_sent_seq: int | None
    last_sent_at: str | None
    last_applied_seq: int | None
    last_applied_at: str | None
    commands_waiting: int
    commands_refused: int
    blobs_waiting: int
    oldest_blob_waiting_at: str | None
    blob_backlog_ms: int | None
    edge_health: str
    audit_state: str  # unchecked, ok, or diverged from central's witness (red)
    audit_problems: str


def epoch_ms(moment: datetime) -> int:
    """A moment as milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def iso_of_ms(ms: int | None) -> str | None:
    """Milliseconds since the epoch as ISO 8601 UTC with milliseconds, or None."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def percentile(values: Sequence[int], percent: int) -> int | None:
    """The nearest-rank `percent` percentile: the smallest value with that share at or below it."""
    if not values:
        return None
    rank = -(-percent * len(values) // 100)  # ceil, in integers
    return sorted(values)[max(rank, 1) - 1]


def age(ms: int | None, now_ms: int) -> int | None:
    """How long ago `ms` was (never negative), or None."""
    return None if ms is None else max(0, now_ms - ms)


def since(iso: str | None, now_ms: int) -> int | None:
    """How long ago an ISO 8601 time was, in ms (never negative), or None."""
    return None if iso is None else age(epoch_ms(datetime.fromisoformat(iso)), now_ms)


def is_silent(beat_ms: int | None, now_ms: int, silent_after_seconds: int) -> bool:
    """Whether a node's newest heartbeat is missing or older than the threshold."""
    return beat_ms is None or now_ms - beat_ms > silent_after_seconds * 1000


def node_status(
    row: sqlite3.Row,
    lags: Sequence[int],
    health: str,
    now_ms: int,
    silent_after_seconds: int,
) -> NodeStatus:
    """Build one node's status from its query row and its newest lags (newest first)."""
    beat_ms = row["beat_ms"]
    return NodeStatus(
        node_id=row["node_id"],
        township_code=row["township_code"],
        township_zh=row["township_zh"],
        township_en=row["township_en"],
        county_zh=row["county_zh"],
        county_en=row["county_en"],
        base_url=row["base_url"],
        silent=is_silent(beat_ms, now_ms, silent_after_seconds),
        beat_ms=beat_ms,
        beat_age_ms=age(beat_ms, now_ms),
        feed_pulled_ms=row["feed_pulled_ms"],
        feed_pulled_age_ms=age(row["feed_pulled_ms"], now_ms),
        feed_error=row["feed_error"] or "",
        lag_last_ms=lags[0] if lags else None,
        lag_p50_ms=percentile(lags, 50),
        lag_p95_ms=percentile(lags, 95),
        lag_samples=len(lags),
        follower_state=row["follower_state"],
        follower_pid=row["follower_pid"],
        follower_restarts=row["follower_restarts"] or 0,
        follower_started_ms=row["follower_started_ms"],
        follower_rss_kb=row["follower_rss_kb"],
        follower_error=row["follower_error"] or "",
        follower_updated_ms=row["follower_updated_ms"],
        replica_generation=row["replica_generation"],
        mirror_state=row["mirror_state"] or "unchecked",
        mirror_good_ms=row["mirror_good_ms"],
        mirror_good_age_ms=age(row["mirror_good_ms"], now_ms),
        last_sent_seq=row["last_sent_seq"],
        last_sent_at=row["last_sent_at"],
        last_applied_seq=row["last_applied_seq"],
        last_applied_at=row["last_applied_at"],
        commands_waiting=row["commands_waiting"],
        commands_refused=row["commands_refused"],
        blobs_waiting=row["blobs_waiting"],
        oldest_blob_waiting_at=row["oldest_blob_waiting_at"],
        blob_backlog_ms=since(row["oldest_blob_waiting_at"], now_ms),
        edge_health=health,
        audit_state=row["audit_state"] or "unchecked",
        audit_problems=row["audit_problems"] or "",
    )


def as_json(status: NodeStatus) -> dict[str, Any]:
    """The stable JSON shape of one node: durations in ms, memory in KB, times as ISO 8601."""
    fields = asdict(status)
    for name in ("beat", "feed_pulled", "follower_started", "follower_updated", "mirror_good"):
        fields[f"{name}_at"] = iso_of_ms(fields.pop(f"{name}_ms"))
    return dict(sorted(fields.items()))
