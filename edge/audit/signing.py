"""Audit rows signed with the node's identity key (Ed25519, replication/identity.py): a row
appended behind the app's back, its hash chain recomputed, lacks a signature only the holder
of the key file makes. The signature covers the row's hash, which covers every field."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import aiosqlite

from edge.kernel.key_files import key_path
from edge.kernel.signatures import ALGORITHMS
from replication.identity import ALGORITHM, ensure_key

FORMAT = "cunban-audit-1"

_private_keys: dict[Path, bytes] = {}  # a key file never changes once written: read it once


def message(key_id: str, digest: str) -> bytes:
    """What a row's signature covers: the format, the key that signs, the row's hash."""
    return f"{FORMAT}\n{key_id}\n{digest}".encode("ascii")


def _private_pem(keys_dir: Path, key_id: str) -> bytes:
    path = key_path(keys_dir, key_id)
    if path not in _private_keys:
        _private_keys[path] = path.read_bytes()
    return _private_keys[path]


async def sign(
    db: aiosqlite.Connection, keys_dir: Path, key_ids: list[str], digest: str, at: str
) -> tuple[str, str]:
    """(key id, base64 signature) of a row's hash, with the newest of the node's identity keys
    (`key_ids`, newest first) whose file is here; made if none is, in the caller's transaction."""
    held = [key_id for key_id in key_ids if key_path(keys_dir, key_id).is_file()]
    key_id = held[0] if held else await ensure_key(db, keys_dir, at)
    signature = ALGORITHMS[ALGORITHM].sign(_private_pem(keys_dir, key_id), message(key_id, digest))
    return key_id, base64.b64encode(signature).decode("ascii")


def holds(public_key: str, key_id: str, digest: str, signature: str) -> bool:
    """Whether `signature` over the row's hash was made by `key_id`'s private key."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return ALGORITHMS[ALGORITHM].verify(public_key, message(key_id, digest), raw)
