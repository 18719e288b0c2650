"""The cost of central's audit anchor check: one node's mirror of N audit rows compared with
central's witness (every 10 s in the follow loop), and the whole-chain check of
`python -m central audit verify`. Run `.venv/bin/python -m bench.audit_anchor --rows 100000`;
prints a markdown table and puts it in docs/performance.md under its own heading.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.performance_doc import replace_section
from central.audit.anchor import check, compare
from central.schema import migrate_database as migrate_central
from edge.audit.log import FIELDS, GENESIS, row_hash
from edge.kernel.db import Database
from edge.schema import migrate_database as migrate_edge

SECTION = "## Audit anchor check (bench/audit_anchor.py)"
NODE = "lianzhou"


def _fill(path: Path, rows: int) -> list[tuple[object, ...]]:
    """N chained audit rows written straight into a migrated edge database."""
    written, prev = [], GENESIS
    for seq in range(1, rows + 1):
        fields: dict[str, object] = {
            "seq": seq,
            "at": "2026-11-23T09:00:00+00:00",
            "actor_id": f"01JAGENT{seq:018d}",
            "role": "township_staff",
            "jurisdiction_code": "450521100000",
            "action": "read_personal_data",
            "object_type": "application",
            "object_id": f"01JAPP{seq:020d}",
            "result": "ok",
        }
        digest = row_hash(prev, fields)
        written.append((*(fields[n] for n in FIELDS), prev, digest))
        prev = digest
    with sqlite3.connect(path) as conn:
        conn.executemany(
            f"INSERT INTO audit_log ({', '.join(FIELDS)}, prev_hash, hash) "
            f"VALUES ({', '.join('?' * (len(FIELDS) + 2))})",
            written,
        )
    return written


async def _measure(root: Path, rows: int) -> dict[str, float]:
    edge, central = Database(root / "edge.db"), Database(root / "central.db", replicated=False)
    for db, migrate in ((edge, migrate_edge), (central, migrate_central)):
        await db.open()
        await migrate(db)
    await edge.close()
    written = await asyncio.to_thread(_fill, root / "edge.db", rows)
    async with central.write() as conn:
        await conn.execute(
            "INSERT INTO nodes VALUES (?, '450521100000', '廉州镇', 'Lianzhou', '合浦县', 'Hepu', "
            "'http://127.0.0.2:8101', '2026-11-23')",
            (NODE,),
        )
        await conn.executemany(
            "INSERT INTO edge_audit_log (node_id, seq, hash) VALUES (?, ?, ?)",
            [(NODE, row[0], row[-1]) for row in written],
        )
    timings = {}
    try:
        start = time.perf_counter()
        assert await check(central, NODE, root / "edge.db", 0) == []
        timings["periodic check (triggers + witness)"] = time.perf_counter() - start
        start = time.perf_counter()
        assert await compare(central, NODE, root / "edge.db", whole_chain=True) == []
        timings["audit verify (+ whole chain)"] = time.perf_counter() - start
    finally:
        await central.close()
    return timings


def main() -> None:
    """Measure and report."""
    parser = argparse.ArgumentParser(prog="python -m bench.audit_anchor")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        timings = asyncio.run(_measure(Path(folder), args.rows))
    lines = [
        SECTION,
        "",
        f"One node, {args.rows:,} audit rows, on {platform.machine()} "
        f"({platform.python_version()}), a machine shared with other work:",
        "",
        "| Check | Seconds |",
        "|---|---|",
        *(f"| {name} | {seconds:.2f} |" for name, seconds in timings.items()),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    replace_section(Path("docs/performance.md"), SECTION, text)


if __name__ == "__main__":
    main()
