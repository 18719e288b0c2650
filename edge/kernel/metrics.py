"""/metrics in Prometheus text format for either node: requests counted and timed by route
template (never the raw path, which carries tracking codes and ids), plus the node's own
gauges read from its database at each scrape; behind a bearer token (none set: 404)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel import access_log
from edge.kernel.node import node_of

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """One node's request counters and latency histogram, in a registry of its own (two apps
    in one process, as in tests, never share counts)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "cunban_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cunban_http_request_duration_seconds",
            "Time to the end of the response, by route template",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )


def request_metrics(connection: HTTPConnection) -> RequestMetrics:
    """The metrics of the node serving this request."""
    metrics: RequestMetrics = connection.app.state.metrics
    return metrics


class MetricsMiddleware:
    """Counts and times every HTTP request under the template of the route that served it."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = _template(scope)
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            seconds = time.perf_counter() - started
            self.metrics.latency.labels(route, method).observe(seconds)
            access_log.record(method, route, status, seconds)


def _template(scope: Scope) -> str:
    """The route's path template (`/track/{code}`), or `unmatched` (404s are not one series
    per path a scanner tried)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return "unmatched"


@dataclass(frozen=True)
class GaugeQuery:
    """A gauge read at each scrape: SQL whose rows are the label values then the value."""

    name: str
    help: str
    sql: str
    labels: Sequence[str] = ()


class _Snapshot(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self.families


async def metrics_response(
    request: Request,
    token: str,
    gauges: Sequence[GaugeQuery],
    params: Mapping[str, object] | None = None,
) -> Response:
    """The scrape: 404 when no token is set, 401 without the right bearer token, else the
    request metrics and the gauges (one SQL statement each, given `params`)."""
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return PlainTextResponse(
            "Unauthorized", status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
        )
    families = []
    async with node_of(request).db.read() as db:
        for gauge in gauges:
            family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
            async with db.execute(gauge.sql, dict(params or {})) as cursor:
                for row in await cursor.fetchall():
                    *labels, value = tuple(row)
                    family.add_metric([str(label) for label in labels], float(value or 0))
            families.append(family)
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Snapshot(families))
    body = generate_latest(request_metrics(request).registry) + generate_latest(snapshot)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
