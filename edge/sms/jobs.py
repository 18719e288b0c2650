"""The SMS job of the worker: every tick, and on demand, re-queue stuck messages and send what
is due through the gateway the settings name."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime

from edge.kernel.db import connect_sync
from edge.kernel.jobs import Job
from edge.kernel.outbox import reap
from edge.settings import Settings
from edge.sms.gateways import gateway_from
from edge.sms.outbox import SMS, drain


def sms_tick(settings: Settings, now: datetime) -> int:
    """One pass: re-queue stuck rows, then drain; the number sent."""
    with closing(connect_sync(settings.database_path)) as conn:
        reap(conn, SMS, now)
        return drain(conn, gateway_from(settings), now, settings.sms_max_attempts)


JOBS: tuple[Job[Settings], ...] = (Job("sms_tick", sms_tick, on_demand=True),)
