"""The SMS job of the worker: every tick, and on demand, settle what a stopped worker left in
'sending' (asking the gateway) and send what is due through the gateway the settings name."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime

from edge.kernel import claimers
from edge.kernel.db import connect_sync
from edge.kernel.jobs import Job
from edge.settings import Settings
from edge.sms.gateways import gateway_from
from edge.sms.outbox import drain, reap


def sms_tick(settings: Settings, now: datetime) -> int:
    """One pass: settle rows a stopped worker left, then drain as this process; the number sent."""
    gateway = gateway_from(settings)
    with closing(connect_sync(settings.database_path)) as conn:
        reap(conn, gateway, now, settings.claimers_dir)
        claimer = claimers.this_process(settings.claimers_dir)
        return drain(conn, gateway, now, settings.sms_max_attempts, claimer=claimer)


JOBS: tuple[Job[Settings], ...] = (Job("sms_tick", sms_tick, on_demand=True),)
