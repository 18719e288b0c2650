"""Rotate a node's identity key: the new key is introduced in the audit log by a row the
current key signs, so verifiers trust it (edge/audit/signers.py); audit rows and feed requests
are signed with it from then on. `python -m edge audit rotate-key` (central: the same)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
from ulid import ULID

from edge.audit.log import append
from edge.audit.signers import KEY_OBJECT, ROTATE
from edge.kernel.clock import stamp, system_clock
from edge.kernel.db import Database
from edge.kernel.key_files import key_path
from replication.identity import add_key, ensure_key


async def rotate_key(db: aiosqlite.Connection, keys_dir: Path, at: str) -> tuple[str, str]:
    """(old, new) key ids, in the caller's write transaction: the row introducing the new key
    is signed by the current one (made if the node has none), then the new key is recorded."""
    old = await ensure_key(db, keys_dir, at)
    new = str(ULID())
    await append(
        db,
        keys_dir,
        actor_id=None,
        role="operator",
        jurisdiction_code="",
        action=ROTATE,
        object_type=KEY_OBJECT,
        object_id=new,
        result="ok",
        at=at,
    )
    await add_key(db, keys_dir, at, key_id=new)
    return old, new


async def _rotate(database_path: Path, keys_dir: Path, replicated: bool) -> tuple[str, str]:
    db = Database(database_path, replicated=replicated)
    await db.open()
    try:
        async with db.write() as conn:
            return await rotate_key(conn, keys_dir, stamp(system_clock()))
    finally:
        await db.close()


def main(database_path: Path, keys_dir: Path, *, replicated: bool = True) -> int:
    """Rotate the key of the node whose database this is; print both key ids."""
    if not database_path.is_file():
        print(f"key NOT rotated: no database at {database_path}")
        return 1
    old, new = asyncio.run(_rotate(database_path, keys_dir, replicated))
    print(f"identity key rotated: {old} -> {new}, introduced by an audit row {old} signed")
    print(f"the old key's file ({key_path(keys_dir, old)}) is no longer used and may be archived")
    return 0
