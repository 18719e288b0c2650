"""/disclosure/elections at central: every township's candidate publicity running today, the
candidates in full with their roles; an objection goes to the township's own node."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central import nodes
from central.elections import queries
from central.node import central_node
from edge.kernel.templating import render
from edge.workdays.local import local_today


async def election_list(request: Request) -> Response:
    """Running publicities, each with its candidates (two queries)."""
    node = central_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    async with node.db.read() as db:
        rows = await queries.running(db, today)
        people = await queries.candidates(db, today)
        urls = {r["node_id"]: r["base_url"] for r in await nodes.all_nodes(db)}
    by_election: dict[tuple[str, str], list[object]] = {}
    for person in people:
        by_election.setdefault((person["node_id"], person["election_id"]), []).append(person)
    return render(
        request,
        "central/elections/list.html",
        {"elections": rows, "candidates": by_election, "urls": urls},
    )


routes = [
    Route("/disclosure/elections", election_list, methods=["GET"], name="elections:list"),
]
