"""The JSON health answer every node gives at /healthz: id, version, schema and facts."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse

from edge import __version__
from edge.kernel.node import node_of


async def health_response(request: Request, node_id: str, facts: dict[str, str]) -> JSONResponse:
    """JSON health of any node: id, version, schema version and one SQL expression per fact."""
    columns = ", ".join(
        ["(SELECT user_version FROM pragma_user_version) AS schema_version"]
        + [f"({sql}) AS {name}" for name, sql in facts.items()]
    )
    body: dict[str, object] = {"node_id": node_id, "version": __version__}
    try:
        async with node_of(request).db.read() as db, db.execute(f"SELECT {columns}") as cursor:
            row = await cursor.fetchone()
        assert row is not None  # a SELECT without FROM yields one row
        body |= {"database_ok": True, **dict(row)}
        status = 200
    except sqlite3.Error:
        body |= {"database_ok": False, "schema_version": None, **dict.fromkeys(facts)}
        status = 503
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
