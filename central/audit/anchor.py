"""Each node's audit chain checked against central's witness: its mirror's rows and triggers
against the rows and heads central saw first, and each witness row's signature (once) against
the node's ingested public keys; the verdict lands in `audit_checks` for /nodes."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from edge.audit.triggers import trigger_problems
from edge.audit.verify import signature_problem, verify_chain
from edge.audit.witness import divergence
from edge.kernel.db import Database

CHECK_SECONDS = 10  # how often the follow loop compares each mirror with the witness


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
        problems = trigger_problems(conn) + (verify_chain(conn) if whole_chain else [])
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


NEW_WITNESS_ROWS = """
SELECT seq, hash, key_id, signature FROM edge_audit_log
WHERE node_id = ? AND seq > ? ORDER BY seq
"""
SIGNED_BEFORE = """
SELECT EXISTS (SELECT 1 FROM edge_audit_log WHERE node_id = ? AND seq <= ?
    AND (signature IS NOT NULL OR key_id IS NOT NULL))
"""


async def _witness_signatures(db: Database, node_id: str) -> Signatures:
    """The signatures of witness rows not checked before, against the node's public keys
    as central ingested them (edge_node_identity); earlier findings are kept."""
    async with db.read() as conn:
        async with conn.execute(
            "SELECT signatures_to, signature_problems FROM audit_checks WHERE node_id = ?",
            (node_id,),
        ) as cursor:
            done = await cursor.fetchone()
        checked_to = done["signatures_to"] if done else 0
        found = done["signature_problems"].splitlines() if done else []
        async with conn.execute(
            "SELECT key_id, public_key FROM edge_node_identity WHERE node_id = ?", (node_id,)
        ) as cursor:
            keys = {row["key_id"]: row["public_key"] for row in await cursor.fetchall()}
        async with conn.execute(SIGNED_BEFORE, (node_id, checked_to)) as cursor:
            first = await cursor.fetchone()
        signed = bool(first and first[0])
        async with conn.execute(NEW_WITNESS_ROWS, (node_id, checked_to)) as cursor:
            rows = [dict(row) for row in await cursor.fetchall()]
    found += await asyncio.to_thread(_check_signatures, keys, rows, signed)
    return Signatures(rows[-1]["seq"] if rows else checked_to, found)


def _check_signatures(
    keys: dict[str, str], rows: list[dict[str, object]], signed: bool
) -> list[str]:
    problems = []
    for row in rows:
        what = f"row {row['seq']} witnessed by central"
        problem = signature_problem(keys, row, signed, what)
        if problem:
            problems.append(problem)
        signed = signed or row["signature"] is not None or row["key_id"] is not None
    return problems


async def check(db: Database, node_id: str, mirror: Path, now_ms: int) -> list[str]:
    """Compare one node's mirror with the witness, check the new witness rows' signatures,
    and record the verdict for /nodes."""
    signatures = await _witness_signatures(db, node_id)
    problems = signatures.problems + await compare(db, node_id, mirror, whole_chain=False)
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
