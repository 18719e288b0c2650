"""`GET /sync/commands`: a node pulls its own commands after its cursor, signed by its own key."""

from __future__ import annotations

import json

import aiosqlite
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from central.feed import queries
from central.node import central_node
from replication import identity


def _refuse(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def node_public_key(db: aiosqlite.Connection, node_id: str, key_id: str) -> str | None:
    """The node's public key as ingested from its replica (never from the request)."""
    async with db.execute(
        "SELECT public_key FROM edge_node_identity WHERE node_id = ? AND key_id = ?",
        (node_id, key_id),
    ) as cursor:
        row = await cursor.fetchone()
    return row["public_key"] if row else None


def _window(request: Request, page_limit: int) -> tuple[int, int] | None:
    try:
        after = int(request.query_params.get("after", "0"))
        limit = min(int(request.query_params.get("limit", str(page_limit))), page_limit)
    except ValueError:
        return None
    return (after, limit) if after >= 0 and limit > 0 else None


async def commands(request: Request) -> Response:
    """The requesting node's next page of commands; 401 unless signed by that node's key,
    within the time window, with a nonce not used before."""
    fields = identity.parse_authorization(request.headers.get("authorization", ""))
    node_id = request.query_params.get("node", "")
    if fields is None or fields["node"] != node_id:
        return _refuse(401, "a request signed by the node is required")
    window = _window(request, central_node(request).settings.feed_page)
    if window is None:
        return _refuse(400, "after and limit must be whole numbers")
    target = f"{request.url.path}?{request.url.query}"
    now = int(central_node(request).clock().timestamp())
    async with central_node(request).db.write() as db:
        public_key = await node_public_key(db, node_id, fields["key"])
        if public_key is None or not identity.signature_holds(
            public_key, fields, "GET", target, now
        ):
            return _refuse(401, "unknown key or bad signature")
        if not await queries.first_use(db, node_id, fields["nonce"], now):
            return _refuse(401, "this signed request was already used")
        page = await queries.page(db, node_id, window[0], window[1] + 1)
    more = len(page) > window[1]
    body = json.dumps({"commands": page[: window[1]]}, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={"X-Cunban-More": "1" if more else "0", "Cache-Control": "no-store"},
    )


routes = [Route("/sync/commands", commands, methods=["GET"], name="feed:commands")]
