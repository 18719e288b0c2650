"""The Context of a change made through a web request: actor, clock, calendar, key folder."""

from __future__ import annotations

import aiosqlite
from starlette.requests import Request

from edge.accounts.queries import Account
from edge.applications.calendar import WorkCalendar, load_calendar
from edge.applications.lifecycle import Context


async def calendar_for(request: Request, db: aiosqlite.Connection) -> WorkCalendar:
    """Today's working-day calendar for this node."""
    state = request.app.state
    return await load_calendar(
        db, state.clock(), state.settings.timezone, state.settings.warning_working_days
    )


async def context_for(request: Request, db: aiosqlite.Connection, actor: Account) -> Context:
    """Everything lifecycle functions need, read inside the caller's transaction."""
    state = request.app.state
    return Context(actor, state.clock(), await calendar_for(request, db), state.settings.keys_dir)
