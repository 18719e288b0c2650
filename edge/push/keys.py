"""The node's VAPID key: public half in vapid_keys, private half a 0600 PEM file under keys/."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid
from py_vapid.utils import b64urlencode
from ulid import ULID

from edge.kernel.key_files import key_path, write_private_key

NEWEST = "SELECT id, public_key FROM vapid_keys ORDER BY created_at DESC, id DESC"


def vapid_dir(keys_dir: Path) -> Path:
    """Where the node's VAPID private keys are kept."""
    return keys_dir / "vapid"


def application_server_key(vapid: Vapid) -> str:
    """The public key as browsers take it: the uncompressed P-256 point, base64url."""
    raw = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64urlencode(raw)


async def node_key(db: aiosqlite.Connection, keys_dir: Path, now: str) -> str:
    """The public key of the node's usable VAPID key, made now if none (or its file is lost)."""
    async with db.execute(NEWEST) as cursor:
        for row in await cursor.fetchall():
            if key_path(vapid_dir(keys_dir), row["id"]).is_file():
                return row["public_key"]
    vapid = Vapid()
    vapid.generate_keys()
    key_id = str(ULID())
    public_key = application_server_key(vapid)
    write_private_key(vapid_dir(keys_dir), key_id, vapid.private_pem())
    await db.execute(
        "INSERT INTO vapid_keys (id, public_key, created_at) VALUES (?, ?, ?)",
        (key_id, public_key, now),
    )
    return public_key


def load_key(conn: sqlite3.Connection, keys_dir: Path) -> Vapid | None:
    """The private key the worker signs with (the newest one on disk), or None if none yet."""
    for row in conn.execute(NEWEST).fetchall():
        path = key_path(vapid_dir(keys_dir), row["id"])
        if path.is_file():
            return Vapid.from_pem(path.read_bytes())
    return None
