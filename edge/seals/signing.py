"""Seal a decision or village certificate, and check a seal against its office's public key.

The signature covers a canonical JSON envelope: the payload as given plus the seal's id, kind,
office, application, key, algorithm and time, so none of them can be edited unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
from ulid import ULID

from edge.kernel.key_files import key_path
from edge.kernel.signatures import ALGORITHMS, DEFAULT_ALGORITHM
from edge.seals.keys import office_key

KINDS = ("decision", "village_certificate", "county_decision", "disclosure_sheet", "market_origin")
# where seals are kept: applications' and disclosure sheets' seals, and market listings' origin
# seals (edge 0023)
TABLES = {"seals": KINDS[:4], "market_seals": ("market_origin",)}
ENVELOPE_FORMAT = "cunban-seal-1"


def canonical(payload: dict[str, Any]) -> bytes:
    """The one byte encoding of a JSON object: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def envelope(
    *,
    seal_id: str,
    kind: str,
    office: str,
    application_id: str,
    key_id: str,
    algorithm: str,
    created_at: str,
    payload: dict[str, Any],
) -> bytes:
    """The bytes that are signed."""
    return canonical(
        {
            "format": ENVELOPE_FORMAT,
            "seal_id": seal_id,
            "kind": kind,
            "office": office,
            "application_id": application_id,
            "key_id": key_id,
            "algorithm": algorithm,
            "created_at": created_at,
            "payload": payload,
        }
    )


async def seal(
    db: aiosqlite.Connection,
    keys_dir: Path,
    *,
    office: str,
    kind: str,
    application_id: str,
    payload: dict[str, Any],
    now: str,
    algorithm: str = DEFAULT_ALGORITHM,
    table: str = "seals",
) -> str:
    """Sign `payload` with the office's key and store the seal (in `table`, for a market
    listing `market_seals` with the listing's id as `application_id`); return the seal id."""
    if kind not in TABLES.get(table, ()):
        raise ValueError(f"unknown seal kind {kind!r} for {table!r}")
    key_id = await office_key(db, keys_dir, office, algorithm, now)
    seal_id = str(ULID())
    message = envelope(
        seal_id=seal_id,
        kind=kind,
        office=office,
        application_id=application_id,
        key_id=key_id,
        algorithm=algorithm,
        created_at=now,
        payload=payload,
    )
    signature = ALGORITHMS[algorithm].sign(key_path(keys_dir, key_id).read_bytes(), message)
    await db.execute(
        f"""
        INSERT INTO {table} (id, kind, application_id, key_id, algorithm, payload, signature,
            created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            seal_id,
            kind,
            application_id or None,  # a disclosure sheet names no application
            key_id,
            algorithm,
            canonical(payload).decode("utf-8"),
            base64.b64encode(signature).decode("ascii"),
            now,
        ),
    )
    return seal_id


@dataclass(frozen=True)
class VerifyResult:
    """What a seal says and whether its signature holds."""

    valid: bool
    kind: str
    office: str
    algorithm: str
    key_id: str
    created_at: str
    payload: dict[str, Any]
    application_id: str = ""
    public_key: str = ""


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _signature_holds(row: aiosqlite.Row, payload: Any) -> bool:
    algorithm = ALGORITHMS.get(row["algorithm"])
    if algorithm is None or row["public_key"] is None or not isinstance(payload, dict):
        return False
    if row["algorithm"] != row["key_algorithm"]:
        return False
    try:
        signature = base64.b64decode(row["signature"], validate=True)
    except (binascii.Error, ValueError):
        return False
    message = envelope(
        seal_id=row["id"],
        kind=row["kind"],
        office=row["office"],
        application_id=row["application_id"] or "",
        key_id=row["key_id"],
        algorithm=row["algorithm"],
        created_at=row["created_at"],
        payload=payload,
    )
    return algorithm.verify(row["public_key"], message, signature)


async def verify(db: aiosqlite.Connection, seal_id: str) -> VerifyResult | None:
    """Check a seal; None if there is no such seal, valid=False if anything was altered."""
    selects = [
        "SELECT s.id, s.kind, s.application_id, s.key_id, s.algorithm, s.payload, s.signature, "
        "s.created_at, k.office, k.public_key, k.algorithm AS key_algorithm "
        f"FROM {table} s LEFT JOIN seal_keys k ON k.id = s.key_id WHERE s.id = ?"
        for table in TABLES
    ]
    async with db.execute(" UNION ALL ".join(selects), (seal_id,) * len(selects)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    payload = _parsed(row["payload"])
    return VerifyResult(
        valid=_signature_holds(row, payload),
        kind=row["kind"],
        office=row["office"] or "",
        algorithm=row["algorithm"],
        key_id=row["key_id"],
        created_at=row["created_at"],
        payload=payload if isinstance(payload, dict) else {},
        application_id=row["application_id"],
        public_key=row["public_key"] or "",
    )
