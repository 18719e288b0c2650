"""Bulk changes in an edge database made the way intake makes them, for the ingest benchmark.

A submitted demo application is copied with new ULIDs and tracking codes: the application,
its steps and attachments, and its `submit` row appended to the hash-chained audit log.
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from ulid import ULID

from edge.applications.tracking_code import new_code
from edge.audit.log import FIELDS, GENESIS, row_hash
from edge.kernel.db import connect_sync

WRITTEN_TABLES = ("applications", "steps", "attachments", "audit_log")
ROWS_PER_TRANSACTION = 5000


@dataclass
class Template:
    """One submitted application and the rows that belong to it."""

    application: sqlite3.Row
    steps: list[sqlite3.Row]
    attachments: list[sqlite3.Row]
    audit: sqlite3.Row

    @property
    def rows(self) -> int:
        """Rows one copy writes."""
        return 2 + len(self.steps) + len(self.attachments)


@dataclass
class Written:
    """What a load wrote: rows per table and the transactions it took."""

    rows: dict[str, int] = field(default_factory=dict)
    transactions: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        """Rows written in all."""
        return sum(self.rows.values())


def load_template(conn: sqlite3.Connection) -> Template:
    """The demo MZ-001 application (in review), else any application in review."""
    app = conn.execute(
        "SELECT * FROM applications WHERE status = 'in_review' "
        "ORDER BY item_code != 'MZ-001', submitted_at LIMIT 1"
    ).fetchone()
    if app is None:
        raise RuntimeError("no application in review to copy (is the demo data loaded?)")
    audit = conn.execute(
        "SELECT * FROM audit_log WHERE object_id = ? AND action = 'submit'", (app["id"],)
    ).fetchone()
    if audit is None:
        raise RuntimeError(f"application {app['id']} has no submit row in the audit log")
    return Template(
        app,
        conn.execute("SELECT * FROM steps WHERE application_id = ?", (app["id"],)).fetchall(),
        conn.execute("SELECT * FROM attachments WHERE application_id = ?", (app["id"],)).fetchall(),
        audit,
    )


def _insert_copy(conn: sqlite3.Connection, table: str, row: sqlite3.Row, **new: object) -> None:
    """Insert `row` again with some columns replaced; the trigger assigns a fresh rev."""
    columns = [c for c in row.keys() if c != "rev"]  # noqa: SIM118 (sqlite3.Row)
    values = [new.get(c, row[c]) for c in columns]
    marks = ", ".join("?" * len(columns))
    conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)


def _append_audit(conn: sqlite3.Connection, model: sqlite3.Row, object_id: str) -> None:
    """Chain one audit row after the last one, as edge.audit.log.append does."""
    last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (last["seq"], last["hash"]) if last else (0, GENESIS)
    fields = {name: model[name] for name in FIELDS} | {"seq": seq + 1, "object_id": object_id}
    _insert_copy(
        conn, "audit_log", model, **fields, prev_hash=prev_hash, hash=row_hash(prev_hash, fields)
    )


def copy_application(conn: sqlite3.Connection, template: Template) -> None:
    """One new application like the template, inside the caller's transaction."""
    app_id = str(ULID())
    _insert_copy(conn, "applications", template.application, id=app_id, tracking_code=new_code())
    for step in template.steps:
        _insert_copy(conn, "steps", step, id=str(ULID()), application_id=app_id)
    for attachment in template.attachments:
        _insert_copy(conn, "attachments", attachment, id=str(ULID()), application_id=app_id)
    _append_audit(conn, template.audit, app_id)


def _count(written: Written, template: Template, copies: int) -> None:
    for table, each in (
        ("applications", 1),
        ("steps", len(template.steps)),
        ("attachments", len(template.attachments)),
        ("audit_log", 1),
    ):
        written.rows[table] = written.rows.get(table, 0) + each * copies


def write_rows(database: Path, rows: int) -> Written:
    """Write about `rows` rows of new applications in a few BEGIN IMMEDIATE transactions."""
    conn = connect_sync(database)
    written = Written()
    started = time.monotonic()
    try:
        template = load_template(conn)
        copies = math.ceil(rows / template.rows)
        per_transaction = max(1, ROWS_PER_TRANSACTION // template.rows)
        while copies > 0:
            batch = min(copies, per_transaction)
            conn.execute("BEGIN IMMEDIATE")
            for _copy in range(batch):
                copy_application(conn, template)
            conn.execute("COMMIT")
            _count(written, template, batch)
            written.transactions += 1
            copies -= batch
        written.seconds = time.monotonic() - started
    finally:
        conn.close()
    return written
