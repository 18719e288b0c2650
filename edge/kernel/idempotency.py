"""Idempotency keys: a retry gets the first result (what it created: kind and id); a key reused
for other content is refused."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from edge.kernel.i18n import gettext as _


class KeyReused(Exception):
    """The key was used before for a different request."""

    def __init__(self) -> None:
        super().__init__(_("这个表单已经提交过不同的内容。请重新打开表单再提交。"))


@dataclass(frozen=True)
class Result:
    """What the first request of a key created, e.g. ("application", its id); the handler
    answers a retry with the page of it, by route name."""

    kind: str
    id: str


def request_hash(content: dict[str, Any]) -> str:
    """A digest of what the request asks for, to tell a true retry from a reused key."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def valid_key(key: str) -> bool:
    """Keys are opaque client tokens of reasonable length."""
    return 16 <= len(key) <= 64 and key.replace("-", "").replace("_", "").isalnum()


async def replay(db: aiosqlite.Connection, key: str, account_id: str, digest: str) -> Result | None:
    """The first result for this key, None if new; KeyReused if the content differs."""
    async with db.execute(
        "SELECT account_id, request_hash, result_kind, result_id FROM idempotency_keys "
        "WHERE key = ?",
        (key,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    if row["account_id"] != account_id or row["request_hash"] != digest:
        raise KeyReused()
    return Result(row["result_kind"], row["result_id"])


async def earlier_result(db: aiosqlite.Connection, key: str, account_id: str) -> Result | None:
    """The first result of `key` for this account, before the request is even parsed."""
    async with db.execute(
        "SELECT result_kind, result_id FROM idempotency_keys WHERE key = ? AND account_id = ?",
        (key, account_id),
    ) as cursor:
        row = await cursor.fetchone()
    return Result(row["result_kind"], row["result_id"]) if row else None


async def remember(
    db: aiosqlite.Connection, key: str, account_id: str, digest: str, result: Result, now: str
) -> None:
    """Record the result of a key, in the same transaction as the change it made."""
    await db.execute(
        "INSERT INTO idempotency_keys "
        "(key, account_id, request_hash, result_kind, result_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (key, account_id, digest, result.kind, result.id, now),
    )
