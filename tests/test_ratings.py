"""好差评 through the real app: one invitation per closed application, the SMS link, change
within 24 hours, the agent-device flag, follow-ups with their cards, the published figures."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from edge.kernel.db import Database
from edge.ratings import queries
from tests.conftest import AGENT_QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import KEY_FIELD, rows, submit

SUPERVISOR = "13807710003"
LINK = re.compile(r"/rate/([0-9a-z]{10})")
# 9:00 in Shanghai on Wednesday 30 September 2026, the day before 国庆
BEFORE_GUOQING = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)


def _close(client, code: str = "CW-001") -> str:
    """A village-direct application, approved at intake; its id."""
    login(client, AGENT_QIANJIANG)
    response = submit(client, code)
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/")[3]


def _token(settings, application_id: str, template: str = "approved") -> str:
    bodies = rows(
        settings,
        "SELECT body FROM sms_outbox WHERE application_id = ? AND template = ? ORDER BY id",
        application_id,
        template,
    )
    match = LINK.search(bodies[-1]["body"])
    assert match, bodies[-1]["body"]
    return match.group(1)


def _rate(client, token: str, level: int, comment: str = "", **extra: str):
    page = client.get(f"/rate/{token}")
    data = {"level": str(level), "comment": comment, **extra}
    if 'name="csrf_token"' in page.text:
        data["csrf_token"] = csrf_of(page.text)
    return client.post(f"/rate/{token}", data=data, follow_redirects=False)


def _rating(settings, application_id: str, round_: int = 1):
    return rows(
        settings,
        "SELECT * FROM ratings WHERE application_id = ? AND round = ?",
        application_id,
        round_,
    )[0]


def test_closing_invites_one_rating_with_a_link_in_the_closing_sms(client, settings):
    application_id = _close(client)
    invitations = rows(settings, "SELECT * FROM ratings WHERE application_id = ?", application_id)
    assert len(invitations) == 1
    assert invitations[0]["level"] is None and invitations[0]["office_level"] == "village"
    body = rows(
        settings,
        "SELECT body FROM sms_outbox WHERE application_id = ? AND template = 'approved'",
        application_id,
    )[0]["body"]
    assert len(body) <= 70 and "/rate/" in body and "回1-5" in body
    token = LINK.search(body).group(1)
    assert token not in str(tuple(invitations[0]))  # only its hash is kept


def test_a_rating_by_link_without_login_can_change_for_24_hours_only(client, settings, clock):
    application_id = _close(client)
    token = _token(settings, application_id)
    client.cookies.clear()
    page = client.get(f"/rate/{token}")
    assert page.status_code == 200 and "非常满意" in page.text and "csrf_token" not in page.text
    assert _rate(client, token, 2, "服务很好").status_code == 303
    row = _rating(settings, application_id)
    assert (row["level"], row["channel"], row["comment"]) == (2, "link", "服务很好")
    shown = client.get(f"/rate/{token}?done=1")
    assert "谢谢您的评价" in shown.text and "<strong>满意</strong>" in shown.text
    clock.advance(hours=23)
    assert _rate(client, token, 1, efficiency="1").status_code == 303
    row = _rating(settings, application_id)
    assert (row["level"], row["efficiency"]) == (1, 1) and row["changed_at"] is not None
    clock.advance(hours=2)
    late = _rate(client, token, 5)
    assert late.status_code == 400 and "超过24小时" in late.text
    assert _rating(settings, application_id)["level"] == 1
    assert "不能再修改" in client.get(f"/rate/{token}").text
    assert client.get("/rate/0000000000").status_code == 404
    assert client.get("/rate/not-a-token").status_code == 404


def test_a_rating_without_a_level_is_refused_with_a_message(client, settings):
    application_id = _close(client)
    token = _token(settings, application_id)
    client.cookies.clear()
    client.get(f"/rate/{token}")
    response = client.post(f"/rate/{token}", data={"comment": "没选"}, follow_redirects=False)
    assert response.status_code == 400 and "请选择一个评价等级" in response.text
    assert "没选" in response.text  # the comment is kept
    assert _rating(settings, application_id)["level"] is None


def test_a_rating_on_a_signed_in_device_is_flagged_and_the_agent_never_sees_it(client, settings):
    application_id = _close(client)
    token = _token(settings, application_id)
    assert _rate(client, token, 5, "态度差").status_code == 303  # the agent is signed in
    row = _rating(settings, application_id)
    assert row["channel"] == "agent_device"
    page = client.get(f"/rate/{token}")
    assert "已经评价过" in page.text and "态度差" not in page.text
    assert "非常不满意" not in page.text
    assert client.get("/staff/follow-ups", follow_redirects=False).status_code == 403
    follow_up = rows(settings, "SELECT id FROM follow_ups")[0]["id"]
    assert client.get(f"/staff/follow-ups/{follow_up}").status_code == 403


def test_a_bad_rating_opens_a_follow_up_yellow_and_red_across_guoqing(client, settings, clock):
    clock.now = BEFORE_GUOQING
    application_id = _close(client)
    token = _token(settings, application_id)
    client.cookies.clear()
    assert _rate(client, token, 4, "等了很久").status_code == 303
    case = rows(settings, "SELECT * FROM follow_ups WHERE application_id = ?", application_id)[0]
    # 5 working days from 30 Sep: 8, 9, 10 (调休 Saturday), 12, 13 October
    assert (case["opened_on"], case["due_on"], case["office_level"]) == (
        "2026-09-30",
        "2026-10-13",
        "village",
    )
    seen = {}
    for day in ("2026-10-09", "2026-10-10", "2026-10-12", "2026-10-13", "2026-10-14"):
        clock.now = datetime.fromisoformat(f"{day}T01:00:00+00:00")
        login(client, STAFF)
        page = client.get("/staff/follow-ups")
        assert page.status_code == 200 and "等了很久" not in page.text
        seen[day] = "red" if "红牌" in page.text else "yellow" if "黄牌" in page.text else "green"
    assert seen == {
        "2026-10-09": "green",
        "2026-10-10": "green",
        "2026-10-12": "yellow",
        "2026-10-13": "yellow",
        "2026-10-14": "red",
    }


def _act(client, follow_up_id: str, action: str, **data: str):
    page = client.get(f"/staff/follow-ups/{follow_up_id}")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),
        **data,
    }
    return client.post(
        f"/staff/follow-ups/{follow_up_id}/{action}", data=form, follow_redirects=False
    )


def test_follow_up_verified_rectified_called_back_closes_and_invites_a_second_rating(
    client, settings
):
    application_id = _close(client)
    token = _token(settings, application_id)
    client.cookies.clear()
    _rate(client, token, 5, "材料要求说不清")
    case = rows(settings, "SELECT id FROM follow_ups")[0]["id"]
    login(client, STAFF)
    early = _act(client, case, "callback", result="satisfied", note="已回访")
    assert early.status_code == 400 and "请先记录整改或说明情况" in early.text
    assert _act(client, case, "verify", note="").status_code == 400
    assert _act(client, case, "verify", note="经核实，一次性告知不清").status_code == 303
    assert _act(client, case, "remedy", remedy="rectified", note="已修改告知单").status_code == 303
    done = _act(client, case, "callback", result="satisfied", note="电话回访，群众满意")
    assert done.status_code == 303
    closed = rows(settings, "SELECT * FROM follow_ups WHERE id = ?", case)[0]
    assert (closed["status"], closed["closed_in_time"], closed["callback_result"]) == (
        "closed",
        1,
        "satisfied",
    )
    actions = [
        r["action"]
        for r in rows(settings, "SELECT action FROM audit_log WHERE object_id = ?", case)
    ]
    assert {"follow_up_verify", "follow_up_remedy", "follow_up_callback"} <= set(actions)
    second = _token(settings, application_id, "rate_fix")
    assert second != token
    client.cookies.clear()
    page = client.get(f"/rate/{second}")
    assert "对整改的评价" in page.text
    assert _rate(client, second, 2).status_code == 303
    assert _rating(settings, application_id, 2)["level"] == 2
    login(client, STAFF)
    assert "申请人对整改的评价：满意" in client.get(f"/staff/follow-ups/{case}").text


def test_malicious_only_with_a_reason_audited_and_out_of_the_bad_count(client, settings):
    application_id = _close(client)
    token = _token(settings, application_id)
    client.cookies.clear()
    _rate(client, token, 5, "乱评")
    case = rows(settings, "SELECT id FROM follow_ups")[0]["id"]
    login(client, SUPERVISOR)
    page = client.get(f"/staff/follow-ups/{case}")
    assert "认定为恶意差评" in page.text and "乱评" in page.text
    url = f"/staff/follow-ups/{case}/malicious"
    token_field = csrf_of(page.text)
    refused = client.post(url, data={"csrf_token": token_field, "reason": ""})
    assert refused.status_code == 400 and "请填写情况说明" in refused.text
    assert _rating(settings, application_id)["malicious_reason"] is None
    ok = client.post(url, data={"csrf_token": token_field, "reason": "同一号码反复恶意评价"})
    assert ok.status_code == 200  # followed to the case page
    assert "同一号码反复恶意评价" in ok.text
    assert _rating(settings, application_id)["malicious_reason"] == "同一号码反复恶意评价"
    assert rows(settings, "SELECT status FROM follow_ups")[0]["status"] == "dismissed"
    audit = rows(settings, "SELECT * FROM audit_log WHERE action = 'rating_malicious'")
    assert len(audit) == 1 and audit[0]["role"] == "supervisor"
    staff_page = client.get("/disclosure/ratings")
    assert staff_page.status_code == 200


def test_published_figures_match_the_raw_rows_and_hold_no_personal_data(client, settings):
    ids = [_close(client) for _ in range(4)]
    client.cookies.clear()
    for application_id, level in zip(ids[:3], (1, 3, 5), strict=True):
        _rate(client, _token(settings, application_id), level, "潘桂兰说13800138000")
    page = client.get("/disclosure/ratings")
    assert page.status_code == 200
    assert "潘" not in page.text and "13800138000" not in page.text
    assert "67%" in page.text and "33%" in page.text and "25%" in page.text  # good, bad, unrated

    async def computed() -> list[queries.RatingFigures]:
        db = Database(settings.database_path)
        await db.open()
        try:
            async with db.read() as conn:
                return await queries.figures(conn, since="2000-01-01", until="2100-01-01")
        finally:
            await db.close()

    (figures,) = asyncio.run(computed())
    raw = rows(settings, "SELECT level FROM ratings WHERE round = 1")
    levels = [r["level"] for r in raw]
    assert figures.closed_applications == len(levels) == 4
    assert figures.received == 3 and figures.unrated == 1
    assert figures.good == sum(1 for x in levels if x and x <= 3)
    assert figures.bad == sum(1 for x in levels if x and x >= 4) == 1
    assert figures.follow_ups == 1 and figures.follow_ups_closed_in_time == 0

    async def of_village(prefix: str) -> list[queries.RatingFigures]:
        db = Database(settings.database_path)
        await db.open()
        try:
            async with db.read() as conn:
                return await queries.figures(
                    conn, since="2000-01-01", until="2100-01-01", village_prefix=prefix
                )
        finally:
            await db.close()

    assert [f.closed_applications for f in asyncio.run(of_village("450521100201"))] == [4]
    assert asyncio.run(of_village("450521100202")) == []  # another village: none of them


def test_closing_sms_with_the_link_fits_one_segment_or_falls_back_to_the_plain_text():
    from edge.catalog.loader import read_catalog
    from edge.sms import templates

    link = "http://127.0.0.1:8001/rate/abcdefghjk"
    for item in read_catalog().items:
        for template in ("approved", "rejected"):
            params = {"item": item["name"]["zh"], "code": "ABCD-EFGH-JKM", "link": link}
            body = templates.render(template, params, "zh_Hans")
            assert len(body) <= templates.MAX_LENGTH and link in body, body
            assert "1-5" in body
        fix = templates.render("rate_fix", {"item": item["name"]["zh"], "link": link}, "zh_Hans")
        assert len(fix) <= templates.MAX_LENGTH and link in fix
    long_link = "https://lianzhou-township.cunban.example.gov.cn/rate/abcdefghjk"
    params = {"item": "最低生活保障申请", "code": "ABCD-EFGH-JKM", "link": long_link}
    plain = templates.render("approved", params, "zh_Hans")
    assert long_link not in plain and "ABCD-EFGH-JKM" in plain and len(plain) <= 70
    fix = templates.render("rate_fix", {"item": "最低生活保障申请", "link": long_link}, "zh_Hans")
    assert "回复1-5" in fix and len(fix) <= 70


def test_demo_shows_every_level_an_open_yellow_case_one_closed_in_time_one_unrated(
    client, settings, clock
):
    from edge.demo import load_demo_node

    asyncio.run(load_demo_node(settings, clock.now))
    asyncio.run(load_demo_node(settings, clock.now))  # loads once
    levels = {r["level"] for r in rows(settings, "SELECT level FROM ratings WHERE round = 1")}
    assert levels == {None, 1, 2, 3, 4, 5}
    cases = rows(settings, "SELECT status, closed_in_time FROM follow_ups ORDER BY opened_at")
    assert [tuple(c) for c in cases] == [("closed", 1), ("open", None)]
    login(client, STAFF)
    assert "黄牌" in client.get("/staff/follow-ups").text
    client.cookies.clear()
    page = client.get("/disclosure/ratings")
    assert page.status_code == 200 and "100%" in page.text


def test_the_applicant_rates_on_the_tracking_page_after_the_phone_digits(client, settings):
    application_id = _close(client)
    code = rows(settings, "SELECT tracking_code FROM applications WHERE id = ?", application_id)[0][
        0
    ]
    client.cookies.clear()
    client.get(f"/track/{code}")
    details = client.post(f"/track/{code}", data={"last4": "8000"})
    assert details.status_code == 200 and "您对这次办事满意吗" in details.text
    wrong = client.post(f"/track/{code}/rate", data={"last4": "1111", "level": "1"})
    assert wrong.status_code == 400 and _rating(settings, application_id)["level"] is None
    done = client.post(f"/track/{code}/rate", data={"last4": "8000", "level": "3"})
    assert done.status_code == 200 and "<strong>基本满意</strong>" in done.text
    row = _rating(settings, application_id)
    assert (row["level"], row["channel"]) == (3, "tracking")
    login(client, AGENT_QIANJIANG)  # the agent knows the digits, yet sees no rating
    page = client.get(f"/track/{code}")
    agent_view = client.post(
        f"/track/{code}", data={"last4": "8000", "csrf_token": csrf_of(page.text)}
    )
    assert agent_view.status_code == 200 and "基本满意" not in agent_view.text


def test_an_sms_reply_with_a_digit_rates_and_changes_within_24_hours(client, settings, clock):
    from tests.sms_inbound import deliver

    application_id = _close(client)
    phone = rows(settings, "SELECT applicant_phone FROM applications WHERE id = ?", application_id)[
        0
    ][0]
    assert deliver(client, phone, "2", id="gw-1").status_code < 300
    row = _rating(settings, application_id)
    assert (row["level"], row["channel"]) == (2, "sms")
    assert deliver(client, phone, "2", id="gw-1").status_code < 300  # a repeat: taken once
    replies = rows(
        settings, "SELECT body FROM sms_outbox WHERE phone = ? AND template = 'reply'", phone
    )
    assert len(replies) == 1 and "满意" in replies[0]["body"] and len(replies[0]["body"]) <= 70
    clock.advance(hours=1)
    deliver(client, phone, "５")  # full-width: 非常不满意, opens a follow-up
    assert _rating(settings, application_id)["level"] == 5
    assert len(rows(settings, "SELECT id FROM follow_ups WHERE status = 'open'")) == 1
    clock.advance(hours=24)
    deliver(client, phone, "1")
    assert _rating(settings, application_id)["level"] == 5
    last = rows(
        settings,
        "SELECT body FROM sms_outbox WHERE phone = ? AND template = 'reply' ORDER BY id DESC",
        phone,
    )[0]["body"]
    assert "超过24小时" in last
    deliver(client, "13912340000", "3")  # no invitation: not a rating
    assert rows(settings, "SELECT count(*) FROM ratings WHERE channel = 'sms'")[0][0] == 1
    assert _rating(settings, application_id)["channel"] == "sms"
