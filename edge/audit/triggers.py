"""The triggers that keep the audit log append-only, and the check that they are all there."""

from __future__ import annotations

import sqlite3

_REFUSE = "    SELECT RAISE(ABORT, 'audit_log is append-only');\nEND"

# name -> the exact CREATE TRIGGER text the migrations give both nodes (sqlite_master.sql)
GUARDS = {
    "audit_log_no_update": (
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE OF at, actor_id, role, "
        "jurisdiction_code,\n    action, object_type, object_id, result, prev_hash, hash "
        "ON audit_log\nBEGIN\n" + _REFUSE
    ),
    "audit_log_no_delete": (
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN\n" + _REFUSE
    ),
    "audit_log_signature_no_update": (
        "CREATE TRIGGER audit_log_signature_no_update BEFORE UPDATE OF key_id, signature "
        "ON audit_log\nBEGIN\n" + _REFUSE
    ),
}


def trigger_problems(conn: sqlite3.Connection) -> list[str]:
    """Each guard trigger that was dropped or replaced by another text, in plain English."""
    found = dict(
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
        ).fetchall()
    )
    problems = []
    for name, sql in GUARDS.items():
        if name not in found:
            problems.append(f"trigger {name} is missing: the log can be changed behind its back")
        elif found[name] != sql:
            problems.append(f"trigger {name} is not the one the migrations created")
    return problems
