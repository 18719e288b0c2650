"""The node's worker: drain the SMS and push outboxes and upload blobs every 10 s, scan deadlines,
forget photos sent ahead of applications that never came (daily).

huey may lose a task; the outbox rows are the durable intent, so a lost task only delays.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from huey import SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.consumer import Consumer

from edge.kernel.clock import Clock, system_clock
from edge.kernel.db import Database, connect_sync
from edge.kernel.outbox import reap
from edge.outbox.expiry import forget_stale
from edge.push.sender import push_tick
from edge.settings import Settings
from edge.sms.gateways import Gateway, gateway_from
from edge.sms.outbox import SMS, drain
from edge.supervision.deadlines import scan
from replication.blob_upload import upload_pass

log = logging.getLogger(__name__)

TICK_SECONDS = 10


def tick(settings: Settings, gateway: Gateway, now: datetime) -> int:
    """One pass of the worker: re-queue stuck rows, then drain; the number sent."""
    conn = connect_sync(settings.database_path)
    try:
        reap(conn, SMS, now)
        return drain(conn, gateway, now, settings.sms_max_attempts)
    finally:
        conn.close()


async def deadline_scan(settings: Settings, now: datetime) -> int:
    """Queue reminders for yellow and red cards (state-based, so a missed run loses nothing)."""
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            return await scan(conn, now, settings.timezone, settings.warning_working_days)
    finally:
        await db.close()


class SmsHuey(SqliteHuey):
    """huey on the node's queue file; `send_now()` asks for a drain (enqueue after COMMIT)."""

    send_now: TaskWrapper
    tick: TaskWrapper
    schedule_ticks: TaskWrapper
    deadlines: TaskWrapper
    blob_tick: TaskWrapper
    push_tick: TaskWrapper
    staged_expiry: TaskWrapper


def make_huey(settings: Settings, clock: Clock = system_clock) -> SmsHuey:
    """The huey app of a node: SMS and push drains every 10 s, `send_now`, deadlines per 15 min."""
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    queue = SmsHuey("cunban-sms", results=False, filename=str(settings.queue_path))
    gateway = gateway_from(settings)

    def sms_tick() -> int:
        return tick(settings, gateway, clock())

    def sms_schedule_ticks() -> None:
        # huey's periodic tasks fire once a minute: spread six ticks over it
        for delay in range(0, 60, TICK_SECONDS):
            queue.tick.schedule(delay=delay, expires=delay + TICK_SECONDS)
            queue.blob_tick.schedule(delay=delay, expires=delay + TICK_SECONDS)
            queue.push_tick.schedule(delay=delay, expires=delay + TICK_SECONDS)

    queue.tick = queue.task(name="sms_tick")(sms_tick)
    queue.blob_tick = queue.task(name="blob_upload_tick")(
        lambda: upload_pass(settings, clock()).sent
    )
    queue.push_tick = queue.task(name="push_tick")(lambda: push_tick(settings, clock()))
    queue.send_now = queue.task(name="sms_send_now", expires=60)(sms_tick)
    queue.schedule_ticks = queue.periodic_task(crontab(), name="sms_schedule_ticks")(
        sms_schedule_ticks
    )
    queue.deadlines = queue.periodic_task(crontab(minute="*/15"), name="deadline_scan")(
        lambda: asyncio.run(deadline_scan(settings, clock()))
    )
    queue.staged_expiry = queue.periodic_task(crontab(hour="3", minute="40"), name="staged_expiry")(
        lambda: forget_stale(settings, clock())
    )
    return queue


def run_worker(settings: Settings) -> None:
    """Run the huey consumer in this process (one worker, periodic tasks on) until stopped."""
    queue = make_huey(settings)
    queue.schedule_ticks()  # start draining now, not at the next whole minute
    Consumer(queue, workers=1, periodic=True).run()
