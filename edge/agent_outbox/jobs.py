"""The staged photo job of the worker: daily, forget photos sent ahead of applications that
never came."""

from __future__ import annotations

from huey import crontab

from edge.agent_outbox.expiry import forget_stale
from edge.kernel.jobs import Job
from edge.settings import Settings

JOBS: tuple[Job[Settings], ...] = (
    Job("staged_expiry", forget_stale, cron=crontab(hour="3", minute="40")),
)
