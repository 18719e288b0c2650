"""The signed-in account: the record both nodes' sessions carry, and its lookup by phone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True)
class Account:
    """A signed-in person."""

    id: str
    phone: str
    name: str
    role: str
    jurisdiction_code: str
    department_code: str | None
    active: bool

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Account:
        """Build from a row of `accounts`."""
        return cls(
            row["id"],
            row["phone"],
            row["name"],
            row["role"],
            row["jurisdiction_code"],
            row["department_code"],
            bool(row["active"]),
        )


# What a node records of a login attempt (edge: its audit log); arguments: the transaction,
# the account row (None for an unknown phone or an attempt never checked), the result ("ok",
# "failed", "locked", "busy": N checks of the phone were running), the time.
LoginRecorder = Callable[[aiosqlite.Connection, aiosqlite.Row | None, str, str], Awaitable[None]]


async def by_phone(db: aiosqlite.Connection, phone: str) -> aiosqlite.Row | None:
    """The account row (with its password hash) for a phone number."""
    async with db.execute("SELECT * FROM accounts WHERE phone = ?", (phone,)) as cursor:
        return await cursor.fetchone()
