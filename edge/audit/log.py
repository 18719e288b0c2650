"""Append one audit row: who, role, jurisdiction, action, object, result, time; chained by hash
and signed with the node's identity key (edge/audit/signing.py).

Object ids and results are ids and codes, never names, ID numbers or phones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import aiosqlite

from edge.audit.signing import sign
from edge.kernel.auth.account import LoginRecorder
from replication.identity import ALGORITHM

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


# Where the chain stands and the node's signing keys, in one query: an audit write sits on
# pages with a query budget (tests/test_budgets.py).
TAIL = """
WITH last AS (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1)
SELECT (SELECT seq FROM last) AS seq, (SELECT hash FROM last) AS hash,
    (SELECT json_group_array(json_array(created_at, key_id)) FROM node_identity
        WHERE algorithm = ?) AS keys
"""


async def _tail(db: aiosqlite.Connection) -> tuple[int, str, list[str]]:
    """The last row's seq and hash (0 and GENESIS for an empty log) and the node's signing
    key ids, newest first."""
    async with db.execute(TAIL, (ALGORITHM,)) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # a SELECT without FROM always gives one row
    keys = [key_id for _, key_id in sorted(json.loads(row["keys"]), reverse=True)]
    return (row["seq"] or 0, row["hash"] or GENESIS, keys)


async def append(
    db: aiosqlite.Connection,
    keys_dir: Path,
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
    """Add a row inside the caller's write transaction (BEGIN IMMEDIATE), signed with the key
    in `keys_dir`; return its hash."""
    if not db.in_transaction:
        raise RuntimeError("audit.append must run inside the caller's write transaction")
    last_seq, prev_hash, key_ids = await _tail(db)
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
    key_id, signature = await sign(db, keys_dir, key_ids, digest, at)
    await db.execute(
        """
        INSERT INTO audit_log (seq, at, actor_id, role, jurisdiction_code, action, object_type,
            object_id, result, prev_hash, hash, key_id, signature)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (*(fields[name] for name in FIELDS), prev_hash, digest, key_id, signature),
    )
    return digest


def login_recorder(keys_dir: Path) -> LoginRecorder:
    """How a node records login attempts: rows signed with the key in `keys_dir`."""

    async def record_login(
        db: aiosqlite.Connection, row: aiosqlite.Row | None, result: str, at: str
    ) -> None:
        """A login attempt in the audit log; an unknown phone is recorded without the number."""
        await append(
            db,
            keys_dir,
            actor_id=row["id"] if row else None,
            role=row["role"] if row else "unknown",
            jurisdiction_code=row["jurisdiction_code"] if row else "",
            action="login",
            object_type="account",
            object_id=row["id"] if row else "",
            result=result,
            at=at,
        )

    return record_login
