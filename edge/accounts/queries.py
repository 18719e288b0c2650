"""Accounts in SQL: fetch, list within a jurisdiction, create and update."""

from __future__ import annotations

import aiosqlite
from ulid import ULID

from edge.jurisdictions.codes import prefix_of
from edge.kernel.auth.account import Account


async def by_id_within(
    db: aiosqlite.Connection, account_id: str, jurisdiction: str
) -> aiosqlite.Row | None:
    """An account, only if it lies inside `jurisdiction`."""
    async with db.execute(
        "SELECT * FROM accounts WHERE id = ? AND jurisdiction_code LIKE ? || '%'",
        (account_id, prefix_of(jurisdiction)),
    ) as cursor:
        return await cursor.fetchone()


async def list_within(db: aiosqlite.Connection, jurisdiction: str) -> list[aiosqlite.Row]:
    """Every account inside `jurisdiction`, with jurisdiction names."""
    async with db.execute(
        """
        SELECT a.id, a.phone, a.name, a.role, a.department_code, a.active,
               j.name_zh AS place_zh, j.name_en AS place_en
        FROM accounts a JOIN jurisdictions j ON j.code = a.jurisdiction_code
        WHERE a.jurisdiction_code LIKE ? || '%'
        ORDER BY a.role, a.jurisdiction_code, a.name
        """,
        (prefix_of(jurisdiction),),
    ) as cursor:
        return list(await cursor.fetchall())


async def create(
    db: aiosqlite.Connection,
    *,
    phone: str,
    name: str,
    role: str,
    jurisdiction_code: str,
    department_code: str | None,
    password_hash: str,
    now: str,
) -> str:
    """Insert an account; return its new ULID."""
    account_id = str(ULID())
    await db.execute(
        """
        INSERT INTO accounts (id, phone, name, role, jurisdiction_code, department_code,
            password_hash, active, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
        """,
        (
            account_id,
            phone,
            name,
            role,
            jurisdiction_code,
            department_code,
            password_hash,
            now,
            now,
        ),
    )
    return account_id


async def update(
    db: aiosqlite.Connection,
    account_id: str,
    *,
    name: str,
    role: str,
    jurisdiction_code: str,
    department_code: str | None,
    active: bool,
    now: str,
) -> None:
    """Change an account's profile (not its phone or password)."""
    await db.execute(
        """
        UPDATE accounts SET name = ?, role = ?, jurisdiction_code = ?, department_code = ?,
            active = ?, updated_at = ?
        WHERE id = ?
        """,
        (name, role, jurisdiction_code, department_code, int(active), now, account_id),
    )


async def set_password(
    db: aiosqlite.Connection, account_id: str, password_hash: str, now: str
) -> None:
    """Replace an account's password hash."""
    await db.execute(
        "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?",
        (password_hash, now, account_id),
    )


async def placement(db: aiosqlite.Connection, account: Account) -> aiosqlite.Row | None:
    """The account's jurisdiction and department names, for landing pages."""
    async with db.execute(
        """
        SELECT j.name_zh AS place_zh, j.name_en AS place_en,
               d.name_zh AS department_zh, d.name_en AS department_en
        FROM jurisdictions j LEFT JOIN departments d ON d.code = ?
        WHERE j.code = ?
        """,
        (account.department_code, account.jurisdiction_code),
    ) as cursor:
        return await cursor.fetchone()
