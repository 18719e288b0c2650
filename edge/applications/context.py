"""The Context of a change made through a web request: actor, clock, calendar, key folder."""

from __future__ import annotations

import aiosqlite
from starlette.requests import Request

from edge.applications.calendar import WorkCalendar, load_calendar
from edge.applications.lifecycle import Context
from edge.kernel.auth.account import Account
from edge.node import edge_node


async def calendar_for(request: Request, db: aiosqlite.Connection) -> WorkCalendar:
    """Today's working-day calendar for this node."""
    node = edge_node(request)
    return await load_calendar(
        db, node.clock(), node.settings.web.timezone, node.settings.warning_working_days
    )


async def context_for(request: Request, db: aiosqlite.Connection, actor: Account) -> Context:
    """Everything lifecycle functions need, read inside the caller's transaction; on a node
    connected to central, county steps are decided there, not in a request here."""
    node = edge_node(request)
    return Context(
        actor,
        node.clock(),
        await calendar_for(request, db),
        node.settings.keys_dir,
        county_steps_here=not node.settings.central_url,
    )
