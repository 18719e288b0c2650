"""Signed-in requests find their session, the working days and their place's names without SQL
while nothing was committed (issue 17, signed-in pages 2x): any commit, by this process or
another, makes the next request ask the database, so a sign-out, a deactivation, an expiry or a
calendar change takes effect at once."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from edge.kernel.db import READERS
from tests.conftest import STAFF, login


def _statements(client, path: str) -> tuple[int, list[str]]:
    statements: list[str] = []
    db = client.app.state.node.db
    db.add_tracer(statements.append)
    try:
        response = client.get(path, follow_redirects=False)
    finally:
        db.remove_tracer(statements.append)
    return response.status_code, statements


def _session_queries(statements: list[str]) -> int:
    return sum("FROM sessions s JOIN accounts" in sql for sql in statements)


def test_the_second_request_runs_no_session_query(client):
    login(client, STAFF)
    status, first = _statements(client, "/staff/")
    status_again, again = _statements(client, "/staff/")
    assert status == status_again == 200
    assert _session_queries(first) == 1 and _session_queries(again) == 0


def test_a_deactivation_by_another_process_ends_the_kept_session_at_once(client, settings):
    login(client, STAFF)
    assert _statements(client, "/staff/")[0] == 200
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute("UPDATE accounts SET active = 0 WHERE phone = ?", (STAFF,))
    status, statements = _statements(client, "/staff/")
    assert _session_queries(statements) == 1 and status in (303, 401, 403)


def test_a_sign_out_elsewhere_ends_the_kept_session(client, settings):
    login(client, STAFF)
    assert _statements(client, "/staff/")[0] == 200
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute("DELETE FROM sessions")
    assert _statements(client, "/staff/")[0] != 200


def test_a_kept_session_still_ends_after_the_idle_timeout(client, clock, settings):
    login(client, STAFF)
    assert _statements(client, "/staff/")[0] == 200
    clock.advance(minutes=settings.web.session_idle_minutes + 1)
    assert _statements(client, "/staff/")[0] != 200


def test_the_staff_queue_runs_only_its_own_query_the_second_time(client):
    login(client, STAFF)
    _statements(client, "/staff/")
    status, statements = _statements(client, "/staff/")
    assert (
        status == 200 and len(statements) == 1 and "FROM steps" in " ".join(statements[0].split())
    )


def test_a_calendar_change_by_another_process_is_read_again(client, settings):
    login(client, STAFF)
    _statements(client, "/staff/")
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute(
            "INSERT OR REPLACE INTO calendar_days (day, is_workday) VALUES ('2026-12-31', 0)"
        )
    status, statements = _statements(client, "/staff/")
    assert status == 200 and any("calendar_days" in sql for sql in statements)
    assert any("FROM jurisdictions" in " ".join(sql.split()) for sql in statements)


def _connections_to(path) -> int:
    """How many file descriptors this process holds on the database file itself."""
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += Path(os.readlink(fd)) == path
        except OSError:
            continue  # closed meanwhile
    return count


def test_one_data_version_connection_serves_every_kept_read(client, settings):
    # The public page cache, the session cache and the kept place names all ask the database's
    # change counter: one connection of their own between them, beside the writer and readers.
    client.get("/services")  # the page cache
    login(client, STAFF)
    assert client.get("/staff/").status_code == 200  # the session cache and the place names
    path = Path(settings.database_path).resolve()
    assert _connections_to(path) == 1 + READERS + 1
