"""The push job of the worker: every tick, re-queue stuck pushes and send what is due."""

from __future__ import annotations

from edge.kernel.jobs import Job
from edge.push.sender import push_tick
from edge.settings import Settings

JOBS: tuple[Job[Settings], ...] = (Job("push_tick", push_tick),)
