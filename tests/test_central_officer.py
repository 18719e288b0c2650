"""County officers at central: login, their queue over every node, the file, photos from the
store, and decisions that travel down the feed and come back applied or refused."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import sqlite3
from typing import Any

from starlette.testclient import TestClient

from central.__main__ import main as central_main
from central.app import create_app
from edge.applications import lifecycle
from edge.kernel.auth.account import Account
from edge.kernel.blobstore import BlobStore
from edge.kernel.csrf import FIELD
from edge.kernel.db import Database
from edge.settings import Settings
from edge.sync.commands import placeholder_phone
from edge.workdays.working_days import load_working_days
from replication.blob_upload import upload_pass
from replication.objectstore import DirectoryStore, blob_key
from tests.central_support import (
    START,
    central_rows,
    ingest,
    take_feed,
    yb002,
)
from tests.conftest import csrf_of, login

CITY_ADMIN = "13807700001"
CIVIL_HEPU = "13807700100"  # 合浦县 (Lianzhou's county)
MEDICAL_HEPU = "13807700102"
EDUCATION_HEPU = "13807700105"
CIVIL_YINHAI = "13807701100"  # 银海区 (Fucheng's county)
APPLICANT = "李桂芬"  # the demo applicant of YB-002, in joint review by medical and civil
FIRST_ROUND_TRIP = 13_032
CSS_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)">')


def file_url(app: sqlite3.Row) -> str:
    return f"/officer/applications/{app['node_id']}/{app['id']}"


def post_decision(client: TestClient, app: sqlite3.Row, **fields: Any):
    token = csrf_of(client.get(file_url(app)).text)
    data = {"step_id": app["step_id"], FIELD: token, **fields}
    return client.post(file_url(app) + "/decide", data=data, follow_redirects=False)


def measure(client: TestClient, path: str) -> tuple[int, int, str]:
    """(HTML + CSS gzip bytes, SQL statements, HTML) of one page view."""
    statements: list[str] = []
    db = client.app.state.node.db
    db.add_tracer(statements.append)
    try:
        page = client.get(path)
    finally:
        db.remove_tracer(statements.append)
    assert page.status_code == 200, (path, page.status_code)
    assert not CSS_LINK.findall(page.text) and "<style>" in page.text  # CSS inline
    verbs = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
    counted = [s for s in statements if s.lstrip().split(" ", 1)[0].upper() in verbs]
    size = len(gzip.compress(page.content, 6))
    return size, len(counted), page.text


# --- login ---------------------------------------------------------------------------------


def test_officer_lands_on_the_queue_and_the_city_admin_on_nodes(central):
    response = login(central, CIVIL_HEPU)
    assert response.status_code == 303
    assert response.headers["location"] == "/officer/"
    for flag in ("HttpOnly", "Secure", "SameSite=lax"):
        assert flag in response.headers["set-cookie"]
    home = central.get("/officer/")
    assert home.status_code == 200
    assert "黄丽娟" in home.text and "合浦县" in home.text and "民政局" in home.text
    assert login(central, CITY_ADMIN).headers["location"] == "/nodes"
    assert central.get("/officer/").status_code == 403  # a city admin is not an officer


def test_wrong_password_and_logout_at_central(central):
    refused = login(central, CIVIL_HEPU, "wrong-password")
    assert refused.status_code == 401
    assert "手机号码或密码不正确" in refused.text
    assert "cb_session" not in central.cookies
    login(central, CIVIL_HEPU)
    page = central.get("/officer/")
    out = central.post("/logout", data={FIELD: csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert central_rows(central, "SELECT count(*) FROM sessions")[0][0] == 0
    again = central.get("/officer/", follow_redirects=False)
    assert again.headers["location"] == "/login?next=/officer/"


def test_every_post_at_central_checks_csrf(central):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    response = central.post(file_url(app) + "/decide", data={"step_id": app["step_id"]})
    assert response.status_code == 403
    assert central_rows(central, "SELECT count(*) FROM commands")[0][0] == 0


# --- demo accounts -------------------------------------------------------------------------


def test_demo_accounts_per_county_and_department_are_loaded_once(central, tmp_path, clock):
    accounts = central_rows(
        central, "SELECT phone, role, jurisdiction_code, department_code FROM accounts"
    )
    assert len(accounts) == 1 + 2 * 9 + 2  # and a supervisor per county (issue 13)
    by_phone = {row["phone"]: row for row in accounts}
    assert by_phone[CITY_ADMIN]["role"] == "central_admin"
    assert tuple(by_phone[CIVIL_HEPU])[1:] == ("officer", "450521000000", "civil")
    assert tuple(by_phone[CIVIL_YINHAI])[1:] == ("officer", "450503000000", "civil")
    assert by_phone["13807701108"]["department_code"] == "disability"
    settings = central.app.state.node.settings
    with TestClient(create_app(settings, clock), base_url="https://testserver") as again:
        assert central_rows(again, "SELECT count(*) FROM accounts")[0][0] == len(accounts)


def test_python_m_central_demo_lists_the_accounts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CUNBAN_CENTRAL_DATA_DIR", str(tmp_path / "central"))
    monkeypatch.setenv("CUNBAN_CENTRAL_NODES", "lianzhou=450521100000=http://127.0.0.2:8101")
    assert central_main(["demo"]) == 0
    assert central_main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "cunban-demo-2026" in out
    assert out.count("13807700001") == 2 and out.count("13807700108  officer") == 2
    assert "13807701100" not in out  # 银海区 has no registered township here


# --- the queue -----------------------------------------------------------------------------


def test_queue_lists_my_departments_county_steps_from_my_county_only(central):
    login(central, CIVIL_HEPU)
    page = central.get("/officer/").text
    mine = yb002(central)
    assert file_url(mine) in page
    assert file_url(yb002(central, "fucheng")) not in page  # another county's township
    assert "医疗救助申请" in page and "廉州镇" in page
    assert APPLICANT not in page and "李**" in page  # masked in lists
    assert "已发往乡镇" not in page
    login(central, CIVIL_YINHAI)
    yinhai = central.get("/officer/").text
    assert file_url(yb002(central, "fucheng")) in yinhai and file_url(mine) not in yinhai
    login(central, EDUCATION_HEPU)
    assert "/officer/applications/" not in central.get("/officer/").text


def _clone_application(client: TestClient, app: sqlite3.Row, suffix: str) -> None:
    """Another ingested application like `app` (more rows for the same officer)."""
    with sqlite3.connect(client.app.state.node.settings.database_path) as conn:
        conn.execute(
            "INSERT INTO edge_applications SELECT node_id, id || ?, "
            "tracking_code, item_code, village_code, agent_id, applicant_id_number, "
            "applicant_name, applicant_phone, form_data, status, stage, submitted_at, "
            "submitted_on, promised_due_on, paused_on, finished_at, rev, withdrawn_reason "
            "FROM edge_applications WHERE node_id = ? AND id = ?",
            (suffix, app["node_id"], app["id"]),
        )
        conn.execute(
            "INSERT INTO edge_steps SELECT node_id, id || ?, "
            "application_id || ?, stage, level, department_code, name_zh, "
            "name_en, days, status, started_on, due_on, decided_by, decided_at, opinion, rev "
            "FROM edge_steps WHERE node_id = ? AND application_id = ?",
            (suffix, suffix, app["node_id"], app["id"]),
        )


def test_queue_and_file_fit_the_budgets_and_do_not_query_per_row(central):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    size, one_row, page = measure(central, "/officer/")
    assert page.count("/officer/applications/") == 1
    for suffix in ("X1", "X2", "X3"):
        _clone_application(central, app, suffix)
    size, four_rows, page = measure(central, "/officer/")
    assert page.count("/officer/applications/") == 4
    assert four_rows == one_row <= 12
    assert size <= FIRST_ROUND_TRIP
    size, statements, _html = measure(central, file_url(app))
    assert size <= FIRST_ROUND_TRIP and statements <= 12


# --- the file ------------------------------------------------------------------------------


def test_file_page_shows_everything_to_the_deciding_officer(central):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    page = central.get(file_url(app))
    assert page.status_code == 200
    text = page.text
    assert APPLICANT in text and "450521194501010022" in text and "13907710002" in text
    assert "救助对象类别" in text and "医保报销后个人自付（元）" in text  # e-form labels
    assert "廉州镇 · 平田村" in text and "· lianzhou" not in text  # names, not the node id
    assert "县医保、民政联审审批" in text and "乡镇调查初审" in text  # steps history
    assert "照片尚未上传到中心" in text and "/officer/blobs/" not in text
    assert f'name="step_id" value="{app["step_id"]}"' in text
    assert 'name="material_keys"' in text


def test_file_is_hidden_from_other_departments_counties_and_roles(central):
    app = yb002(central)
    assert central.get(file_url(app), follow_redirects=False).status_code == 303  # sign in
    login(central, EDUCATION_HEPU)  # no step on this application
    assert central.get(file_url(app)).status_code == 404
    login(central, CIVIL_YINHAI)  # the right department, another county
    assert central.get(file_url(app)).status_code == 404
    assert central.get(file_url(yb002(central, "fucheng"))).status_code == 200
    login(central, CITY_ADMIN)
    assert central.get(file_url(app)).status_code == 403
    login(central, CIVIL_HEPU)
    assert central.get(f"/officer/applications/fucheng/{app['id']}").status_code == 404


# --- photos from the store -----------------------------------------------------------------


def _photos(client: TestClient, app: sqlite3.Row) -> list[sqlite3.Row]:
    return central_rows(
        client,
        "SELECT sha256, thumb_sha256 FROM edge_attachments WHERE node_id = ? AND "
        "application_id = ? AND kind = 'material' ORDER BY created_at, id",
        app["node_id"],
        app["id"],
    )


def test_photos_are_served_from_the_store_once_uploaded(central, edges):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    photo = _photos(central, app)[0]
    url = f"/officer/blobs/lianzhou/{photo['sha256']}"
    assert central.get(url).status_code == 404  # not in the store yet
    assert upload_pass(edges["lianzhou"].replicated_node, START).sent > 0
    ingest(central, edges["lianzhou"])
    page = central.get(file_url(app)).text
    assert f'<img src="/officer/blobs/lianzhou/{photo["thumb_sha256"]}"' in page
    assert "照片尚未上传到中心" not in page
    served = central.get(url)
    assert served.status_code == 200
    assert served.content == BlobStore(edges["lianzhou"].blobs_dir).read(photo["sha256"])
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "no-store"
    assert served.headers["x-content-type-options"] == "nosniff"
    thumb = central.get(f"/officer/blobs/lianzhou/{photo['thumb_sha256']}")
    assert thumb.status_code == 200 and len(thumb.content) < len(served.content)
    login(central, CIVIL_YINHAI)
    assert central.get(url).status_code == 404
    login(central, EDUCATION_HEPU)
    assert central.get(url).status_code == 404


def test_a_damaged_or_foreign_object_is_never_served(central, edges):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    photo = _photos(central, app)[0]
    store = DirectoryStore(edges["lianzhou"].replica.replica_dir)
    store.put(blob_key("lianzhou", photo["sha256"]), b"\xff\xd8 not the photo", "image/jpeg")
    assert central.get(f"/officer/blobs/lianzhou/{photo['sha256']}").status_code == 404
    stranger = "ab" * 32
    store.put(blob_key("lianzhou", stranger), b"whatever", "image/jpeg")
    assert central.get(f"/officer/blobs/lianzhou/{stranger}").status_code == 404
    assert central.get("/officer/blobs/lianzhou/..%2F..%2Fcentral.db").status_code == 404


# --- decisions -----------------------------------------------------------------------------


def test_a_decision_is_sealed_sent_down_the_feed_and_seen_applied(central, edges):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    sent = post_decision(central, app, action="approve", opinion="同意救助")
    assert sent.status_code == 303
    assert sent.headers["location"] == file_url(app)
    commands = central_rows(central, "SELECT * FROM commands")
    assert len(commands) == 1
    command = commands[0]
    assert (command["node_id"], command["kind"], command["step_id"]) == (
        "lianzhou",
        "county_decision",
        app["step_id"],
    )
    assert '"action": "approve"' in command["payload"] and APPLICANT not in command["payload"]
    page = central.get(file_url(app)).text
    assert "已发往乡镇，等待执行" in page
    assert f'name="step_id" value="{app["step_id"]}"' not in page  # no second form
    assert "已发往乡镇，等待执行" in central.get("/officer/").text

    assert take_feed(central, edges["lianzhou"]) == ["applied"]
    ingest(central, edges["lianzhou"])
    page = central.get(file_url(app)).text
    assert "乡镇已执行" in page and "已发往乡镇，等待执行" not in page
    assert file_url(app) not in central.get("/officer/").text  # nothing left to decide
    login(central, MEDICAL_HEPU)  # the joint review still waits for healthcare security
    assert file_url(app) in central.get("/officer/").text


def test_a_double_submit_makes_one_command_and_says_why(central):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    token = csrf_of(central.get(file_url(app)).text)
    data = {"step_id": app["step_id"], "action": "approve", "opinion": "", FIELD: token}
    first = central.post(file_url(app) + "/decide", data=data, follow_redirects=False)
    second = central.post(file_url(app) + "/decide", data=data, follow_redirects=False)
    assert first.status_code == 303
    assert second.status_code == 409
    assert "这个环节的决定已经发往乡镇，正在等待执行。" in second.text
    assert central_rows(central, "SELECT count(*) FROM commands")[0][0] == 1


def test_a_refused_decision_keeps_what_was_typed(central):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    no_reason = post_decision(central, app, action="reject", opinion="  ")
    assert no_reason.status_code == 400
    assert "不予批准或退回补正时必须写明理由。" in no_reason.text
    assert 'value="reject" checked' in no_reason.text
    no_materials = post_decision(central, app, action="return", opinion="照片不清晰")
    assert no_materials.status_code == 400
    assert "退回补正时请勾选需要补正的材料。" in no_materials.text
    assert "照片不清晰</textarea>" in no_materials.text
    assert central_rows(central, "SELECT count(*) FROM commands")[0][0] == 0


def test_another_departments_step_or_application_cannot_be_decided(central):
    app = yb002(central)
    medical_step = central_rows(
        central,
        "SELECT id FROM edge_steps WHERE node_id = ? AND application_id = ? "
        "AND department_code = 'medical'",
        app["node_id"],
        app["id"],
    )[0]["id"]
    login(central, CIVIL_HEPU)
    wrong_step = post_decision(central, {**app, "step_id": medical_step}, action="approve")
    assert wrong_step.status_code == 400
    assert "这个环节不归您的部门办理。" in wrong_step.text
    login(central, CIVIL_YINHAI)
    token = csrf_of(central.get("/officer/").text)
    outside = central.post(
        file_url(app) + "/decide",
        data={"step_id": app["step_id"], "action": "approve", FIELD: token},
    )
    assert outside.status_code == 404
    assert central_rows(central, "SELECT count(*) FROM commands")[0][0] == 0


def _withdraw_at_the_edge(edge: Settings, application_id: str) -> None:
    async def run() -> None:
        db = Database(edge.database_path)
        await db.open()
        try:
            async with db.write() as conn:
                async with conn.execute(
                    "SELECT * FROM accounts WHERE role = 'agent' LIMIT 1"
                ) as cursor:
                    agent = Account.from_row(await cursor.fetchone())
                days = await load_working_days(conn, START, edge.web.timezone, 1)
                ctx = lifecycle.Context(agent, START, days, edge.keys_dir)
                await lifecycle.withdraw(conn, ctx, application_id, "not_needed")
        finally:
            await db.close()

    asyncio.run(run())


def test_a_decision_the_township_refused_shows_its_reason(central, edges):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    returned = post_decision(
        central, app, action="return", opinion="补充诊断证明", material_keys=["id_card"]
    )
    assert returned.status_code == 303
    payload = central_rows(central, "SELECT payload FROM commands")[0][0]
    assert '"material_keys": ["id_card"]' in payload
    _withdraw_at_the_edge(edges["lianzhou"], app["id"])  # the resident withdrew meanwhile
    assert take_feed(central, edges["lianzhou"]) == ["refused"]
    ingest(central, edges["lianzhou"])
    page = central.get(file_url(app)).text
    assert "乡镇未执行" in page and "no longer waiting" in page


def test_the_queue_shows_a_refusal_and_the_step_can_be_decided_again(central, edges):
    officer = central_rows(central, "SELECT id FROM accounts WHERE phone = ?", CIVIL_HEPU)[0]
    with sqlite3.connect(edges["lianzhou"].database_path) as conn:  # a local account took
        conn.execute(  # the officer's number there, so the edge cannot name the officer
            "UPDATE accounts SET phone = ? WHERE phone = '13807710021'",
            (placeholder_phone(officer["id"]),),
        )
    login(central, CIVIL_HEPU)
    app = yb002(central)
    assert post_decision(central, app, action="approve").status_code == 303
    assert take_feed(central, edges["lianzhou"]) == ["refused"]
    ingest(central, edges["lianzhou"])
    queue = central.get("/officer/").text
    assert "乡镇未执行" in queue and "another account" in queue
    page = central.get(file_url(app)).text
    assert f'name="step_id" value="{app["step_id"]}"' in page  # not pending: decide again


def test_the_feed_carries_the_officers_account_id_not_their_phone(central, edges):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    assert post_decision(central, app, action="approve", opinion="同意救助").status_code == 303
    payload = json.loads(central_rows(central, "SELECT payload FROM commands")[0]["payload"])
    officer_id = central_rows(central, "SELECT id FROM accounts WHERE phone = ?", CIVIL_HEPU)
    assert payload["officer"]["id"] == officer_id[0]["id"]
    assert "phone" not in payload["officer"]
    assert CIVIL_HEPU not in json.dumps(payload)
    assert take_feed(central, edges["lianzhou"]) == ["applied"]
    with sqlite3.connect(edges["lianzhou"].database_path) as edge_db:
        kept = edge_db.execute(
            "SELECT phone, origin FROM accounts WHERE id = ?", (officer_id[0]["id"],)
        ).fetchall()
    assert len(kept) == 1 and kept[0][1] == "central" and kept[0][0] != CIVIL_HEPU
