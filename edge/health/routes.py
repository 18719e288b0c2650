"""/healthz as JSON for monitors and central."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from edge.health.metrics import metrics
from edge.kernel.health import health_response
from edge.node import edge_node


async def healthz(request: Request) -> JSONResponse:
    """Node id, version, database, schema and catalog versions, queues, heartbeat, feed and the
    replica's last restore drill; 503 when the replica is corrupt or not yet verified."""
    return await health_response(
        request,
        edge_node(request).settings.node_id,
        {
            "catalog_version": "SELECT version FROM catalog_meta",
            "sms_queued": "SELECT count(*) FROM sms_outbox WHERE state = 'queued'",
            "blob_upload_backlog": "SELECT count(*) FROM blobs WHERE uploaded_at IS NULL",
            "heartbeat_ms": "SELECT beat_ms FROM heartbeat",
            "feed_pulled_ms": "SELECT feed_pulled_ms FROM heartbeat",
            "feed_cursor": "SELECT coalesce(max(seq), 0) FROM applied_commands",
            "replica_state": "SELECT state FROM replica_health",
            "replica_generation": "SELECT generation FROM replica_health",
            "replica_checked_ms": "SELECT checked_ms FROM replica_health",
            "replica_good_ms": "SELECT good_ms FROM replica_health",
            "replica_error": "SELECT error FROM replica_health",
            # a replica that failed its drill, or a new one not yet verified, cannot be trusted
            "replica_ok": "SELECT state NOT IN ('corrupt', 'healing') FROM replica_health",
        },
        required=("replica_ok",),
    )


routes = [
    Route("/healthz", healthz, methods=["GET"], name="health:healthz"),
    Route("/metrics", metrics, methods=["GET"], name="health:metrics"),
]
