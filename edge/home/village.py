"""Which village a public page is about: `?village=` if given, else the remembered choice."""

from __future__ import annotations

import aiosqlite
from starlette.requests import Request

from edge.jurisdictions import queries as places
from edge.node import edge_node

VILLAGE_COOKIE = "cb_village"


async def chosen_village(request: Request, db: aiosqlite.Connection) -> aiosqlite.Row | None:
    """The village of this township the visitor asked for or chose before; None if neither."""
    code = request.query_params.get("village") or request.cookies.get(VILLAGE_COOKIE, "")
    if not (len(code) == 12 and code.isdigit()):
        return None
    village = await places.get(db, code)
    township = edge_node(request).settings.township_code
    if village is None or village["parent_code"] != township:
        return None
    return village
