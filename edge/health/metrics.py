"""The edge's /metrics: request metrics plus outbox depths, replication and feed state,
open steps and cards, follow-ups and ratings; counts only, never a person."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from edge.kernel.metrics import GaugeQuery, metrics_response
from edge.node import edge_node
from edge.workdays.local import local_today

GAUGES = (
    GaugeQuery(
        "cunban_outbox_pending",
        "Side effects written but not yet done (queued or being sent), by outbox",
        "SELECT 'sms', count(*) FROM sms_outbox WHERE state IN ('queued', 'sending') "
        "UNION ALL SELECT 'push', count(*) FROM push_outbox WHERE state IN ('queued', 'sending') "
        "UNION ALL SELECT 'blob_upload', count(*) FROM blobs "
        "WHERE upload_state IN ('queued', 'sending')",
        ("outbox",),
    ),
    GaugeQuery(
        "cunban_outbox_failed",
        "Side effects given up after their attempts, by outbox",
        "SELECT 'sms', count(*) FROM sms_outbox WHERE state = 'failed' "
        "UNION ALL SELECT 'push', count(*) FROM push_outbox WHERE state = 'failed'",
        ("outbox",),
    ),
    GaugeQuery(
        "cunban_replica_state",
        "The last restore drill's finding (1 for the current state)",
        "SELECT state, 1 FROM replica_health",
        ("state",),
    ),
    GaugeQuery(
        "cunban_replica_good_timestamp_seconds",
        "When the replica last restored clean (replication lag: time() minus this)",
        "SELECT coalesce(good_ms, 0) / 1000.0 FROM replica_health",
    ),
    GaugeQuery(
        "cunban_heartbeat_timestamp_seconds",
        "When sync last wrote the heartbeat",
        "SELECT coalesce(max(beat_ms), 0) / 1000.0 FROM heartbeat",
    ),
    GaugeQuery(
        "cunban_feed_pulled_timestamp_seconds",
        "When sync last pulled central's command feed",
        "SELECT coalesce(max(feed_pulled_ms), 0) / 1000.0 FROM heartbeat",
    ),
    GaugeQuery(
        "cunban_feed_cursor",
        "The newest feed command applied (its sequence number at central)",
        "SELECT coalesce(max(seq), 0) FROM applied_commands",
    ),
    GaugeQuery(
        "cunban_steps_open",
        "Steps waiting for a decision, by level and card (red: overdue, none: in time)",
        "SELECT level, CASE WHEN due_on < :today THEN 'red' ELSE 'none' END AS card, count(*) "
        "FROM steps WHERE status = 'active' GROUP BY level, card",
        ("level", "card"),
    ),
    GaugeQuery(
        "cunban_follow_ups_open",
        "Bad-rating follow-up cases open, by card (red: overdue)",
        "SELECT CASE WHEN due_on < :today THEN 'red' ELSE 'none' END AS card, count(*) "
        "FROM follow_ups WHERE status = 'open' GROUP BY card",
        ("card",),
    ),
    GaugeQuery(
        "cunban_ratings",
        "Ratings (好差评) by level 1-5 and 'none' for invitations not yet answered",
        "SELECT coalesce(CAST(level AS TEXT), 'none') AS level, count(*) FROM ratings "
        "GROUP BY level",
        ("level",),
    ),
)


async def metrics(request: Request) -> Response:
    """Prometheus text format, behind `CUNBAN_METRICS_TOKEN`."""
    node = edge_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    return await metrics_response(
        request, node.settings.web.metrics_token, GAUGES, {"today": today.isoformat()}
    )
