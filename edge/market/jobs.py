"""The market's worker job: every 15 minutes, text each seller whose listing ends within 3
days, once per listing and end date (state-based, so a stopped worker catches up)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import aiosqlite
from huey import crontab

from edge.kernel.db import Database
from edge.kernel.i18n import format_date, in_locale
from edge.kernel.jobs import Job
from edge.market import queries
from edge.market.sms_reply import NOTICE_DAYS, SELLER_LOCALE
from edge.settings import Settings
from edge.sms.outbox import enqueue
from edge.workdays.local import local_today


async def remind(db: aiosqlite.Connection, now: datetime, timezone: str) -> int:
    """Queue the reminder of every listing ending today to NOTICE_DAYS ahead not reminded of
    this end date yet; how many were queued."""
    today = local_today(now, timezone)
    queued = 0
    for row in await queries.expiring(db, today, today + timedelta(days=NOTICE_DAYS)):
        with in_locale(SELLER_LOCALE):
            day = format_date(row["available_until"], "short")
        sent = await enqueue(
            db,
            phone=row["phone"],
            template="market_expiring",
            params={"item": row["product"], "date": day},
            locale=SELLER_LOCALE,
            now=now,
            dedupe_key=f"market-expiring:{row['id']}:{row['available_until']}",
        )
        queued += sent is not None
    return queued


async def market_expiry(settings: Settings, now: datetime) -> int:
    """The reminders, in one write transaction."""
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            return await remind(conn, now, settings.web.timezone)
    finally:
        await db.close()


def run_market_expiry(settings: Settings, now: datetime) -> int:
    """The reminders, from the worker's thread."""
    return asyncio.run(market_expiry(settings, now))


JOBS: tuple[Job[Settings], ...] = (
    Job("market_expiry", run_market_expiry, cron=crontab(minute="*/15")),
)
