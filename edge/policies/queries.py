"""SQL for benefit policies: current and archived lists, one policy, writes and feed copies."""

from __future__ import annotations

from datetime import date
from typing import Any

import aiosqlite
from ulid import ULID

from replication.feed.commands import CityPolicy

COLUMNS = (
    "title",
    "issuer",
    "eligibility",
    "amount",
    "how_to_apply",
    "item_code",
    "valid_from",
    "valid_to",
)


async def current(db: aiosqlite.Connection, today: date, limit: int = 100) -> list[aiosqlite.Row]:
    """Policies in force on `today`, newest first."""
    async with db.execute(
        """
        SELECT * FROM policies
        WHERE valid_from <= :today AND (valid_to IS NULL OR valid_to >= :today)
        ORDER BY valid_from DESC, created_at DESC LIMIT :limit
        """,
        {"today": today.isoformat(), "limit": limit},
    ) as cursor:
        return list(await cursor.fetchall())


async def archived(db: aiosqlite.Connection, today: date) -> list[aiosqlite.Row]:
    """Policies that expired before `today`, most recently expired first."""
    async with db.execute(
        "SELECT * FROM policies WHERE valid_to < ? ORDER BY valid_to DESC LIMIT 200",
        (today.isoformat(),),
    ) as cursor:
        return list(await cursor.fetchall())


async def get(db: aiosqlite.Connection, policy_id: str) -> aiosqlite.Row | None:
    """One policy by id."""
    async with db.execute("SELECT * FROM policies WHERE id = ?", (policy_id,)) as cursor:
        return await cursor.fetchone()


async def create(
    db: aiosqlite.Connection, values: dict[str, Any], scope_code: str, by: str, now: str
) -> str:
    """A township policy written at this node; returns its id."""
    policy_id = str(ULID())
    await db.execute(
        f"""
        INSERT INTO policies (id, origin, scope_code, {", ".join(COLUMNS)},
            created_by, created_at, updated_at)
        VALUES (?, 'township', ?, {", ".join("?" * len(COLUMNS))}, ?, ?, ?)
        """,
        (policy_id, scope_code, *(values[c] for c in COLUMNS), by, now, now),
    )
    return policy_id


async def keep_city_policy(
    db: aiosqlite.Connection, policy: CityPolicy, city_code: str, now: str
) -> None:
    """Store (or refresh) the copy of a city-wide policy central published."""
    values = {
        "title": policy.title,
        "issuer": policy.issuer,
        "eligibility": policy.eligibility,
        "amount": policy.amount,
        "how_to_apply": policy.how_to_apply,
        "item_code": policy.item_code,
        "valid_from": policy.valid_from.isoformat(),
        "valid_to": None if policy.valid_to is None else policy.valid_to.isoformat(),
    }
    await db.execute(
        f"""
        INSERT INTO policies (id, origin, scope_code, {", ".join(COLUMNS)},
            created_by, created_at, updated_at)
        VALUES (?, 'central', ?, {", ".join("?" * len(COLUMNS))}, NULL, ?, ?)
        ON CONFLICT (id) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in COLUMNS)},
            updated_at = excluded.updated_at
        WHERE policies.origin = 'central'
        """,
        (policy.id, city_code, *values.values(), policy.published_at, now),
    )
