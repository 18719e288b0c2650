"""我的办事: a resident signs in with an SMS code and sees only their own applications and items;
codes are single-use, expire, are limited per phone, and staff never sign in by code."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from edge.settings import Settings
from tests.conftest import STAFF, MovableClock, login
from tests.intake_support import rows, submit
from tests.test_certificates import certify

APPLICANT = "13800138000"  # the phone tests/intake_support.py fills in
OTHER = "13912340000"


def _code(settings: Settings, phone: str) -> str:
    bodies = rows(
        settings,
        "SELECT body FROM sms_outbox WHERE phone = ? AND template = 'login_code' "
        "ORDER BY created_at DESC, id DESC",
        phone,
    )
    match = re.search(r"验证码(\d{6})", bodies[0]["body"])
    assert match, bodies[0]["body"]
    return match.group(1)


def _sign_in(client: TestClient, settings: Settings, phone: str) -> None:
    client.get("/me/login")
    sent = client.post("/me/login", data={"phone": phone})
    assert sent.status_code == 200 and "验证码已发到" in sent.text
    done = client.post(
        "/me/code", data={"phone": phone, "code": _code(settings, phone)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/me"


def test_a_resident_signs_in_by_sms_code_and_sees_only_their_applications(
    client: TestClient, settings: Settings
):
    login(client, "13807710011")  # the agent takes two applications, one for someone else
    submit(client, "MZ-002")
    submit(client, "CW-001", phone=OTHER)
    client.cookies.clear()
    assert client.get("/me", follow_redirects=False).headers["location"] == "/me/login"

    _sign_in(client, settings, APPLICANT)
    page = client.get("/me")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "最低生活保障" in page.text and 'href="/track/' in page.text
    assert "居住证明" not in page.text  # the other phone's application
    body = rows(settings, "SELECT body FROM sms_outbox WHERE template = 'login_code'")[0]["body"]
    assert len(body) <= 70


def test_a_code_is_single_use_expires_and_a_wrong_one_is_refused(
    client: TestClient, settings: Settings, clock: MovableClock
):
    client.get("/me/login")
    client.post("/me/login", data={"phone": APPLICANT})
    code = _code(settings, APPLICANT)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/me/code", data={"phone": APPLICANT, "code": wrong})
    assert refused.status_code == 401 and "验证码不对或已过期" in refused.text
    clock.advance(minutes=11)
    late = client.post("/me/code", data={"phone": APPLICANT, "code": code})
    assert late.status_code == 401
    client.post("/me/login", data={"phone": APPLICANT})
    fresh = _code(settings, APPLICANT)
    ok = client.post("/me/code", data={"phone": APPLICANT, "code": fresh}, follow_redirects=False)
    assert ok.status_code == 303
    client.cookies.clear()
    client.get("/me/login")
    again = client.post("/me/code", data={"phone": APPLICANT, "code": fresh})
    assert again.status_code == 401  # used up


def test_one_code_a_minute_per_phone(client: TestClient, settings: Settings, clock: MovableClock):
    client.get("/me/login")
    for _ in range(3):
        client.post("/me/login", data={"phone": APPLICANT})
    assert len(rows(settings, "SELECT id FROM sms_outbox WHERE template = 'login_code'")) == 1
    clock.advance(minutes=2)
    client.post("/me/login", data={"phone": APPLICANT})
    assert len(rows(settings, "SELECT id FROM sms_outbox WHERE template = 'login_code'")) == 2


def test_guessing_codes_is_throttled(client: TestClient, settings: Settings):
    client.get("/me/login")
    client.post("/me/login", data={"phone": APPLICANT})
    answers = [
        client.post("/me/code", data={"phone": APPLICANT, "code": f"{n:06d}"}).status_code
        for n in range(12)
    ]
    assert 429 in answers and answers.count(200) == 0


def test_staff_never_sign_in_by_code(client: TestClient, settings: Settings):
    client.get("/me/login")
    refused = client.post("/me/login", data={"phone": STAFF})
    assert refused.status_code == 400 and "工作人员请用密码登录" in refused.text
    assert rows(settings, "SELECT id FROM sms_outbox WHERE template = 'login_code'") == []
    assert client.post("/me/login", data={"phone": "123"}).status_code == 400


def test_a_resident_opens_and_prints_their_own_receipt_and_certificate_only(
    client: TestClient, settings: Settings
):
    application_id, seal_id = certify(client, settings)  # CW-001 for APPLICANT, sealed at intake
    other = submit(client, "CW-001", phone=OTHER).headers["location"].split("/")[3]
    client.cookies.clear()
    receipt = f"/me/applications/{application_id}/receipt"
    certificate = f"/me/certificates/{seal_id}"
    assert client.get(receipt, follow_redirects=False).headers["location"] == "/me/login"
    assert client.get(certificate, follow_redirects=False).headers["location"] == "/me/login"

    _sign_in(client, settings, APPLICANT)
    mine = client.get("/me").text
    assert f'href="{receipt}"' in mine and f'href="{certificate}"' in mine
    page = client.get(receipt)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "受理回执" in page.text and "data-print" in page.text and 'href="/me"' in page.text
    assert "潘*" in page.text and "138****8000" in page.text  # masked as on the agent's sheet
    assert "潘桂兰" not in page.text and "450521" + "19560312" not in page.text
    assert f'href="{certificate}"' in page.text  # the resident's own address, not the agent's
    sheet = client.get(certificate)
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    assert "潘桂兰" in sheet.text and "乾江村第三村民小组12号" in sheet.text
    assert "data-print" in sheet.text and 'data-qr="' in sheet.text
    assert "450521" + "19560312" not in sheet.text
    assert client.get(f"/me/applications/{other}/receipt").status_code == 404
    audited = rows(settings, "SELECT count(*) AS n FROM audit_log WHERE object_id = ?", seal_id)
    assert audited[0]["n"] == 0  # the resident's own document: no staff read to account for

    client.cookies.clear()
    _sign_in(client, settings, OTHER)  # another resident: neither document exists for them
    assert client.get(receipt).status_code == 404
    assert client.get(certificate).status_code == 404
    assert client.get(f"/me/applications/{other}/receipt").status_code == 200
    assert f'href="{receipt}"' not in client.get("/me").text
