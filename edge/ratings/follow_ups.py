"""Follow-up cases (整改) of bad ratings: open with a deadline in working days, verify,
rectify or explain, call back (回访) and close; the applicant is then invited to rate the fix."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite
from ulid import ULID

from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.ratings import invitations
from edge.sms.outbox import enqueue as enqueue_sms
from edge.workdays.working_days import WorkingDays

REMEDIES = ("rectified", "explained")
CALLBACK_RESULTS = ("satisfied", "accepted", "unsatisfied", "unreachable")
RESIDENT_LOCALE = "zh_Hans"


class FollowUpRefused(Exception):
    """An action out of order (a call-back before the remedy) or on a closed case."""


async def open_for(db: aiosqlite.Connection, rating: Any, days: WorkingDays, at: str) -> str:
    """Open the follow-up of a bad rating, owned by the rating's unit, due in its working
    days from today."""
    follow_up_id = str(ULID())
    today = days.today
    await db.execute(
        """
        INSERT INTO follow_ups (id, rating_id, application_id, village_code, office_code,
            office_level, opened_at, opened_on, due_on, handled_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            follow_up_id,
            rating["id"],
            rating["application_id"],
            rating["village_code"],
            rating["office_code"],
            rating["office_level"],
            at,
            today.isoformat(),
            days.due(today, rating["follow_up_days"]).isoformat(),
            rating["handled_at"],
        ),
    )
    return follow_up_id


async def reopen(db: aiosqlite.Connection, follow_up_id: str) -> None:
    """A rating changed back to 差评 within 24 hours: its dropped case is open again."""
    await db.execute("UPDATE follow_ups SET status = 'open' WHERE id = ?", (follow_up_id,))


async def drop_untouched(db: aiosqlite.Connection, follow_up: Any) -> None:
    """A rating changed away from 差评: its case is dropped if nobody has acted on it."""
    if follow_up["verified_at"] is None:
        await db.execute(
            "UPDATE follow_ups SET status = 'dismissed' WHERE id = ?", (follow_up["id"],)
        )


def _open(follow_up: Any) -> None:
    if follow_up["status"] != "open":
        raise FollowUpRefused(_("这个整改件已经办结。"))


async def verify(db: aiosqlite.Connection, follow_up: Any, note: str, by: str, at: str) -> None:
    """核实: what was found about the complaint."""
    _open(follow_up)
    await db.execute(
        "UPDATE follow_ups SET verified_note = ?, verified_by = ?, verified_at = ? WHERE id = ?",
        (note, by, at, follow_up["id"]),
    )


async def remedy(
    db: aiosqlite.Connection, follow_up: Any, kind: str, note: str, by: str, at: str
) -> None:
    """整改 or 说明: what was put right, or why the service was right."""
    _open(follow_up)
    if follow_up["verified_at"] is None:
        raise FollowUpRefused(_("请先记录核实情况。"))
    await db.execute(
        "UPDATE follow_ups SET remedy = ?, remedy_note = ?, remedy_by = ?, remedy_at = ? "
        "WHERE id = ?",
        (kind, note, by, at, follow_up["id"]),
    )


async def call_back(
    db: aiosqlite.Connection,
    follow_up: Any,
    result: str,
    note: str,
    by: str,
    days: WorkingDays,
    at: str,
) -> None:
    """回访: the applicant was called; the case closes (in time or not)."""
    _open(follow_up)
    if follow_up["remedy_at"] is None:
        raise FollowUpRefused(_("请先记录整改或说明情况。"))
    closed_on = days.today.isoformat()
    await db.execute(
        """
        UPDATE follow_ups SET callback_result = ?, callback_note = ?, callback_by = ?,
            callback_at = ?, status = 'closed', closed_on = ?, closed_in_time = ? WHERE id = ?
        """,
        (result, note, by, at, closed_on, int(closed_on <= follow_up["due_on"]), follow_up["id"]),
    )


async def invite_to_rate_fix(
    db: aiosqlite.Connection, follow_up: Any, rating: Any, *, base: str, item: str, now: datetime
) -> None:
    """Round 2: the applicant may rate the fix once more (only after a round-1 case)."""
    if rating["round"] != 1:
        return
    token = await invitations.invite(
        db,
        invitations.Invitation(
            application_id=rating["application_id"],
            phone=rating["phone"],
            village_code=rating["village_code"],
            office_code=rating["office_code"],
            office_level=rating["office_level"],
            outcome=rating["outcome"],
            closed_on=rating["closed_on"],
            follow_up_days=rating["follow_up_days"],
            handled_at=rating["handled_at"],
            round=2,
            follow_up_id=follow_up["id"],
        ),
        stamp(now),
    )
    params = {"item": item, "link": invitations.link(base, token) if base else ""}
    await enqueue_sms(
        db,
        phone=rating["phone"],
        template="rate_fix",
        params=params,
        locale=RESIDENT_LOCALE,
        now=now,
        application_id=rating["application_id"],
    )
