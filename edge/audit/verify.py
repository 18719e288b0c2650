"""Walk the audit log and report, for operators, every row edited, deleted or inserted, every
row not signed by the node's key (rows before signing began are counted as legacy), and every
guard trigger dropped or changed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edge.audit.log import FIELDS, GENESIS, row_hash
from edge.audit.signers import Signers
from edge.audit.triggers import trigger_problems
from edge.audit.witness import divergence
from edge.kernel.db import connect_sync
from replication.anchor import Witness
from replication.feed.pull import FeedUnavailable


def _describe(row: sqlite3.Row) -> str:
    return f"row {row['seq']} ({row['at']} {row['action']} {row['object_type']})"


def _check_row(row: sqlite3.Row, last_seq: int, last_hash: str) -> list[str]:
    problems = []
    seq = row["seq"]
    if seq != last_seq + 1:
        missing = (
            f"row {seq - 1} is" if seq == last_seq + 2 else f"rows {last_seq + 1} to {seq - 1} are"
        )
        problems.append(f"{missing} missing before {_describe(row)}: deleted behind the app's back")
    elif row["prev_hash"] != last_hash:
        where = f"row {last_seq}" if last_seq else "the start of the log"
        problems.append(
            f"{_describe(row)} does not follow {where}: a row was deleted, inserted or replaced"
        )
    if row_hash(row["prev_hash"], {name: row[name] for name in FIELDS}) != row["hash"]:
        problems.append(f"{_describe(row)} was edited: its content no longer matches its hash")
    return problems


@dataclass
class ChainReport:
    """What a walk of the chain found, and how many rows predate signing (legacy)."""

    problems: list[str] = field(default_factory=list)
    unsigned_legacy: int = 0


def walk_chain(conn: sqlite3.Connection, keys: Mapping[str, str] | None = None) -> ChainReport:
    """Check every row's link, hash and signature against the node's keys (`keys`, else its
    node_identity) and the keys the chain itself introduced."""
    if keys is None:
        keys = dict(conn.execute("SELECT key_id, public_key FROM node_identity").fetchall())
    signers = Signers(keys)
    report = ChainReport()
    last_seq, last_hash = 0, GENESIS
    for row in conn.execute("SELECT * FROM audit_log ORDER BY seq"):
        report.problems.extend(_check_row(row, last_seq, last_hash))
        problem = signers.problem(row, _describe(row))
        if problem:
            report.problems.append(problem)
        elif row["signature"] is None:
            report.unsigned_legacy += 1
        last_seq, last_hash = row["seq"], row["hash"]
    return report


def verify_chain(conn: sqlite3.Connection, keys: Mapping[str, str] | None = None) -> list[str]:
    """Every problem found in the chain, in plain English; an empty list means intact."""
    return walk_chain(conn, keys).problems


def verify_log(conn: sqlite3.Connection) -> list[str]:
    """The guard triggers' problems, then the chain's."""
    return trigger_problems(conn) + verify_chain(conn)


def _anchored(conn: sqlite3.Connection, anchor: Callable[[], Witness] | None) -> list[str]:
    """How the log diverges from what central witnessed of it (none when not compared)."""
    if anchor is None:
        return []
    try:
        witness = anchor()
    except FeedUnavailable as exc:
        return [f"not compared with central's witness: {exc}"]
    chain = dict(conn.execute("SELECT seq, hash FROM audit_log").fetchall())
    return divergence(chain, witness.rows, witness.heads)


def legacy_note(unsigned: int) -> str:
    """How many rows predate signing (accepted, counted), or nothing."""
    return f" ({unsigned} unsigned legacy rows from before signing began)" if unsigned else ""


def main(database_path: Path, anchor: Callable[[], Witness] | None = None) -> int:
    """Check the log of a database file, and against central's witness when `anchor` fetches
    it; print the verdict; exit status 0 if intact, else 1."""
    if not database_path.is_file():
        print(f"audit log NOT checked: no database at {database_path}")
        return 1
    conn = connect_sync(database_path)
    try:
        report = walk_chain(conn)
        problems = trigger_problems(conn) + report.problems + _anchored(conn, anchor)
        rows = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        print(f"audit log NOT checked: {exc}")
        return 1
    finally:
        conn.close()
    if not problems:
        print(f"audit log OK: {rows} rows{legacy_note(report.unsigned_legacy)}")
        return 0
    print(f"audit log has {len(problems)} problem(s) in {rows} rows:")
    for problem in problems:
        print(f"  - {problem}")
    return 1
