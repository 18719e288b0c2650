"""Office signing keys: public halves in seal_keys, private halves as 0600 PEM files."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
from ulid import ULID

from edge.kernel.key_files import key_path, write_private_key
from edge.kernel.signatures import ALGORITHMS


async def _newest(db: aiosqlite.Connection, office: str, algorithm: str) -> str | None:
    async with db.execute(
        """
        SELECT id FROM seal_keys WHERE office = ? AND algorithm = ?
        ORDER BY created_at DESC, id DESC LIMIT 1
        """,
        (office, algorithm),
    ) as cursor:
        row = await cursor.fetchone()
    return row["id"] if row else None


async def office_key(
    db: aiosqlite.Connection, keys_dir: Path, office: str, algorithm: str, now: str
) -> str:
    """The id of the office's newest usable key, made now if none (or its private file is lost)."""
    newest = await _newest(db, office, algorithm)
    if newest is not None and key_path(keys_dir, newest).is_file():
        return newest
    private_pem, public_text = ALGORITHMS[algorithm].generate()
    key_id = str(ULID())
    write_private_key(keys_dir, key_id, private_pem)
    await db.execute(
        """
        INSERT INTO seal_keys (id, office, algorithm, public_key, created_at)
        VALUES (?, ?, ?, ?, ?)
        """,
        (key_id, office, algorithm, public_text, now),
    )
    return key_id


async def public_keys(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    """Every public key this node has used, oldest first."""
    async with db.execute(
        "SELECT id, office, algorithm, public_key, created_at FROM seal_keys "
        "ORDER BY created_at, id"
    ) as cursor:
        return list(await cursor.fetchall())
