"""The Context of a change made through a web request: actor, clock, working days, key folder."""

from __future__ import annotations

import aiosqlite
from starlette.requests import Request

from edge.applications.lifecycle import Context
from edge.kernel.auth.account import Account
from edge.kernel.data_version import memo_for
from edge.node import edge_node
from edge.workdays.local import local_today
from edge.workdays.working_days import WorkingDays, load_working_days


async def working_days_for(request: Request, db: aiosqlite.Connection) -> WorkingDays:
    """The working days as this node counts them today (read once per database version and
    day: the calendar changes only by a commit)."""
    node = edge_node(request)
    memo = memo_for(node.db)
    version = memo.version()
    now, timezone = node.clock(), node.settings.web.timezone
    key = ("working_days", local_today(now, timezone), timezone, node.settings.warning_working_days)
    kept = memo.get(key)
    if isinstance(kept, WorkingDays):
        return kept
    days = await load_working_days(db, now, timezone, node.settings.warning_working_days)
    memo.keep(version, key, days)
    return days


async def context_for(request: Request, db: aiosqlite.Connection, actor: Account) -> Context:
    """Everything lifecycle functions need, read inside the caller's transaction; on a node
    connected to central, county steps are decided there, not in a request here."""
    node = edge_node(request)
    return Context(
        actor,
        node.clock(),
        await working_days_for(request, db),
        node.settings.keys_dir,
        county_steps_here=not node.settings.central_url,
        public_base=node.settings.web.public_base,
        follow_up_working_days=node.settings.follow_up_working_days,
        county_follow_ups_at_central=bool(node.settings.central_url),
    )
