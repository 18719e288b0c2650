"""The JSON health answer every node gives at /healthz: id, version, schema and facts, and
whether the data folder can still be written (free bytes against the node's minimum)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse

from edge import __version__
from edge.kernel.node import node_of
from edge.kernel.storage_probe import free_bytes, write_refused


async def health_response(
    request: Request, node_id: str, facts: dict[str, str], required: tuple[str, ...] = ()
) -> JSONResponse:
    """JSON health of any node: id, version, schema version and one SQL expression per fact;
    503 (not ok) when the database or the storage fails, or a `required` fact is false."""
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
        body |= {name: bool(body[name]) for name in required}
        status = 200 if all(body[name] for name in required) else 503
    except sqlite3.Error:
        body |= {"database_ok": False, "schema_version": None, **dict.fromkeys(facts)}
        status = 503
    storage = await storage_health(request)
    body |= storage
    if storage["storage_ok"] is False:
        status = 503
    body["ok"] = status == 200
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def storage_health(request: Request) -> dict[str, object]:
    """The data folder's free bytes, the minimum this node wants, whether a real small write
    there succeeds (and why not), and `storage_ok`: writable with at least the minimum free."""
    node = node_of(request)
    folder: Path = node.db.path.parent
    minimum = node.settings.web.min_free_mb * 1024 * 1024
    refusal = await asyncio.to_thread(write_refused, folder)
    free = await asyncio.to_thread(free_bytes, folder)
    return {
        "free_bytes": free,
        "min_free_bytes": minimum,
        "writable": refusal is None,
        "write_error": refusal,
        "storage_ok": refusal is None and free >= minimum,
    }
