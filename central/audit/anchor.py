"""Each node's audit chain checked against central's witness: its mirror's rows and triggers
against the rows and heads central saw first; the verdict lands in `audit_checks` for /nodes."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from edge.audit.triggers import trigger_problems
from edge.audit.verify import verify_chain
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


async def check(db: Database, node_id: str, mirror: Path, now_ms: int) -> list[str]:
    """Compare one node's mirror with the witness and record the verdict for /nodes."""
    problems = await compare(db, node_id, mirror, whole_chain=False)
    async with db.write() as conn:
        await conn.execute(
            """
            INSERT INTO audit_checks (node_id, state, problems, checked_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT (node_id) DO UPDATE SET state = excluded.state,
                problems = excluded.problems, checked_ms = excluded.checked_ms
            """,
            (node_id, "diverged" if problems else "ok", "\n".join(problems), now_ms),
        )
    return problems
