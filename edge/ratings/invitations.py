"""Rating invitations: made when an application closes (round 1) or its follow-up closes
(round 2), each with a single-use token for the SMS link `/rate/{token}`."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite
from ulid import ULID

from edge.ratings.tokens import new_token, token_hash


@dataclass(frozen=True)
class Invitation:
    """Who may rate what, and the unit that answers for it (谁办理、谁负责)."""

    application_id: str
    phone: str
    village_code: str
    office_code: str
    office_level: str
    outcome: str
    closed_on: str
    follow_up_days: int
    handled_at: str = "edge"  # 'central': a county step's case, handled by its department there
    round: int = 1
    follow_up_id: str | None = None


def link(base: str, token: str) -> str:
    """The public short link of a token (DESIGN §6b `/rate/{token}`)."""
    return f"{base.rstrip('/')}/rate/{token}"


async def invite(db: aiosqlite.Connection, invitation: Invitation, at: str) -> str:
    """Write the invitation in the caller's transaction; its token (never stored)."""
    token = new_token()
    await db.execute(
        """
        INSERT INTO ratings (id, application_id, round, follow_up_id, token_hash, phone,
            village_code, office_code, office_level, outcome, invited_at, closed_on,
            follow_up_days, handled_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            str(ULID()),
            invitation.application_id,
            invitation.round,
            invitation.follow_up_id,
            token_hash(token),
            invitation.phone,
            invitation.village_code,
            invitation.office_code,
            invitation.office_level,
            invitation.outcome,
            at,
            invitation.closed_on,
            invitation.follow_up_days,
            invitation.handled_at,
        ),
    )
    return token
