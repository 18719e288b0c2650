"""A job a feature runs in the node's worker, declared in the feature's `jobs.py`: its name,
what it does given the settings and the time, and when (every worker tick, or on a crontab)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

S = TypeVar("S")


@dataclass(frozen=True)
class Job(Generic[S]):
    """`run(settings, now)` on every tick of the worker (10 s: the outbox drains) or, with
    `cron` (huey's crontab), when it matches; `on_demand` jobs also run when asked (`send_now`)."""

    name: str
    run: Callable[[S, datetime], object]
    cron: Callable[[datetime], bool] | None = None
    on_demand: bool = False
