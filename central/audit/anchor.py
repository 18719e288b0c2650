"""Each node's audit chain checked against central's witness: its mirror's rows and triggers
against the rows and heads central saw first; the verdict lands in `audit_checks` for /nodes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

from edge.audit.triggers import trigger_problems
from edge.audit.verify import verify_chain
from edge.audit.witness import divergence
from edge.kernel.db import Database

CHECK_SECONDS = 10  # how often the follow loop compares each mirror with the witness


def read_mirror(mirror: Path, whole_chain: bool) -> tuple[dict[int, str], list[str]]:
    """The mirror's chain (seq -> hash) and what its triggers (and chain, if asked) show."""
    conn = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True, timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("BEGIN")
        chain = dict(conn.execute("SELECT seq, hash FROM audit_log").fetchall())
        problems = trigger_problems(conn) + (verify_chain(conn) if whole_chain else [])
        conn.execute("COMMIT")
        return chain, problems
    finally:
        conn.close()


async def witnessed(
    db: aiosqlite.Connection, node_id: str
) -> tuple[dict[int, str], list[tuple[int, str]]]:
    """Central's witness of a node: the first copy of each row, and every head seen."""
    async with db.execute(
        "SELECT seq, hash FROM edge_audit_log WHERE node_id = ?", (node_id,)
    ) as cursor:
        rows = {row["seq"]: row["hash"] for row in await cursor.fetchall()}
    async with db.execute(
        "SELECT seq, hash FROM audit_heads WHERE node_id = ?", (node_id,)
    ) as cursor:
        heads = [(row["seq"], row["hash"]) for row in await cursor.fetchall()]
    return rows, heads


async def compare(db: Database, node_id: str, mirror: Path, whole_chain: bool) -> list[str]:
    """Every way the node's chain, as its mirror holds it, diverges from central's witness."""
    async with db.read() as conn:
        rows, heads = await witnessed(conn, node_id)
    chain, problems = await asyncio.to_thread(read_mirror, mirror, whole_chain)
    return problems + divergence(chain, rows, heads)


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
