"""Idempotency keys record what the first request created (kind and id): the rows that land,
the migration that turns the URLs stored before into them, and retries answered from them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from edge.app import create_app
from edge.schema import MIGRATIONS_DIR
from tests.conftest import AGENT_QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import KEY_FIELD, intake_data, intake_files, open_form, rows, submit
from tests.test_migrations import AGENT_ID, database_at
from tests.test_migrations import _run as _migrate

MIGRATION = next(MIGRATIONS_DIR.glob("*_idempotency_results.sql"))
BEFORE = int(MIGRATION.name[:4]) - 1  # the schema version that stored result_url
ACCOUNT = AGENT_ID
APPLICATION = "01JAPPLICATIONAPPLICATION1"
# columns added by the migrations after it (0008 staged photo content types)
LATER_COLUMNS = (
    ("staged_photos", "content_type"),
    ("staged_photos", "thumb_content_type"),
    ("sms_outbox", "claimed_by"),
    ("sms_outbox", "started_at"),
    ("sms_outbox", "unconfirmed"),
    ("sessions", "seen_at"),
    ("heartbeat", "audit_seq"),
    ("heartbeat", "audit_hash"),
    ("applications", "withdrawn_reason"),
    ("audit_log", "key_id"),
    ("audit_log", "signature"),
    ("accounts", "is_head"),
    ("reminders", "origin"),  # 0027 reminders sent at central
    ("reminders", "sent_by_name"),
    ("feedback", "rating_level"),  # 0029 feedback rating levels
)
# triggers on those columns (0020 audit signatures), dropped before them
LATER_TRIGGERS = ("audit_log_signature_no_update",)
# tables created by the migrations after it (0009 replica health, 0011 login checks (with the
# source column 0012 adds), 0012 login throttle, 0015 inbound SMS, 0017 ratings, 0018 bulletin,
# 0019 disclosure withholdings, 0021-0023 market, 0024 supervision reminders, 0025 feedback,
# 0026 resident sign-in codes)
LATER_TABLES = (
    "received_photos",  # 0031 photos answered before their re-encode
    "peer_townships",
    "resident_codes",
    "replica_health",
    "login_checks",
    "login_sources",
    "known_devices",
    "sms_inbound",
    "follow_ups",
    "ratings",
    # 0018 bulletin (children first)
    "affair_lines",
    "affairs",
    "election_candidates",
    "elections",
    "policies",
    "news",
    "disclosure_withholdings",
    "market_seals",
    "market_photos",
    "market_listings_fts",
    "market_contacts",
    "market_reports",
    "market_listings",
    "market_sellers",
    "reminders",
    "feedback_submissions",
    "feedback_events",
    "feedback",
)
# idempotency_keys as edge/migrations/0002_applications.sql created it
OLD_TABLE = """CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    request_hash TEXT NOT NULL,
    result_url TEXT NOT NULL,
    created_at TEXT NOT NULL
)"""


def _keys(path: Path) -> dict[str, tuple[str, ...]]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(
            "SELECT key, account_id, request_hash, result_kind, result_id, created_at "
            "FROM idempotency_keys"
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in found}


def _old_database(tmp_path: Path, urls: dict[str, str]) -> Path:
    """A database at the schema before the migration, holding a key for each URL."""
    path = database_at(tmp_path, BEFORE)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, '2026-11-23T09:00:00+00:00')",
            [(key, ACCOUNT, f"hash-{key}", url) for key, url in urls.items()],
        )
    return path


def test_the_migration_turns_every_stored_url_into_the_application_it_names(tmp_path):
    path = _old_database(
        tmp_path,
        {
            "intake-key-0000001": f"/agent/applications/{APPLICATION}/receipt",
            "supplement-key-001": f"/agent/applications/{APPLICATION}",
            "decision-key-00001": f"/staff/applications/{APPLICATION}",
        },
    )
    assert _migrate(path) >= BEFORE + 1
    at = "2026-11-23T09:00:00+00:00"
    assert _keys(path) == {
        key: (ACCOUNT, f"hash-{key}", "application", APPLICATION, at)
        for key in ("intake-key-0000001", "supplement-key-001", "decision-key-00001")
    }
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(idempotency_keys)")}
    assert "result_url" not in columns


@pytest.mark.parametrize(
    "url",
    [
        "/agent/applications/",  # no id
        f"/agent/applications/{APPLICATION}/supplement",  # never stored: not a page of a key
        f"/officer/applications/lianzhou/{APPLICATION}",
        "https://elsewhere.example/agent/applications/x/receipt",
    ],
)
def test_a_url_the_migration_does_not_know_stops_it_and_loses_nothing(tmp_path, url):
    path = _old_database(tmp_path, {"known-key-00000001": "/staff/applications/A", "odd": url})
    with pytest.raises(RuntimeError, match=r"idempotency_results\.sql failed and was rolled back"):
        _migrate(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == BEFORE
        kept = conn.execute("SELECT key, result_url FROM idempotency_keys ORDER BY key").fetchall()
    assert kept == [("known-key-00000001", "/staff/applications/A"), ("odd", url)]


def test_an_intake_records_the_application_it_created(client, settings):
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "MZ-002")
    response = _post_intake(client, token, key)
    assert response.status_code == 303
    application_id = rows(settings, "SELECT id FROM applications")[0]["id"]
    assert response.headers["location"] == f"/agent/applications/{application_id}/receipt"
    stored = rows(settings, "SELECT * FROM idempotency_keys WHERE key = ?", key)
    assert [(r["result_kind"], r["result_id"]) for r in stored] == [("application", application_id)]


def test_a_decision_and_a_withdrawal_record_the_application(client, settings):
    login(client, AGENT_QIANJIANG)
    application_id = submit(client, "MZ-002").headers["location"].split("/")[3]
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}")
    step = rows(settings, "SELECT id FROM steps WHERE application_id = ?", application_id)[0]
    decision_key = KEY_FIELD.search(page.text).group(1)
    data = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": decision_key,
        "action": "approve",
        "opinion": "情况属实，同意。",
    }
    decided = client.post(f"/staff/steps/{step['id']}/decide", data=data, follow_redirects=False)
    assert decided.headers["location"] == f"/staff/applications/{application_id}?done=decided#done"
    login(client, AGENT_QIANJIANG)
    page = client.get(f"/agent/applications/{application_id}/withdraw")
    withdrawal_key = KEY_FIELD.search(page.text).group(1)
    withdrawn = client.post(
        f"/agent/applications/{application_id}/withdraw",
        data={
            "csrf_token": csrf_of(page.text),
            "idempotency_key": withdrawal_key,
            "reason": "not_needed",
        },
        follow_redirects=False,
    )
    assert withdrawn.headers["location"] == (
        f"/agent/applications/{application_id}?done=withdrawn#done"
    )
    stored = rows(
        settings,
        "SELECT key, result_kind, result_id FROM idempotency_keys WHERE key IN (?, ?)",
        decision_key,
        withdrawal_key,
    )
    assert {tuple(r) for r in stored} == {
        (decision_key, "application", application_id),
        (withdrawal_key, "application", application_id),
    }


def test_a_retry_of_a_key_stored_as_a_url_gets_its_receipt_after_the_upgrade(
    client, settings, clock
):
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "MZ-002")
    assert _post_intake(client, token, key).status_code == 303
    application_id = rows(settings, "SELECT id FROM applications")[0]["id"]
    _store_as_before(settings.database_path, key, f"/agent/applications/{application_id}/receipt")
    with TestClient(create_app(settings, clock), base_url="https://testserver") as upgraded:
        login(upgraded, AGENT_QIANJIANG)
        token = csrf_of(upgraded.get("/agent/apply/MZ-002").text)
        # no photos this time: only the key's first result can answer it
        retry = _post_intake(upgraded, token, key, files=False)
        as_json = _post_intake(upgraded, token, key, files=False, json=True)
    assert retry.status_code == 303
    assert retry.headers["location"] == f"/agent/applications/{application_id}/receipt"
    assert as_json.status_code == 200
    assert as_json.json()["url"] == f"/agent/applications/{application_id}/receipt"
    assert rows(settings, "SELECT count(*) FROM applications")[0][0] == 1
    assert _keys(settings.database_path)[key][2:4] == ("application", application_id)


def _post_intake(
    client: TestClient, token: str, key: str, *, files: bool = True, json: bool = False
):
    data = intake_data("MZ-002") | {"csrf_token": token, "idempotency_key": key}
    return client.post(
        "/agent/apply/MZ-002",
        data=data,
        files=intake_files("MZ-002") if files else None,
        headers={"Accept": "application/json"} if json else {},
        follow_redirects=False,
    )


def _store_as_before(path: Path, key: str, url: str) -> None:
    """Put the database back to the schema before the migration, the key stored as `url`."""
    with sqlite3.connect(path) as conn:
        (account_id, digest, at) = conn.execute(
            "SELECT account_id, request_hash, created_at FROM idempotency_keys WHERE key = ?",
            (key,),
        ).fetchone()
        conn.execute("DROP TABLE idempotency_keys")
        conn.execute(OLD_TABLE)
        conn.execute(
            "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?)",
            (key, account_id, digest, url, at),
        )
        for trigger in LATER_TRIGGERS:
            conn.execute(f"DROP TRIGGER {trigger}")
        for later in LATER_COLUMNS:  # what the migrations after it added, taken off again
            conn.execute(f"ALTER TABLE {later[0]} DROP COLUMN {later[1]}")
        for table in LATER_TABLES:
            conn.execute(f"DROP TABLE {table}")
        conn.execute(f"PRAGMA user_version = {BEFORE}")
