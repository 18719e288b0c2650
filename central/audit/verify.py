"""`python -m central audit verify [--node X]`: central's own log, and each node's chain (its
mirror) against central's witness; exit status 0 only if everything checked is intact."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from central.audit.anchor import compare
from central.settings import CentralSettings
from edge.audit.triggers import trigger_problems
from edge.audit.verify import legacy_note, walk_chain
from edge.kernel.db import Database, connect_sync


def _report(subject: str, problems: list[str], rows: str) -> None:
    if not problems:
        print(f"{subject} OK: {rows}")
        return
    print(f"{subject} has {len(problems)} problem(s):")
    for problem in problems:
        print(f"  - {problem}")


def _own_log(settings: CentralSettings) -> list[str]:
    conn = connect_sync(settings.database_path)
    try:
        report = walk_chain(conn)  # signatures checked with central's own key
        problems = trigger_problems(conn) + report.problems
        rows = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        conn.close()
    _report("central audit log", problems, f"{rows} rows{legacy_note(report.unsigned_legacy)}")
    return problems


async def _nodes(db: Database, only: str | None) -> list[tuple[str, str | None]]:
    async with (
        db.read() as conn,
        conn.execute(
            "SELECT n.node_id, f.mirror_path FROM nodes n LEFT JOIN followers f USING (node_id) "
            "WHERE ? IS NULL OR n.node_id = ? ORDER BY n.node_id",
            (only, only),
        ) as cursor,
    ):
        return [(row["node_id"], row["mirror_path"]) for row in await cursor.fetchall()]


async def _node_chains(settings: CentralSettings, only: str | None) -> bool:
    db = Database(settings.database_path, replicated=False)
    await db.open()
    try:
        intact = True
        listed = await _nodes(db, only)
        if not listed:
            print(f"node {only} NOT checked: not registered")
            return False
        for node_id, mirror in listed:
            if mirror is None:
                print(f"node {node_id} NOT checked: central has no mirror of it yet")
                intact = False
                continue
            try:
                problems = await compare(db, node_id, Path(mirror), whole_chain=True)
            except sqlite3.Error as exc:
                print(f"node {node_id} NOT checked: {exc}")
                intact = False
                continue
            _report(f"node {node_id} audit chain", problems, "matches central's witness")
            intact = intact and not problems
        return intact
    finally:
        await db.close()


def main(settings: CentralSettings, node: str | None) -> int:
    """Check central's own log (unless one node is named) and each node's chain."""
    own = [] if node else _own_log(settings)
    nodes_intact = asyncio.run(_node_chains(settings, node))
    return 0 if nodes_intact and not own else 1
