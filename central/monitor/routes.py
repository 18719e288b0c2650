"""/nodes (the replication monitor page) and /nodes.json (the same figures for monitoring tools)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from central.monitor import probe, queries
from central.monitor.status import NodeStatus, as_json, epoch_ms, iso_of_ms, node_status
from central.node import central_node
from edge.kernel.auth.access import require
from edge.kernel.i18n import lazy_gettext
from edge.kernel.templating import render

ROLE = "central_admin"

FOLLOWER_LABELS = {
    "starting": lazy_gettext("启动中"),
    "following": lazy_gettext("跟随中"),
    "backoff": lazy_gettext("等待重试"),
    "stopped": lazy_gettext("已停止"),
}
HEALTH_LABELS = {
    "ok": lazy_gettext("正常"),
    "unhealthy": lazy_gettext("自检异常"),
    "unreachable": lazy_gettext("无法连接"),
}
NO_STORE = {"Cache-Control": "no-store"}
BLOB_BACKLOG_LIMIT_MS = 30_000  # photos older than this not yet in the store show red


async def statuses(request: Request) -> tuple[datetime, list[NodeStatus]]:
    """(now, every node's status): two queries, then all edges probed at once."""
    node = central_node(request)
    now = node.clock()
    now_ms = epoch_ms(now)
    async with node.db.read() as db:
        rows = await queries.node_rows(db)
        lags = await queries.recent_lags(db)
    health = await probe.edge_health({row["node_id"]: row["base_url"] for row in rows})
    silent_after = node.settings.silent_after_seconds
    return now, [
        node_status(row, lags.get(row["node_id"], []), health[row["node_id"]], now_ms, silent_after)
        for row in rows
    ]


async def nodes_page(request: Request) -> Response:
    """The monitor table; under htmx only the table fragment is rendered."""
    require(request, ROLE)
    now, nodes = await statuses(request)
    zone = ZoneInfo(central_node(request).settings.web.timezone)
    context = {
        "nodes": nodes,
        "silent_after": central_node(request).settings.silent_after_seconds,
        "checked_at": now.astimezone(zone).strftime("%H:%M:%S"),
        "silent_count": sum(node.silent for node in nodes),
        "follower_labels": FOLLOWER_LABELS,
        "health_labels": HEALTH_LABELS,
        "blob_backlog_limit_ms": BLOB_BACKLOG_LIMIT_MS,
    }
    response = render(
        request, "central/monitor/nodes.html", context, fragment="central/monitor/_table.html"
    )
    response.headers.update(NO_STORE)
    return response


async def nodes_json(request: Request) -> JSONResponse:
    """The same figures as JSON: stable keys, ms and KB, booleans, ISO 8601 times."""
    require(request, ROLE)
    now, nodes = await statuses(request)
    body = {
        "generated_at": iso_of_ms(epoch_ms(now)),
        "silent_after_ms": central_node(request).settings.silent_after_seconds * 1000,
        "lag_window": queries.LAG_WINDOW,
        "nodes": [as_json(node) for node in nodes],
    }
    return JSONResponse(body, headers=NO_STORE)


routes = [
    Route("/nodes", nodes_page, methods=["GET"], name="monitor:nodes"),
    Route("/nodes.json", nodes_json, methods=["GET"], name="monitor:nodes_json"),
]
