"""Central's own audit log (issue 12, finding 3): officers' logins, reads of full files and
photos, and decisions are appended to the same hash chain as the edges', and
`python -m central audit verify` checks it."""

from __future__ import annotations

import sqlite3

from starlette.testclient import TestClient

from central.__main__ import main as central_main
from replication.blob_upload import upload_pass
from tests.central_support import START, central_rows, ingest, yb002
from tests.conftest import login
from tests.test_central_officer import CIVIL_HEPU, _photos, file_url, post_decision


def _log(client: TestClient) -> list[sqlite3.Row]:
    return central_rows(
        client,
        "SELECT actor_id, role, action, object_type, object_id, result FROM audit_log ORDER BY seq",
    )


def _officer_id(client: TestClient) -> str:
    return central_rows(client, "SELECT id FROM accounts WHERE phone = ?", CIVIL_HEPU)[0]["id"]


def test_logins_are_recorded_without_the_phone(central):
    assert login(central, CIVIL_HEPU, "wrong-password").status_code != 303
    assert login(central, CIVIL_HEPU).status_code == 303
    assert login(central, "13900000000").status_code != 303
    officer = _officer_id(central)
    logins = [tuple(r) for r in _log(central) if r["action"] == "login"]
    assert logins[-3:] == [
        (officer, "officer", "login", "account", officer, "failed"),
        (officer, "officer", "login", "account", officer, "ok"),
        (None, "unknown", "login", "account", "", "failed"),
    ]
    assert not any(CIVIL_HEPU in str(value) for row in _log(central) for value in row)


def test_a_full_file_read_is_recorded(central):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    assert central.get(file_url(app)).status_code == 200
    read = _log(central)[-1]
    assert tuple(read) == (
        _officer_id(central),
        "officer",
        "read_personal_data",
        "application",
        f"lianzhou:{app['id']}",
        "ok",
    )


def test_a_photo_read_is_recorded(central, edges):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    photo = _photos(central, app)[0]
    assert upload_pass(edges["lianzhou"].replicated_node, START).sent > 0
    ingest(central, edges["lianzhou"])
    assert central.get(f"/officer/blobs/lianzhou/{photo['sha256']}").status_code == 200
    read = _log(central)[-1]
    assert (read["action"], read["object_type"], read["object_id"]) == (
        "read_personal_data",
        "photo",
        f"lianzhou:{photo['sha256']}",
    )


def test_a_decision_is_recorded_with_its_outcome(central):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    response = post_decision(central, app, action="approve", opinion="同意。")
    assert response.status_code == 303
    decided = [r for r in _log(central) if r["action"] == "decide"]
    assert [(r["object_type"], r["object_id"], r["result"]) for r in decided] == [
        ("step", f"lianzhou:{app['step_id']}", "approve")
    ]


def test_central_audit_verify_reports_an_edited_row(central, monkeypatch, capsys):
    login(central, CIVIL_HEPU)
    settings = central.app.state.node.settings
    monkeypatch.setenv("CUNBAN_CENTRAL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CUNBAN_CENTRAL_NODES", settings.nodes)
    assert central_main(["audit", "verify", "--node", "lianzhou"]) == 1  # no mirror followed
    assert "node lianzhou NOT checked: central has no mirror" in capsys.readouterr().out
    conn = sqlite3.connect(settings.database_path, isolation_level=None)
    seq = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET result = 'bad_password' WHERE seq = ?", (seq,))
    conn.close()
    assert central_main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "trigger audit_log_no_update is missing" in out
    assert f"row {seq} (" in out and "was edited" in out


def test_an_operators_publication_is_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("CUNBAN_CENTRAL_DATA_DIR", str(tmp_path / "central"))
    monkeypatch.setenv("CUNBAN_CENTRAL_NODES", "lianzhou=450521100000=http://127.0.0.2:8101")
    assert central_main(["publish-calendar", "2026", "2026"]) == 0
    with sqlite3.connect(tmp_path / "central" / "central.db") as conn:
        rows = conn.execute("SELECT actor_id, role, action, object_type FROM audit_log").fetchall()
    assert rows == [(None, "operator", "publish_calendar", "feed")]
    assert central_main(["audit", "verify"]) == 1  # the node has no mirror to compare yet
