"""The feedback deadline scan job of the worker: every 15 minutes (escalation.scan)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from huey import crontab

from edge.feedback.escalation import scan
from edge.kernel.db import Database
from edge.kernel.jobs import Job
from edge.settings import Settings


async def feedback_scan(settings: Settings, now: datetime) -> int:
    """Remind staff of cards and escalate long-red items."""
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            return await scan(conn, now, settings.web.timezone, settings.warning_working_days)
    finally:
        await db.close()


def run_feedback_scan(settings: Settings, now: datetime) -> int:
    """The scan, from the worker's thread."""
    return asyncio.run(feedback_scan(settings, now))


JOBS: tuple[Job[Settings], ...] = (
    Job("feedback_scan", run_feedback_scan, cron=crontab(minute="*/15")),
)
