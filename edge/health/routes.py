"""/healthz as JSON for monitors and central."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from edge import __version__


async def health_response(request: Request, node_id: str, facts: dict[str, str]) -> JSONResponse:
    """JSON health of any node: id, version, schema version and one SQL expression per fact."""
    columns = ", ".join(
        ["(SELECT user_version FROM pragma_user_version) AS schema_version"]
        + [f"({sql}) AS {name}" for name, sql in facts.items()]
    )
    body: dict[str, object] = {"node_id": node_id, "version": __version__}
    try:
        async with request.app.state.db.read() as db, db.execute(f"SELECT {columns}") as cursor:
            row = await cursor.fetchone()
        body |= {"database_ok": True, **dict(row)}
        status = 200
    except sqlite3.Error:
        body |= {"database_ok": False, "schema_version": None, **dict.fromkeys(facts)}
        status = 503
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def healthz(request: Request) -> JSONResponse:
    """Node id, version, database, schema and catalog versions, queues, heartbeat and feed."""
    return await health_response(
        request,
        request.app.state.settings.node_id,
        {
            "catalog_version": "SELECT version FROM catalog_meta",
            "sms_queued": "SELECT count(*) FROM sms_outbox WHERE state = 'queued'",
            "blob_upload_backlog": "SELECT count(*) FROM blobs WHERE uploaded_at IS NULL",
            "heartbeat_ms": "SELECT beat_ms FROM heartbeat",
            "feed_pulled_ms": "SELECT feed_pulled_ms FROM heartbeat",
            "feed_cursor": "SELECT coalesce(max(seq), 0) FROM applied_commands",
        },
    )


routes = [Route("/healthz", healthz, methods=["GET"])]
