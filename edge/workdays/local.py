"""The local calendar date of a moment: clocks give UTC, due dates are local dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_today(moment: datetime, timezone: str) -> date:
    """The date in `timezone` (e.g. "Asia/Shanghai") at the aware `moment`."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(ZoneInfo(timezone)).date()
