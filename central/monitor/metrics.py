"""Central's /metrics: request metrics plus, per township, its follower, replication lag,
feed backlog, open steps and ratings as ingested; counts only, never a person."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from central.node import central_node
from edge.kernel.metrics import GaugeQuery, metrics_response
from edge.workdays.local import local_today

GAUGES = (
    GaugeQuery(
        "cunban_follower_state",
        "Each node's replica follower (1 for its current state)",
        "SELECT node_id, state, 1 FROM followers",
        ("node", "state"),
    ),
    GaugeQuery(
        "cunban_follower_restarts",
        "Restarts of each node's follower since central started following it",
        "SELECT node_id, restarts FROM followers",
        ("node",),
    ),
    GaugeQuery(
        "cunban_follower_rss_bytes",
        "Memory of each node's follower (litestream restore -f)",
        "SELECT node_id, coalesce(rss_kb, 0) * 1024 FROM followers",
        ("node",),
    ),
    GaugeQuery(
        "cunban_node_heartbeat_timestamp_seconds",
        "The newest heartbeat of each node ingested (silence: time() minus this)",
        "SELECT node_id, max(beat_ms) / 1000.0 FROM lag_samples GROUP BY node_id",
        ("node",),
    ),
    GaugeQuery(
        "cunban_replication_lag_seconds",
        "Replication lag of each node's newest heartbeat: written at the edge to ingested here",
        "SELECT node_id, (ingested_ms - beat_ms) / 1000.0 FROM lag_samples AS s "
        "WHERE beat_ms = (SELECT max(beat_ms) FROM lag_samples WHERE node_id = s.node_id)",
        ("node",),
    ),
    GaugeQuery(
        "cunban_feed_backlog",
        "Commands in each node's feed it has not reported applied yet",
        "SELECT n.node_id, (SELECT count(*) FROM commands AS c WHERE c.node_id = n.node_id "
        "AND NOT EXISTS (SELECT 1 FROM edge_applied_commands AS a "
        "WHERE a.node_id = c.node_id AND a.id = c.id)) FROM nodes AS n",
        ("node",),
    ),
    GaugeQuery(
        "cunban_steps_open",
        "Steps waiting for a decision in each township, by level and card (red: overdue)",
        "SELECT node_id, level, CASE WHEN due_on < :today THEN 'red' ELSE 'none' END AS card, "
        "count(*) FROM edge_steps WHERE status = 'active' GROUP BY node_id, level, card",
        ("node", "level", "card"),
    ),
    GaugeQuery(
        "cunban_ratings",
        "Ratings (好差评) of each township by level 1-5, 'none' not yet answered",
        "SELECT node_id, coalesce(CAST(level AS TEXT), 'none') AS lvl, count(*) "
        "FROM edge_ratings GROUP BY node_id, lvl",
        ("node", "level"),
    ),
)


async def metrics(request: Request) -> Response:
    """Prometheus text format, behind `CUNBAN_CENTRAL_METRICS_TOKEN`."""
    node = central_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    return await metrics_response(
        request, node.settings.web.metrics_token, GAUGES, {"today": today.isoformat()}
    )
