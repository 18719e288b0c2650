"""What central appends to its own audit log: an officer's read, decision or login, and an
operator's publication; object ids name the node (`node:id`), never personal data."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from edge.audit.log import append
from edge.kernel.auth.account import Account


async def record(
    db: aiosqlite.Connection,
    keys_dir: Path,
    actor: Account | None,
    action: str,
    object_type: str,
    object_id: str,
    at: str,
    result: str = "ok",
) -> None:
    """Append one row in the caller's write transaction (an operator's command: no actor),
    signed with central's identity key in `keys_dir`."""
    await append(
        db,
        keys_dir,
        actor_id=actor.id if actor else None,
        role=actor.role if actor else "operator",
        jurisdiction_code=actor.jurisdiction_code if actor else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        result=result,
        at=at,
    )
