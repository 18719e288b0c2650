"""What public pages and sealed documents may carry of free text (issue 12, finding 1): ID
numbers and mobile numbers in an opinion are masked on /verify, on /track and in new seals;
the staff file keeps the opinion as written and the form warns that it is public."""

from __future__ import annotations

import asyncio

from starlette.testclient import TestClient

from edge.kernel.db import Database
from edge.seals.signing import seal
from edge.settings import Settings
from tests.central_support import central_rows, take_feed, yb002
from tests.conftest import AGENT_QIANJIANG, OFFICER_AGRI, STAFF, login
from tests.intake_support import resident_id, rows
from tests.test_applications import _accept, _decide
from tests.test_central_officer import CIVIL_HEPU, file_url, post_decision

# an opinion naming a third person with her ID number and mobile, as the audit typed it
THIRD_ID = resident_id(birth="19800101", serial="222")
THIRD_PHONE = "13912345678"
OPINION = f"经核实，与申请人同住的王秀英（身份证{THIRD_ID}，电话{THIRD_PHONE}）另有住房"


def _unmasked(text: str) -> list[str]:
    return [value for value in (THIRD_ID, THIRD_PHONE, THIRD_ID[6:14]) if value in text]


# --- finding 1: opinions on public pages and in seals -----------------------------------------


def _rejected_with_opinion(client: TestClient, settings: Settings) -> tuple[str, str]:
    """(seal id, tracking code) of an application rejected with OPINION."""
    application_id = _accept(client, "NY-001")
    _decide(client, settings, STAFF, application_id, "township", "approve")
    done = _decide(client, settings, OFFICER_AGRI, application_id, "agri", "reject", OPINION)
    assert done.status_code == 303, done.text
    seal = rows(
        settings,
        "SELECT id, payload FROM seals WHERE application_id = ? AND kind = 'decision'",
        application_id,
    )[0]
    assert _unmasked(seal["payload"]) == []  # the signed payload itself holds no ID or phone
    assert "139****5678" in seal["payload"] and f"4505**********{THIRD_ID[-4:]}" in seal["payload"]
    code = rows(settings, "SELECT tracking_code FROM applications WHERE id = ?", application_id)
    return seal["id"], code[0][0]


def test_an_opinion_with_an_id_number_and_phone_is_masked_on_verify_and_track(client, settings):
    seal_id, code = _rejected_with_opinion(client, settings)
    client.cookies.clear()  # anyone, signed out
    verify = client.get(f"/verify/{seal_id}")
    assert verify.status_code == 200
    assert "签章有效" in verify.text  # masked before signing, so the seal holds
    assert _unmasked(verify.text) == [] and "139****5678" in verify.text
    client.get(f"/track/{code}")  # signed out: the page sets the visitor cookie, no token
    details = client.post(f"/track/{code}", data={"last4": "8000"})
    assert details.status_code == 200
    assert "另有住房" in details.text and "139****5678" in details.text
    assert _unmasked(details.text) == []


def test_staff_keep_the_opinion_as_written_and_are_warned_it_is_public(client, settings):
    _rejected_with_opinion(client, settings)
    step = rows(settings, "SELECT opinion FROM steps WHERE department_code = 'agri'")[0]
    assert step["opinion"] == OPINION  # the file keeps what the officer wrote
    other = _accept(client, "NY-001")
    login(client, STAFF)
    form = client.get(f"/staff/applications/{other}").text
    assert "意见会公开" in form and "请不要写姓名等个人信息" in form


def test_a_county_decision_at_central_seals_the_masked_opinion(central, edges):
    login(central, CIVIL_HEPU)
    app = yb002(central)
    assert "意见会公开" in central.get(file_url(app)).text  # the officer is warned too
    sent = post_decision(central, app, action="reject", opinion=OPINION)
    assert sent.status_code == 303, sent.text
    sealed = central_rows(central, "SELECT payload FROM seals")
    assert len(sealed) == 1 and _unmasked(sealed[0]["payload"]) == []
    assert "139****5678" in sealed[0]["payload"]
    assert take_feed(central, edges["lianzhou"]) == ["applied"]
    edge = edges["lianzhou"]
    step = rows(edge, "SELECT opinion FROM steps WHERE id = ?", app["step_id"])[0]
    assert step["opinion"] == OPINION  # the township's file keeps what the officer wrote
    for row in rows(edge, "SELECT payload FROM seals WHERE application_id = ?", app["id"]):
        assert _unmasked(row["payload"]) == []


def test_an_old_seal_with_an_unmasked_opinion_still_verifies_and_shows_masked(client, settings):
    """Seals made before this change carry the opinion as typed: still genuine, shown masked."""
    application_id = _accept(client, "CW-001")
    payload = {"tracking_code": "LZ20261123001", "decision": "rejected", "opinion": OPINION}
    seal_id = asyncio.run(_old_seal(settings, application_id, payload))
    assert THIRD_PHONE in rows(settings, "SELECT payload FROM seals WHERE id = ?", seal_id)[0][0]
    verify = client.get(f"/verify/{seal_id}")
    assert verify.status_code == 200 and "签章有效" in verify.text
    assert _unmasked(verify.text) == [] and "139****5678" in verify.text


async def _old_seal(settings: Settings, application_id: str, payload: dict[str, str]) -> str:
    """A seal as the code before issue 12 made it: the payload signed as given."""
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            return await seal(
                conn,
                settings.keys_dir,
                office="450521100000:township",
                kind="decision",
                application_id=application_id,
                payload=payload,
                now="2026-11-23T09:00:00+00:00",
            )
    finally:
        await db.close()


def test_a_rating_comment_is_masked_on_the_public_rating_page(client, settings):
    import re

    from tests.intake_support import rows, submit

    login(client, AGENT_QIANJIANG)
    submit(client, "CW-001")  # approved at intake: the SMS carries the rating link
    body = rows(settings, "SELECT body FROM sms_outbox WHERE template = 'approved'")[0]["body"]
    token = re.search(r"/rate/([0-9a-z]{10})", body).group(1)
    client.cookies.clear()
    client.get(f"/rate/{token}")
    comment = "请打13812345678或查450521195603121234"
    client.post(f"/rate/{token}", data={"level": "4", "comment": comment})
    page = client.get(f"/rate/{token}").text
    assert "13812345678" not in page and "450521195603121234" not in page
    assert "138****5678" in page


# --- issue 14: what staff and agents type into 阳光红页 content ---------------------------------


def test_id_numbers_and_phones_typed_into_bulletin_content_are_masked_on_every_public_page(
    client, settings
):
    from tests.bulletin_support import post_form
    from tests.conftest import QIANJIANG

    typed = f"联系人身份证{THIRD_ID}，电话{THIRD_PHONE}"
    login(client, STAFF)
    policy = post_form(
        client,
        "/staff/policies/new",
        {
            "title": "临时救助",
            "issuer": "廉州镇人民政府",
            "eligibility": typed,
            "amount": "视情况",
            "how_to_apply": typed,
            "valid_from": "2026-01-01",
        },
    ).headers["location"]
    affair = post_form(
        client,
        "/staff/affairs/new",
        {
            "village": QIANJIANG,
            "kind": "major",
            "period": "2026-11-20",
            "title": "低保评议结果",
            "body": typed,
            "save": "submit",
        },
    ).headers["location"]
    affair_id = affair.rsplit("/", 1)[1]
    post_form(client, f"/staff/affairs/{affair_id}/review", {"action": "approve"}, affair)
    election = post_form(
        client,
        "/staff/elections/new",
        {
            "village": QIANJIANG,
            "title": "候选人公示",
            "starts_on": "2026-11-20",
            "ends_on": "2026-11-30",
            "name_0": "黄建国",
            "role_0": "主任",
            "note": typed,
        },
    ).headers["location"]
    news = post_form(
        client, "/staff/news/new", {"place": QIANJIANG, "title": "通知", "body": typed}
    ).headers["location"]
    client.cookies.clear()
    for path in (
        policy,
        "/disclosure/policies",
        affair,
        f"/disclosure/affairs?village={QIANJIANG}",
        election,
        "/disclosure/elections",
        news,
        f"/news?village={QIANJIANG}",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert _unmasked(page.text) == [], path
        assert "139****5678" in page.text or path.startswith(("/disclosure", "/news?")), path


# --- issue 14: 我有话说, every public feedback page and Open311 answer ---------------------------

FEEDBACK_HREF = __import__("re").compile(r'href="(/feedback[^"#]*)"')


def _crawl_feedback(client: TestClient, start: list[str]) -> dict[str, str]:
    """Every /feedback page reachable from `start` by its links (signed out), by path."""
    seen: dict[str, str] = {}
    todo = list(start)
    while todo and len(seen) < 200:
        path = todo.pop().replace("&amp;", "&")
        if path in seen:
            continue
        page = client.get(path)
        seen[path] = page.text
        todo += [link for link in FEEDBACK_HREF.findall(page.text) if link not in seen]
    return seen


def test_no_feedback_page_or_open311_answer_prints_an_id_or_a_phone(central, edges, clock):
    from edge.app import create_app as create_edge
    from tests.central_support import ingest
    from tests.feedback_support import code_of, raise_item

    body = f"身份证{THIRD_ID}，电话{THIRD_PHONE}，家门口的排水沟堵了。"
    with TestClient(create_edge(edges["lianzhou"], clock), base_url="https://testserver") as edge:
        for category in ("roads", "assistance"):
            code = code_of(
                raise_item(edge, category=category, body=body, name="王秀英", phone=THIRD_PHONE)
            )
        edge.cookies.clear()
        pages = _crawl_feedback(edge, ["/feedback", f"/feedback/track/{code}"])
        assert len([p for p in pages if p.count("/") == 2 and "?" not in p]) >= 2
        for path, text in pages.items():
            assert _unmasked(text) == [], path
            assert "王秀英" not in text, path
    ingest(central, edges["lianzhou"])
    for path in ("/open311/v2/requests.json", "/open311/v2/requests.xml"):
        answer = central.get(path)
        assert answer.status_code == 200 and "139****5678" in answer.text
        assert _unmasked(answer.text) == [] and "王秀英" not in answer.text, path
    city = _crawl_feedback(central, ["/feedback", "/feedback?category=assistance"])
    assert any(p.startswith("/feedback/lianzhou/") for p in city)  # the county item's own page
    for path, text in city.items():
        assert _unmasked(text) == [] and "王秀英" not in text, path


# --- issue 13: the published 人机考核 ---------------------------------------------------------


def test_the_published_assessment_prints_no_person(client, settings):
    """Signed out, /disclosure/assessment names villages and offices only: no applicant, no
    officer, no phone or ID number from the months of rated history behind it."""
    from datetime import date

    from tests.test_supervision import _history

    _history(settings, date(2026, 11, 23), 200, seed=5)
    client.cookies.clear()
    people = rows(settings, "SELECT DISTINCT applicant_name, applicant_phone FROM applications")
    staff = [r["name"] for r in rows(settings, "SELECT name FROM accounts")]
    for path in ("/disclosure/assessment", "/disclosure/assessment?of=quarter"):
        page = client.get(path)
        assert page.status_code == 200 and "等次" in page.text, path
        assert _unmasked(page.text) == [], path
        shown = [n for r in people for n in r if n in page.text] + [
            n for n in staff if n in page.text
        ]
        assert shown == [], (path, shown)
