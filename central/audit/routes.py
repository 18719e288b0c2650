"""`GET /sync/audit-witness`: a node asks what central witnessed of its own audit chain (signed
by its key), so `python -m edge audit verify` can compare its log with the anchor."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from central.feed.routes import node_public_key
from central.node import central_node
from replication import identity

NEWEST = """
SELECT seq, hash FROM {table} WHERE node_id = ? ORDER BY seq DESC, hash LIMIT 1
"""


async def witness(request: Request) -> Response:
    """The newest row central copied of the node's chain and the newest head it published."""
    fields = identity.parse_authorization(request.headers.get("authorization", ""))
    node_id = request.query_params.get("node", "")
    if fields is None or fields["node"] != node_id:
        return JSONResponse({"error": "a request signed by the node is required"}, 401)
    target = f"{request.url.path}?{request.url.query}"
    now = int(central_node(request).clock().timestamp())
    found: dict[str, list[list[object]]] = {}
    async with central_node(request).db.read() as db:
        public_key = await node_public_key(db, node_id, fields["key"])
        if public_key is None or not identity.signature_holds(
            public_key, fields, "GET", target, now
        ):
            return JSONResponse({"error": "unknown key or bad signature"}, 401)
        for name, table in (("rows", "edge_audit_log"), ("heads", "audit_heads")):
            async with db.execute(NEWEST.format(table=table), (node_id,)) as cursor:
                found[name] = [[row["seq"], row["hash"]] for row in await cursor.fetchall()]
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


routes = [Route("/sync/audit-witness", witness, methods=["GET"], name="audit:witness")]
