"""The deadline scan job of the worker: every 15 minutes, remind staff of yellow and red cards."""

from __future__ import annotations

import asyncio
from datetime import datetime

from huey import crontab

from edge.kernel.db import Database
from edge.kernel.jobs import Job
from edge.settings import Settings
from edge.supervision.deadlines import scan


async def deadline_scan(settings: Settings, now: datetime) -> int:
    """Queue reminders for yellow and red cards (state-based, so a missed run loses nothing)."""
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            return await scan(
                conn,
                now,
                settings.web.timezone,
                settings.warning_working_days,
                county_at_central=bool(settings.central_url),
            )
    finally:
        await db.close()


def run_deadline_scan(settings: Settings, now: datetime) -> int:
    """The scan, from the worker's thread."""
    return asyncio.run(deadline_scan(settings, now))


JOBS: tuple[Job[Settings], ...] = (
    Job("deadline_scan", run_deadline_scan, cron=crontab(minute="*/15")),
)
