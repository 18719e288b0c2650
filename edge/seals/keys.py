"""Office signing keys: public halves in seal_keys, private halves as 0600 PEM files."""

from __future__ import annotations

import os
from pathlib import Path

import aiosqlite
from ulid import ULID

from edge.seals.algorithms import ALGORITHMS


def key_path(keys_dir: Path, key_id: str) -> Path:
    """Where the private key of `key_id` is kept."""
    return keys_dir / f"{key_id}.pem"


def write_private_key(keys_dir: Path, key_id: str, private_pem: bytes) -> None:
    """Write the PEM atomically (temp file, fsync, rename), readable by the owner only."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = key_path(keys_dir, key_id)
    temporary = target.with_suffix(".pem.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, private_pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, target)
    directory = os.open(keys_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


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
