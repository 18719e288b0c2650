"""The push outbox: a kind of the kernel outbox, one row per device of the person to notify.

A device whose subscription is gone ends its rows in the state 'gone'; other failures back off
like SMS (2, 4, 8 ... minutes, at most an hour) and fail for good after six attempts.
"""

from __future__ import annotations

from datetime import timedelta

from edge.kernel.outbox import OutboxKind

PUSH = OutboxKind(
    name="push",
    table="push_outbox",
    first_wait=timedelta(minutes=2),
    max_wait=timedelta(minutes=60),
    max_attempts=6,
)
