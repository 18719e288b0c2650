"""Applications end to end on one node: every path, through the real pages and forms."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from edge.audit.verify import verify_chain
from edge.kernel.db import connect_sync
from tests.conftest import (
    AGENT_HUANZHU,
    AGENT_QIANJIANG,
    OFFICER_AGRI,
    OFFICER_LAND,
    STAFF,
    csrf_of,
    login,
)
from tests.intake_support import KEY_FIELD, photo, rows, submit

ROOT = Path(__file__).resolve().parent.parent
RECEIPT = re.compile(r"/agent/applications/([0-9A-Z]{26})/receipt")


def _accept(client, code: str) -> str:
    login(client, AGENT_QIANJIANG)
    response = submit(client, code)
    assert response.status_code == 303, response.text
    return RECEIPT.match(response.headers["location"]).group(1)


def _decide(
    client,
    settings,
    phone: str,
    application_id: str,
    department: str,
    action: str,
    opinion: str = "",
    materials: tuple[str, ...] = (),
):
    login(client, phone)
    page = client.get(f"/staff/applications/{application_id}")
    assert page.status_code == 200
    step = rows(
        settings,
        "SELECT id FROM steps WHERE application_id = ? AND department_code = ?"
        " AND status = 'active'",
        application_id,
        department,
    )[0]["id"]
    data = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),
        "action": action,
        "opinion": opinion,
        "materials": list(materials),
    }
    return client.post(f"/staff/steps/{step}/decide", data=data, follow_redirects=False)


def _status(settings, application_id: str) -> str:
    return rows(settings, "SELECT status FROM applications WHERE id = ?", application_id)[0][0]


def _sms(settings, application_id: str) -> list[str]:
    return [
        r["template"]
        for r in rows(
            settings,
            "SELECT template FROM sms_outbox WHERE application_id = ? ORDER BY created_at, id",
            application_id,
        )
    ]


def _chain_ok(settings) -> None:
    conn = connect_sync(settings.database_path)
    try:
        assert verify_chain(conn) == []
    finally:
        conn.close()


def test_village_direct_item_is_certified_at_intake(client, settings):
    application_id = _accept(client, "CW-001")
    receipt = client.get(f"/agent/applications/{application_id}/receipt")
    assert receipt.status_code == 200
    assert "潘*" in receipt.text and "潘桂兰" not in receipt.text
    assert "4505**********" in receipt.text and "13800138000" not in receipt.text
    assert "<svg" in receipt.text  # the QR code of the tracking URL
    assert _status(settings, application_id) == "approved"
    seal = rows(settings, "SELECT id, kind FROM seals WHERE application_id = ?", application_id)
    assert [s["kind"] for s in seal] == ["village_certificate"]
    verify = client.get(f"/verify/{seal[0]['id']}")
    assert verify.status_code == 200 and "潘桂兰" not in verify.text
    assert _sms(settings, application_id) == ["approved"]
    _chain_ok(settings)


def test_three_level_joint_review_approved(client, settings):
    application_id = _accept(client, "NY-001")
    assert _sms(settings, application_id) == ["accepted"]
    steps = rows(
        settings,
        "SELECT stage, department_code, status, due_on FROM steps "
        "WHERE application_id = ? ORDER BY stage, department_code",
        application_id,
    )
    assert [(s["stage"], s["department_code"], s["status"]) for s in steps] == [
        (0, "township", "active"),
        (1, "agri", "waiting"),
        (1, "land", "waiting"),
    ]
    assert (
        _decide(client, settings, STAFF, application_id, "township", "approve").status_code == 303
    )
    assert (
        _decide(client, settings, OFFICER_AGRI, application_id, "agri", "approve").status_code
        == 303
    )
    assert _status(settings, application_id) == "in_review"  # land has not decided yet
    assert (
        _decide(
            client, settings, OFFICER_LAND, application_id, "land", "approve", "符合规划"
        ).status_code
        == 303
    )
    assert _status(settings, application_id) == "approved"
    assert _sms(settings, application_id) == ["accepted", "approved"]
    seal = rows(
        settings,
        "SELECT id FROM seals WHERE application_id = ? AND kind = 'decision'",
        application_id,
    )
    assert len(seal) == 1
    assert client.get(f"/verify/{seal[0]['id']}").status_code == 200
    code = rows(settings, "SELECT tracking_code FROM applications WHERE id = ?", application_id)[0][
        0
    ]
    assert "已办结（批准）" in client.get(f"/track/{code}").text
    _chain_ok(settings)


def test_rejection_in_a_joint_review_needs_reasons_and_ends_the_application(client, settings):
    application_id = _accept(client, "NY-001")
    _decide(client, settings, STAFF, application_id, "township", "approve")
    refused = _decide(client, settings, OFFICER_AGRI, application_id, "agri", "reject")
    assert refused.status_code == 400
    assert "不予批准或退回补正时必须写明理由。" in refused.text  # the same words as central's
    assert _status(settings, application_id) == "in_review"
    done = _decide(
        client, settings, OFFICER_AGRI, application_id, "agri", "reject", "选址占用永久基本农田"
    )
    assert done.status_code == 303
    assert _status(settings, application_id) == "rejected"
    assert _sms(settings, application_id) == ["accepted", "rejected"]
    land = rows(
        settings,
        "SELECT status FROM steps WHERE application_id = ? AND department_code = 'land'",
        application_id,
    )[0][0]
    assert land == "cancelled"  # the other department of the joint review has nothing left to do
    login(client, OFFICER_LAND)
    page = client.get(f"/staff/applications/{application_id}")
    assert "不予批准" in page.text and 'action="/staff/steps/' not in page.text
    _chain_ok(settings)


def test_return_for_supplement_and_resubmit(client, settings):
    application_id = _accept(client, "MZ-002")
    returned = _decide(
        client,
        settings,
        STAFF,
        application_id,
        "township",
        "return",
        "户口簿照片不清楚",
        ("household_ids",),
    )
    assert returned.status_code == 303
    assert _status(settings, application_id) == "returned"
    assert _sms(settings, application_id) == ["accepted", "returned", "materials"]
    listed = rows(
        settings,
        "SELECT body FROM sms_outbox WHERE application_id = ? AND template = 'materials'",
        application_id,
    )[0]["body"]
    assert "户口簿" in listed and "需补正，请带齐" in listed  # 一次性告知: what to bring
    login(client, AGENT_QIANJIANG)
    page = client.get(f"/agent/applications/{application_id}")
    assert "户口簿照片不清楚" in page.text
    assert 'name="material_household_ids"' in page.text
    assert 'name="material_application_form"' not in page.text  # only what was asked
    data = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),
    }
    files = [("material_household_ids", ("hukou.jpg", photo((1, 2, 3)), "image/jpeg"))]
    again = client.post(
        f"/agent/applications/{application_id}/supplement",
        data=data,
        files=files,
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert again.headers["location"].endswith("?done=resubmitted#done")
    assert _status(settings, application_id) == "in_review"
    assert (
        rows(
            settings,
            "SELECT status FROM steps WHERE application_id = ? AND stage = 0",
            application_id,
        )[0][0]
        == "active"
    )
    shown = client.get(again.headers["location"]).text
    assert "补正材料已提交" in shown  # the agent is told it went through
    township_step = shown.split('<li class="step-active">')[1].split("</li>")[0]
    assert "期限" in township_step and "办理 " not in township_step  # not the return date
    assert (
        _decide(client, settings, STAFF, application_id, "township", "approve").status_code == 303
    )
    _chain_ok(settings)


def test_withdraw_through_the_agent(client, settings):
    application_id = _accept(client, "MZ-002")
    page = client.get(f"/agent/applications/{application_id}")
    confirm_url = f"/agent/applications/{application_id}/withdraw"
    assert f'href="{confirm_url}"' in page.text  # a link to a confirmation, not a one-tap form
    assert f'action="{confirm_url}"' not in page.text
    confirm = client.get(confirm_url)
    assert confirm.status_code == 200 and "不能恢复" in confirm.text and "撤回原因" in confirm.text
    data = {
        "csrf_token": csrf_of(confirm.text),
        "idempotency_key": KEY_FIELD.search(confirm.text).group(1),
    }

    no_reason = client.post(confirm_url, data=data, follow_redirects=False)
    assert no_reason.status_code == 400 and "请选择撤回的原因" in no_reason.text
    assert _status(settings, application_id) == "in_review"

    response = client.post(confirm_url, data=data | {"reason": "elsewhere"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=withdrawn#done")
    assert _status(settings, application_id) == "withdrawn"
    assert (
        rows(settings, "SELECT withdrawn_reason FROM applications WHERE id = ?", application_id)[0][
            0
        ]
        == "elsewhere"
    )
    assert (
        rows(
            settings, "SELECT DISTINCT status FROM steps WHERE application_id = ?", application_id
        )[0][0]
        == "cancelled"
    )
    shown = client.get(response.headers["location"]).text
    assert "已撤回这件申请" in shown and "申请人已到其他地方办理" in shown
    again = client.post(
        confirm_url,
        data=data | {"idempotency_key": "01JZZZZZZZZZZZZZZZZZZZZZZZ", "reason": "other"},
    )
    assert again.status_code == 409
    assert "这件申请已经撤回了" in again.text


def test_an_id_number_typo_is_refused_and_the_form_keeps_everything(client, settings):
    login(client, AGENT_QIANJIANG)
    from tests.intake_support import intake_data, intake_files, open_form, resident_id

    token, key = open_form(client, "MZ-002")
    typo = resident_id()[:10] + ("1" if resident_id()[10] != "1" else "2") + resident_id()[11:]
    data = intake_data("MZ-002", id_number=typo) | {"csrf_token": token, "idempotency_key": key}
    response = client.post("/agent/apply/MZ-002", data=data, files=intake_files("MZ-002"))
    assert response.status_code == 400
    assert "校验不通过" in response.text
    assert 'value="潘桂兰"' in response.text and f'value="{typo}"' in response.text
    assert 'name="kept_household_ids"' in response.text  # photos are kept too
    assert rows(settings, "SELECT count(*) FROM applications")[0][0] == 0


def test_photos_kept_by_a_refused_form_attach_for_their_agent_only(client, settings):
    from tests.intake_support import intake_data, intake_files, open_form

    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "MZ-002")
    data = intake_data("MZ-002", id_number="1")
    refused = client.post(
        "/agent/apply/MZ-002",
        data=data | {"csrf_token": token, "idempotency_key": key},
        files=intake_files("MZ-002"),
    )
    assert refused.status_code == 400
    kept = dict(re.findall(r'name="(kept_[a-z_]+)" value="([^"]+)"', refused.text))
    assert "kept_signature" in kept and len(kept) >= 2
    login(client, AGENT_HUANZHU)  # the tokens, copied to another village's agent
    other_token, other_key = open_form(client, "MZ-002")
    stolen = client.post(
        "/agent/apply/MZ-002",
        data=intake_data("MZ-002")
        | kept
        | {"csrf_token": other_token, "idempotency_key": other_key},
    )
    assert stolen.status_code == 400 and "kept_" not in stolen.text
    assert rows(settings, "SELECT count(*) FROM applications")[0][0] == 0
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "MZ-002")
    fixed = client.post(
        "/agent/apply/MZ-002",
        data=intake_data("MZ-002") | kept | {"csrf_token": token, "idempotency_key": key},
        follow_redirects=False,
    )
    assert fixed.status_code == 303, fixed.text
    assert rows(settings, "SELECT count(*) FROM attachments")[0][0] == len(kept)


def test_agent_of_another_village_cannot_see_the_application(client, settings):
    application_id = _accept(client, "MZ-002")
    attachment = rows(
        settings, "SELECT id FROM attachments WHERE application_id = ?", application_id
    )[0]["id"]
    login(client, AGENT_HUANZHU)
    assert client.get(f"/agent/applications/{application_id}").status_code == 404
    assert client.get(f"/agent/applications/{application_id}/receipt").status_code == 404
    assert client.get(f"/staff/attachments/{attachment}").status_code == 404
    login(client, STAFF)
    photo_response = client.get(f"/staff/attachments/{attachment}")
    assert photo_response.status_code == 200
    assert photo_response.headers["content-type"] == "image/jpeg"
    assert photo_response.headers["x-content-type-options"] == "nosniff"
    assert photo_response.headers["content-disposition"].startswith("inline;")
    thumb = client.get(f"/staff/attachments/{attachment}/thumb")
    assert len(thumb.content) <= 15_000


def test_staff_reading_personal_data_is_audited(client, settings):
    application_id = _accept(client, "MZ-002")
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}")
    assert "潘桂兰" in page.text  # the staff detail view is the one place with full data
    reads = rows(
        settings,
        "SELECT actor_id FROM audit_log WHERE action = 'read_personal_data' AND object_id = ?",
        application_id,
    )
    assert len(reads) == 1


def test_audit_verify_command_detects_an_edit_behind_the_apps_back(client, settings):
    _accept(client, "MZ-002")
    env = {
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": "450521100000",
        "CUNBAN_DATA_DIR": str(settings.data_dir),
        "PATH": "/usr/bin:/bin",
    }
    ok = subprocess.run(
        [sys.executable, "-m", "edge", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    conn = connect_sync(settings.database_path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET result = 'denied' WHERE seq = 2")  # the submission
    conn.close()
    bad = subprocess.run(
        [sys.executable, "-m", "edge", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "2" in bad.stdout


def test_demo_data_shows_every_state_and_loads_once(settings):
    import asyncio

    from edge.demo import load_demo_applications
    from edge.kernel.clock import system_clock
    from edge.kernel.db import Database
    from tests.conftest import prepare

    asyncio.run(prepare(settings))

    async def load() -> int:
        db = Database(settings.database_path)
        await db.open()
        try:
            async with db.write() as conn:
                return await load_demo_applications(conn, settings, system_clock())
        finally:
            await db.close()

    assert asyncio.run(load()) > 0
    assert asyncio.run(load()) == 0
    statuses = {r[0] for r in rows(settings, "SELECT status FROM applications")}
    assert statuses == {"in_review", "returned", "approved", "rejected", "withdrawn"}
    kinds = {r[0] for r in rows(settings, "SELECT kind FROM seals")}
    assert kinds == {"decision", "village_certificate"}
    _chain_ok(settings)


def test_node_admin_sees_the_sms_outbox_with_masked_phones(client, settings):
    _accept(client, "MZ-002")
    assert client.get("/admin/sms").status_code == 403  # the agent may not
    login(client, "13807710001")
    page = client.get("/admin/sms")
    assert page.status_code == 200
    assert "138****8000" in page.text and "13800138000" not in page.text
    assert "已受理" in page.text


def test_a_decision_confirms_success_and_shows_a_missing_field_where_the_form_is(client, settings):
    application_id = _accept(client, "MZ-002")
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}")
    step = rows(settings, "SELECT id FROM steps WHERE application_id = ?", application_id)[0]["id"]
    form_at = f'action="/staff/steps/{step}/decide#decide-{step}" id="decide-{step}"'
    assert form_at in page.text  # after a refused post the browser lands on the form
    data = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),
        "opinion": "",
    }

    missing = client.post(f"/staff/steps/{step}/decide", data=data)
    assert missing.status_code == 400
    form_start = missing.text.index(f'id="decide-{step}"')
    error_at = missing.text.index("请选择办理结果")
    assert form_start < error_at < form_start + 1500  # the message is at the top of the form

    decided = client.post(
        f"/staff/steps/{step}/decide", data=data | {"action": "approve"}, follow_redirects=False
    )
    assert decided.status_code == 303
    shown = client.get(decided.headers["location"]).text
    assert 'id="done" role="status"' in shown and "办理结果已提交" in shown
    assert 'role="status"' not in client.get(f"/staff/applications/{application_id}").text


def test_each_card_sits_next_to_the_deadline_it_is_about(client, settings, clock):
    """ "审核中 · 正常" beside "黄牌：即将到期" read as a contradiction: the file's promised
    date and the step's own deadline each carry their own card, named."""
    application_id = _accept(client, "MZ-002")
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}").text
    status = page.split("当前状态</dt><dd>")[1].split("</dd>")[0]
    assert "badge" not in status
    promised = page.split("承诺办结日期</dt><dd>")[1].split("</dd>")[0]
    assert 'class="badge badge-green"' in promised
    step_deadline = page.split("本环节期限 ")[1].split("</p>")[0]
    assert 'class="badge badge-' in step_deadline


def test_the_agent_finds_an_item_by_words_or_department(client):
    login(client, AGENT_QIANJIANG)
    everything = client.get("/agent/apply")
    assert everything.text.count('href="/agent/apply/') == 42
    assert 'name="q"' in everything.text and 'name="dept"' in everything.text
    found = client.get("/agent/apply", params={"q": "低保"})
    assert 'href="/agent/apply/MZ-002"' in found.text
    assert found.text.count('href="/agent/apply/') < 42
    by_department = client.get("/agent/apply", params={"dept": "education"})
    links = set(re.findall(r'href="/agent/apply/([A-Z]+-\d{3})"', by_department.text))
    assert links and all(code.startswith("JY-") for code in links), links
    fragment = client.get("/agent/apply", params={"q": "低保"}, headers={"HX-Request": "true"})
    assert fragment.text.startswith('<section id="results"') and "<h1>" not in fragment.text


def test_the_village_agent_sees_whom_to_call_and_the_read_is_audited(client, settings):
    application_id = _accept(client, "MZ-002")
    before = rows(settings, "SELECT count(*) FROM audit_log WHERE action = 'read_personal_data'")
    page = client.get(f"/agent/applications/{application_id}")
    assert page.status_code == 200
    assert "潘桂兰" in page.text and 'href="tel:13800138000"' in page.text
    assert page.headers["cache-control"] == "no-store"  # never kept on the phone
    after = rows(settings, "SELECT count(*) FROM audit_log WHERE action = 'read_personal_data'")
    assert after[0][0] == before[0][0] + 1
    login(client, AGENT_HUANZHU)  # another village's agent sees nothing of it
    assert client.get(f"/agent/applications/{application_id}").status_code == 404


def test_the_agent_home_offers_each_task_once(client):
    """Take in an application, check a certificate, leave a message for a resident, the
    market desk: one link each (a merge had left three 受理新申请 buttons)."""
    login(client, AGENT_QIANJIANG)
    home = client.get("/agent/")
    assert home.status_code == 200
    for path in ("/agent/apply", "/agent/check", "/agent/feedback/new", "/agent/market"):
        assert len(re.findall(rf'href="{re.escape(path)}"', home.text)) == 1, path
