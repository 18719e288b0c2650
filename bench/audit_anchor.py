"""The cost of central's audit anchor check: one node's mirror of N signed audit rows compared
with central's witness (every 10 s in the follow loop; the first check also verifies every
witness row's signature, later ones only new rows), the whole-chain check of
`python -m central audit verify`, and what signing adds to one audit write.
Run `.venv/bin/python -m bench.audit_anchor --rows 100000`; prints markdown tables and puts
them in docs/performance.md under its own heading.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import platform
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.performance_doc import replace_section
from central.audit.anchor import SIGNATURES_PER_CHECK, check, compare
from central.schema import migrate_database as migrate_central
from edge.audit import signing
from edge.audit.log import FIELDS, GENESIS, append, row_hash
from edge.kernel.clock import stamp
from edge.kernel.db import Database
from edge.kernel.key_files import key_path
from edge.kernel.signatures import ALGORITHMS
from edge.schema import migrate_database as migrate_edge
from replication.identity import ensure_key

SECTION = "## Audit anchor check (bench/audit_anchor.py)"
NODE = "lianzhou"


def _fill(path: Path, keys: Path, key_id: str, rows: int) -> list[tuple[object, ...]]:
    """N chained audit rows, signed with the node's key, written straight into a migrated
    edge database."""
    written, prev = [], GENESIS
    pem = key_path(keys, key_id).read_bytes()
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
        raw = ALGORITHMS["ed25519"].sign(pem, signing.message(key_id, digest))
        signature = base64.b64encode(raw).decode("ascii")
        written.append((*(fields[n] for n in FIELDS), prev, digest, key_id, signature))
        prev = digest
    with sqlite3.connect(path) as conn:
        conn.executemany(
            f"INSERT INTO audit_log ({', '.join(FIELDS)}, prev_hash, hash, key_id, signature) "
            f"VALUES ({', '.join('?' * (len(FIELDS) + 4))})",
            written,
        )
    return written


async def _key(db: Database, keys: Path) -> tuple[str, str]:
    """The node's identity key (made) and its public half."""
    async with db.write() as conn:
        key_id = await ensure_key(conn, keys, stamp(datetime.now(UTC)))
        async with conn.execute(
            "SELECT public_key FROM node_identity WHERE key_id = ?", (key_id,)
        ) as cursor:
            row = await cursor.fetchone()
    assert row is not None
    return key_id, row["public_key"]


async def _append_cost(db: Database, keys: Path, writes: int) -> dict[str, tuple[float, float]]:
    """Microseconds per audit write (one transaction each, synchronous = FULL), and of the
    signature alone, over `writes` writes."""
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(writes):
        async with db.write() as conn:
            await append(
                conn,
                keys,
                actor_id=None,
                role="township_staff",
                jurisdiction_code="450521100000",
                action="read_personal_data",
                object_type="application",
                object_id=f"01JAPP{n:020d}",
                result="ok",
                at="2026-11-23T10:00:00+00:00",
            )
    per_write = ((time.perf_counter() - start) / writes, (time.process_time() - cpu) / writes)
    async with db.read() as conn:
        async with conn.execute("SELECT key_id FROM node_identity") as cursor:
            key_ids = [row["key_id"] for row in await cursor.fetchall()]
        start, cpu = time.perf_counter(), time.process_time()
        for n in range(writes):
            await signing.sign(conn, keys, key_ids, f"{n:064x}", "2026-11-23T10:00:00+00:00")
        per_signature = (
            (time.perf_counter() - start) / writes,
            (time.process_time() - cpu) / writes,
        )
    return {
        "one audit write, signed (its own transaction)": per_write,
        "of which the signature (key lookup, Ed25519 sign)": per_signature,
    }


async def _measure(
    root: Path, rows: int, writes: int
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    edge, central = Database(root / "edge.db"), Database(root / "central.db", replicated=False)
    for db, migrate in ((edge, migrate_edge), (central, migrate_central)):
        await db.open()
        await migrate(db)
    keys = root / "keys"
    key_id, public_key = await _key(edge, keys)
    written = await asyncio.to_thread(_fill, root / "edge.db", keys, key_id, rows)
    async with central.write() as conn:
        await conn.execute(
            "INSERT INTO nodes VALUES (?, '450521100000', '廉州镇', 'Lianzhou', '合浦县', 'Hepu', "
            "'http://127.0.0.2:8101', '2026-11-23')",
            (NODE,),
        )
        await conn.execute(
            "INSERT INTO edge_node_identity (node_id, key_id, algorithm, public_key) "
            "VALUES (?, ?, 'ed25519', ?)",
            (NODE, key_id, public_key),
        )
        await conn.executemany(
            "INSERT INTO edge_audit_log (node_id, seq, hash, key_id, signature) "
            "VALUES (?, ?, ?, ?, ?)",
            [(NODE, row[0], *row[-3:]) for row in written],
        )
    timings: dict[str, tuple[float, float]] = {}
    try:
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(-(-rows // SIGNATURES_PER_CHECK)):
            assert await check(central, NODE, root / "edge.db", 0) == []
        timings[
            f"first checks, until every row's signature is verified "
            f"({SIGNATURES_PER_CHECK:,} rows a check), in all"
        ] = (time.perf_counter() - start, time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        assert await check(central, NODE, root / "edge.db", 0) == []
        timings["periodic check (triggers + witness; no new rows to verify)"] = (
            time.perf_counter() - start,
            time.process_time() - cpu,
        )
        start, cpu = time.perf_counter(), time.process_time()
        assert await compare(central, NODE, root / "edge.db", whole_chain=True) == []
        timings["audit verify (+ whole chain and signatures)"] = (
            time.perf_counter() - start,
            time.process_time() - cpu,
        )
        costs = await _append_cost(edge, keys, writes)
    finally:
        await central.close()
        await edge.close()
    return timings, costs


def main() -> None:
    """Measure and report."""
    parser = argparse.ArgumentParser(prog="python -m bench.audit_anchor")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        timings, costs = asyncio.run(_measure(Path(folder), args.rows, args.writes))
    lines = [
        SECTION,
        "",
        f"One node, {args.rows:,} audit rows, on {platform.machine()} "
        f"({platform.python_version()}), a machine shared with other work (wall seconds vary "
        "several-fold with its load; the CPU column, every thread of the process, is steadier; "
        "a row's signature is verified once at central, so the first checks are paid once):",
        "",
        "| Check | Seconds | CPU seconds (all threads) |",
        "|---|---|---|",
        *(f"| {name} | {wall:.2f} | {cpu:.2f} |" for name, (wall, cpu) in timings.items()),
        "",
        f"Signing each audit row (issue 12, finding 4), mean of {args.writes:,} writes:",
        "",
        "| Audit write | Microseconds | CPU microseconds (all threads) |",
        "|---|---|---|",
        *(f"| {name} | {w * 1e6:.0f} | {c * 1e6:.0f} |" for name, (w, c) in costs.items()),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    replace_section(Path("docs/performance.md"), SECTION, text)


if __name__ == "__main__":
    main()
