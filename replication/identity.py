"""The node's identity: an Ed25519 key pair that signs its feed requests to central.

The private key is a file in data_dir/keys (never replicated); the public key is a row of
`node_identity`, so central learns it from the replica and no secret is ever shared.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import aiosqlite
from ulid import ULID

from edge.kernel.key_files import key_path, write_private_key
from edge.kernel.signatures import ALGORITHMS

ALGORITHM = "ed25519"
SCHEME = "CunbanNode"
MAX_SKEW_SECONDS = 300
MAX_NONCE = 64


async def ensure_key(db: aiosqlite.Connection, keys_dir: Path, now: str) -> str:
    """The id of this node's signing key; made (and its public half recorded) if missing."""
    async with db.execute(
        "SELECT key_id FROM node_identity WHERE algorithm = ? ORDER BY created_at DESC",
        (ALGORITHM,),
    ) as cursor:
        for row in await cursor.fetchall():
            if key_path(keys_dir, row["key_id"]).is_file():
                return row["key_id"]
    return await add_key(db, keys_dir, now)


async def add_key(
    db: aiosqlite.Connection, keys_dir: Path, now: str, key_id: str | None = None
) -> str:
    """A new key pair (its id `key_id` if given): its private half a file in `keys_dir`, its
    public half a row of `node_identity` (in the caller's transaction); newest, so what signs
    from now on."""
    private_pem, public_text = ALGORITHMS[ALGORITHM].generate()
    key_id = key_id or str(ULID())
    write_private_key(keys_dir, key_id, private_pem)
    await db.execute(
        "INSERT INTO node_identity (key_id, algorithm, public_key, created_at) VALUES (?, ?, ?, ?)",
        (key_id, ALGORITHM, public_text, now),
    )
    return key_id


def request_message(node_id: str, method: str, target: str, timestamp: int, nonce: str) -> bytes:
    """What a feed request signs: who, what, when, and a nonce used once (no replay)."""
    return f"{node_id}\n{method.upper()}\n{target}\n{timestamp}\n{nonce}".encode()


def authorization(
    keys_dir: Path,
    node_id: str,
    key_id: str,
    method: str,
    target: str,
    timestamp: int | None = None,
) -> str:
    """The Authorization header value for a request to `target` (path and query)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = str(ULID())
    message = request_message(node_id, method, target, timestamp, nonce)
    signature = ALGORITHMS[ALGORITHM].sign(key_path(keys_dir, key_id).read_bytes(), message)
    encoded = base64.urlsafe_b64encode(signature).decode("ascii")
    return f"{SCHEME} node={node_id},key={key_id},ts={timestamp},nonce={nonce},sig={encoded}"


def parse_authorization(header: str) -> dict[str, str] | None:
    """The fields of a CunbanNode Authorization header, or None if it is not one."""
    scheme, _, rest = header.partition(" ")
    if scheme != SCHEME:
        return None
    fields = dict(part.partition("=")[::2] for part in rest.split(","))
    if not all(fields.get(name) for name in ("node", "key", "ts", "nonce", "sig")):
        return None
    if len(fields["nonce"]) > MAX_NONCE:
        return None
    return fields


def signature_holds(
    public_key: str, fields: dict[str, str], method: str, target: str, now: int
) -> bool:
    """Whether the header was signed by `public_key` for this request, within the allowed skew."""
    try:
        timestamp = int(fields["ts"])
        signature = base64.urlsafe_b64decode(fields["sig"])
    except ValueError:
        return False
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        return False
    message = request_message(fields["node"], method, target, timestamp, fields["nonce"])
    return ALGORITHMS[ALGORITHM].verify(public_key, message, signature)
