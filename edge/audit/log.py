"""Append one audit row: who, role, jurisdiction, action, object, result, time; chained by hash.

Object ids and results are ids and codes, never names, ID numbers or phones.
"""

from __future__ import annotations

import hashlib
import json

import aiosqlite

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "at",
    "actor_id",
    "role",
    "jurisdiction_code",
    "action",
    "object_type",
    "object_id",
    "result",
)


def row_hash(prev_hash: str, fields: dict[str, object]) -> str:
    """sha256 of the previous hash and a canonical JSON array of the row's fields."""
    encoded = json.dumps(
        [prev_hash, *(fields[name] for name in FIELDS)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


async def _last(db: aiosqlite.Connection) -> tuple[int, str]:
    async with db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") as cursor:
        row = await cursor.fetchone()
    return (row["seq"], row["hash"]) if row else (0, GENESIS)


async def append(
    db: aiosqlite.Connection,
    *,
    actor_id: str | None,
    role: str,
    jurisdiction_code: str,
    action: str,
    object_type: str,
    object_id: str,
    result: str,
    at: str,
) -> str:
    """Add a row inside the caller's write transaction (BEGIN IMMEDIATE); return its hash."""
    if not db.in_transaction:
        raise RuntimeError("audit.append must run inside the caller's write transaction")
    last_seq, prev_hash = await _last(db)
    fields: dict[str, object] = {
        "seq": last_seq + 1,
        "at": at,
        "actor_id": actor_id,
        "role": role,
        "jurisdiction_code": jurisdiction_code,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "result": result,
    }
    digest = row_hash(prev_hash, fields)
    await db.execute(
        """
        INSERT INTO audit_log (seq, at, actor_id, role, jurisdiction_code, action, object_type,
            object_id, result, prev_hash, hash)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (*(fields[name] for name in FIELDS), prev_hash, digest),
    )
    return digest


async def record_login(
    db: aiosqlite.Connection, row: aiosqlite.Row | None, result: str, at: str
) -> None:
    """A login attempt in the audit log; an unknown phone is recorded without the number."""
    await append(
        db,
        actor_id=row["id"] if row else None,
        role=row["role"] if row else "unknown",
        jurisdiction_code=row["jurisdiction_code"] if row else "",
        action="login",
        object_type="account",
        object_id=row["id"] if row else "",
        result=result,
        at=at,
    )
