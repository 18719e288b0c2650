"""Each node's audit chain checked against central's witness: its mirror's rows and triggers
against the rows and heads central saw first, and each witness row's signature (once) against
the node's ingested public keys; the verdict lands in `audit_checks` for /nodes."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from edge.audit.signers import ROTATE, Signers
from edge.audit.triggers import trigger_problems
from edge.audit.verify import verify_chain
from edge.audit.witness import SHOWN, divergence
from edge.kernel.db import Database

CHECK_SECONDS = 10  # how often the follow loop compares each mirror with the witness
# witness rows whose signatures one check verifies (about 0.1 ms each): a node's whole history,
# met for the first time, is caught up over several checks instead of holding up the loop
SIGNATURES_PER_CHECK = 5000


# Only where the mirror and the witness differ: a row or head central saw whose hash the
# mirror does not hold (gone or other), with the mirror's hash of that seq if any.
DIFFERING = """
SELECT w.seq, w.hash, m.hash AS mirror_hash FROM central.{table} w
LEFT JOIN main.audit_log m ON m.seq = w.seq
WHERE w.node_id = ? AND m.hash IS NOT w.hash
"""


@dataclass
class Differing:
    """The mirror's last seq and, where they differ, its rows, central's rows and heads."""

    last: int
    chain: dict[int, str] = field(default_factory=dict)
    rows: dict[int, str] = field(default_factory=dict)
    heads: list[tuple[int, str]] = field(default_factory=list)


def _differing(conn: sqlite3.Connection, node_id: str) -> Differing:
    found = Differing(
        conn.execute("SELECT coalesce(max(seq), 0) FROM main.audit_log").fetchone()[0]
    )
    for table, into in (("edge_audit_log", "rows"), ("audit_heads", "heads")):
        for seq, digest, mirror_hash in conn.execute(DIFFERING.format(table=table), (node_id,)):
            if into == "rows":
                found.rows[seq] = digest
            else:
                found.heads.append((seq, digest))
            if mirror_hash is not None:
                found.chain[seq] = mirror_hash
    return found


def _ingested_keys(conn: sqlite3.Connection, node_id: str) -> dict[str, str]:
    """The node's public keys as central first ingested them (not as the mirror now says)."""
    found = conn.execute(
        "SELECT key_id, public_key FROM central.edge_node_identity WHERE node_id = ?", (node_id,)
    )
    return dict(found.fetchall())


def read_mirror(
    mirror: Path, central_db: Path, node_id: str, whole_chain: bool
) -> tuple[Differing, list[str]]:
    """Where the mirror differs from central's witness (compared inside SQLite, with central.db
    attached read-only), and what its triggers (and whole chain, if asked) show."""
    conn = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True, timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("ATTACH DATABASE ? AS central", (f"file:{central_db}?mode=ro",))
        conn.execute("BEGIN")
        found = _differing(conn, node_id)
        problems = trigger_problems(conn) + (
            verify_chain(conn, _ingested_keys(conn, node_id)) if whole_chain else []
        )
        conn.execute("COMMIT")
        return found, problems
    finally:
        conn.close()


async def compare(db: Database, node_id: str, mirror: Path, whole_chain: bool) -> list[str]:
    """Every way the node's chain, as its mirror holds it, diverges from central's witness."""
    found, problems = await asyncio.to_thread(read_mirror, mirror, db.path, node_id, whole_chain)
    return problems + divergence(found.chain, found.rows, found.heads, found.last)


@dataclass
class Signatures:
    """Witness rows whose signatures are checked: up to which seq, and what was found."""

    checked_to: int
    problems: list[str]


WITNESS_COLUMNS = "seq, hash, key_id, signature, action, object_type, object_id"
NEW_WITNESS_ROWS = f"""
SELECT {WITNESS_COLUMNS} FROM edge_audit_log
WHERE node_id = ? AND seq > ? ORDER BY seq LIMIT ?
"""
# the rows already checked that decide which keys are trusted: the first signed one and those
# introducing a key
TRUST_ROWS = f"""
SELECT {WITNESS_COLUMNS} FROM edge_audit_log
WHERE node_id = ?1 AND seq <= ?2 AND (action = '{ROTATE}' OR seq = (
    SELECT min(seq) FROM edge_audit_log WHERE node_id = ?1 AND key_id IS NOT NULL))
ORDER BY seq
"""


async def _rows(
    conn: aiosqlite.Connection, sql: str, params: tuple[object, ...]
) -> list[dict[str, Any]]:
    async with conn.execute(sql, params) as cursor:
        return [dict(row) for row in await cursor.fetchall()]


async def _witness_signatures(db: Database, node_id: str) -> Signatures:
    """The signatures of witness rows not checked before, against the node's public keys
    as central ingested them (edge_node_identity); earlier findings are kept."""
    async with db.read() as conn:
        done = await _rows(
            conn,
            "SELECT signatures_to, signature_problems FROM audit_checks WHERE node_id = ?",
            (node_id,),
        )
        checked_to = done[0]["signatures_to"] if done else 0
        found = done[0]["signature_problems"].splitlines() if done else []
        keys = await _rows(
            conn, "SELECT key_id, public_key FROM edge_node_identity WHERE node_id = ?", (node_id,)
        )
        earlier = await _rows(conn, TRUST_ROWS, (node_id, checked_to))
        new = await _rows(conn, NEW_WITNESS_ROWS, (node_id, checked_to, SIGNATURES_PER_CHECK))
    signers = Signers({key["key_id"]: key["public_key"] for key in keys})
    found += await asyncio.to_thread(_check_signatures, signers, earlier, new)
    return Signatures(new[-1]["seq"] if new else checked_to, found)


def _check_signatures(
    signers: Signers, earlier: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[str]:
    """The new rows' problems, once `signers` has walked the earlier rows that decide trust
    (their problems were reported when they were new)."""
    for row in earlier:
        signers.problem(row, "")
    problems = []
    for row in new:
        problem = signers.problem(row, f"row {row['seq']} witnessed by central")
        if problem:
            problems.append(problem)
    return problems


def _shown(found: list[str]) -> list[str]:
    """The first SHOWN signature problems, the rest counted (a forger's thousand rows make one
    line on /nodes, not a thousand); all of them stay in `signature_problems`."""
    more = len(found) - SHOWN
    return found[:SHOWN] + (
        [f"and {more} more rows whose signatures do not hold"] if more > 0 else []
    )


async def check(db: Database, node_id: str, mirror: Path, now_ms: int) -> list[str]:
    """Compare one node's mirror with the witness, check the new witness rows' signatures,
    and record the verdict for /nodes."""
    signatures = await _witness_signatures(db, node_id)
    problems = _shown(signatures.problems) + await compare(db, node_id, mirror, whole_chain=False)
    async with db.write() as conn:
        await conn.execute(
            """
            INSERT INTO audit_checks (node_id, state, problems, checked_ms, signatures_to,
                signature_problems) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (node_id) DO UPDATE SET state = excluded.state,
                problems = excluded.problems, checked_ms = excluded.checked_ms,
                signatures_to = excluded.signatures_to,
                signature_problems = excluded.signature_problems
            """,
            (
                node_id,
                "diverged" if problems else "ok",
                "\n".join(problems),
                now_ms,
                signatures.checked_to,
                "\n".join(signatures.problems),
            ),
        )
    return problems
