"""/agent/ and /staff/: who I am, where I work and what I can do from here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edge.auth.access import require
from edge.jurisdictions import queries as places
from edge.templating import render

STAFF_ROLES = ("township_staff", "officer", "supervisor")


async def _landing(request: Request, template: str, *roles: str) -> Response:
    account = require(request, *roles)
    async with request.app.state.db.read() as db:
        place = await places.get(db, account.jurisdiction_code)
        async with db.execute(
            "SELECT name_zh, name_en FROM departments WHERE code = ?",
            (account.department_code or "",),
        ) as cursor:
            department = await cursor.fetchone()
    return render(request, template, {"place": place, "department": department})


async def agent_home(request: Request) -> Response:
    """The village agent's start page."""
    return await _landing(request, "edge/workspace/agent.html", "agent")


async def staff_home(request: Request) -> Response:
    """The start page of township staff, department officers and supervisors."""
    return await _landing(request, "edge/workspace/staff.html", *STAFF_ROLES)


routes = [
    Route("/agent/", agent_home, methods=["GET"]),
    Route("/staff/", staff_home, methods=["GET"]),
]
