"""Clocks across 国庆 and a 调休 Saturday, cards, reminders, retries and tracking."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from edge.supervision.jobs import deadline_scan
from tests.conftest import AGENT_QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import (
    KEY_FIELD,
    intake_data,
    intake_files,
    open_form,
    photo,
    rows,
    submit,
)

RECEIPT = re.compile(r"/agent/applications/([0-9A-Z]{26})/receipt")


def _at(clock, day: str, hour_utc: int = 2) -> None:
    clock.now = datetime.fromisoformat(day).replace(hour=hour_utc, tzinfo=UTC)


def _accept(client, code: str = "MZ-002") -> str:
    login(client, AGENT_QIANJIANG)
    response = submit(client, code)
    assert response.status_code == 303, response.text
    return RECEIPT.match(response.headers["location"]).group(1)


def _return_at_township(client, settings, application_id: str, materials: list[str]) -> None:
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}")
    step_id = _township_step(settings, application_id)["id"]
    response = client.post(
        f"/staff/steps/{step_id}/decide",
        data={
            "csrf_token": csrf_of(page.text),
            "idempotency_key": KEY_FIELD.search(page.text).group(1),
            "action": "return",
            "opinion": "请补交材料",
            "materials": materials,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303


def _township_step(settings, application_id: str):
    return rows(
        settings, "SELECT * FROM steps WHERE application_id = ? AND stage = 0", application_id
    )[0]


def test_limits_skip_national_day_and_count_the_make_up_saturday(client, settings, clock):
    _at(clock, "2026-09-29")  # Tuesday, 10:00 in Guangxi
    application_id = _accept(client)
    step = _township_step(settings, application_id)
    # 10 working days from Tue 29 Sep: 30 Sep, (1-7 Oct holiday), 8, 9, Sat 10 Oct (调休), 12-16, 19
    assert step["due_on"] == "2026-10-19"
    app = rows(settings, "SELECT * FROM applications WHERE id = ?", application_id)[0]
    assert app["submitted_on"] == "2026-09-29"
    assert app["promised_due_on"] == "2026-11-02"  # 20 working days


def test_cards_turn_yellow_then_red_and_red_sorts_first(client, settings, clock):
    _at(clock, "2026-09-29")
    late = _accept(client)
    _at(clock, "2026-10-12")
    fresh = _accept(client)
    for day, card in [
        ("2026-10-15", "green"),
        ("2026-10-16", "yellow"),
        ("2026-10-19", "yellow"),
        ("2026-10-20", "red"),
    ]:
        _at(clock, day)
        login(client, STAFF)  # sessions last 12 hours
        queue = client.get("/staff/").text
        first = re.search(
            r'<li class="card-(\w+)">.*?href="/staff/applications/([0-9A-Z]{26})"', queue, re.S
        )
        assert (first.group(1), first.group(2)) == (card, late), day
    assert queue.index(late) < queue.index(fresh)
    assert "红牌" in queue


def test_deadline_scan_texts_the_responsible_staff_once(client, settings, clock):
    _at(clock, "2026-09-29")
    application_id = _accept(client)
    _at(clock, "2026-10-16")
    assert asyncio.run(deadline_scan(settings, clock())) == 1
    assert asyncio.run(deadline_scan(settings, clock())) == 0  # deduplicated
    _at(clock, "2026-10-20")
    assert asyncio.run(deadline_scan(settings, clock())) == 1
    sent = rows(
        settings,
        "SELECT phone, body FROM sms_outbox WHERE template = 'deadline' "
        "AND application_id = ? ORDER BY created_at",
        application_id,
    )
    assert [r["phone"] for r in sent] == [STAFF, STAFF]
    assert "黄牌" in sent[0]["body"] and "红牌" in sent[1]["body"]
    assert all(len(r["body"]) <= 70 for r in sent)


def test_time_paused_for_supplement_does_not_count(client, settings, clock):
    _at(clock, "2026-11-23")  # Monday
    application_id = _accept(client)
    before = rows(
        settings, "SELECT promised_due_on FROM applications WHERE id = ?", application_id
    )[0][0]
    step_due = _township_step(settings, application_id)["due_on"]
    _at(clock, "2026-11-24")
    _return_at_township(client, settings, application_id, ["household_ids"])
    _at(clock, "2026-11-27")  # Friday: 25, 26, 27 paused = 3 working days
    login(client, AGENT_QIANJIANG)
    page = client.get(f"/agent/applications/{application_id}")
    client.post(
        f"/agent/applications/{application_id}/supplement",
        data={
            "csrf_token": csrf_of(page.text),
            "idempotency_key": KEY_FIELD.search(page.text).group(1),
        },
        files=[("material_household_ids", ("h.jpg", photo((9, 9, 9)), "image/jpeg"))],
    )
    after = rows(
        settings, "SELECT promised_due_on, status FROM applications WHERE id = ?", application_id
    )[0]
    assert after["status"] == "in_review"
    assert (before, after["promised_due_on"]) == ("2026-12-21", "2026-12-24")
    assert (step_due, _township_step(settings, application_id)["due_on"]) == (
        "2026-12-07",
        "2026-12-10",
    )


def test_five_concurrent_retries_create_one_application(client, settings):
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "MZ-002")
    data = intake_data("MZ-002") | {"csrf_token": token, "idempotency_key": key}

    def post(_n: int):
        return client.post(
            "/agent/apply/MZ-002", data=data, files=intake_files("MZ-002"), follow_redirects=False
        )

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(post, range(5)))
    assert [r.status_code for r in responses] == [303] * 5
    assert len({r.headers["location"] for r in responses}) == 1
    assert rows(settings, "SELECT count(*) FROM applications")[0][0] == 1
    assert rows(settings, "SELECT count(*) FROM sms_outbox")[0][0] == 1


def test_a_key_reused_for_other_content_is_refused(client, settings):
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "MZ-002")
    first = intake_data("MZ-002") | {"csrf_token": token, "idempotency_key": key}
    assert (
        client.post(
            "/agent/apply/MZ-002", data=first, files=intake_files("MZ-002"), follow_redirects=False
        ).status_code
        == 303
    )
    other = first | {"name": "覃某某"}
    response = client.post("/agent/apply/MZ-002", data=other, files=intake_files("MZ-002"))
    assert response.status_code == 409
    assert "已经提交过不同的内容" in response.text
    assert rows(settings, "SELECT count(*) FROM applications")[0][0] == 1


def test_tracking_by_code_masks_and_then_unlocks_with_the_phone(client, settings):
    application_id = _accept(client)
    code = rows(settings, "SELECT tracking_code FROM applications WHERE id = ?", application_id)[0][
        0
    ]
    client.cookies.clear()
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    bad = client.get("/track", params={"code": typo})
    assert bad.status_code == 400 and "查询码有误" in bad.text
    grouped = f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()
    found = client.get("/track", params={"code": grouped}, follow_redirects=False)
    assert found.headers["location"] == f"/track/{code}"
    page = client.get(f"/track/{code}")
    assert page.status_code == 200
    assert "潘*" in page.text and "潘桂兰" not in page.text and "13800138000" not in page.text
    assert "乡镇审核" in page.text or "审核" in page.text
    wrong = client.post(f"/track/{code}", data={"last4": "0001"})
    assert wrong.status_code == 400 and "后四位不对" in wrong.text
    right = client.post(f"/track/{code}", data={"last4": "8000"})
    assert right.status_code == 200 and 'name="last4"' not in right.text


def _details_at_once(client, settings, digits: list[str]) -> tuple[list[Any], Callable[[str], Any]]:
    """An accepted application's details asked for by a visitor, each of `digits` posted from
    10 threads at once: (the answers in order, a function that posts one more)."""
    application_id = _accept(client)
    code = rows(settings, "SELECT tracking_code FROM applications WHERE id = ?", application_id)[0][
        0
    ]
    client.cookies.clear()
    client.get(f"/track/{code}")

    def post(last4: str):
        return client.post(f"/track/{code}", data={"last4": last4})

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(post, digits)), post


def test_a_burst_of_guesses_cannot_pass_the_attempt_limit(client, settings):
    answers, post = _details_at_once(client, settings, [f"{n:04d}" for n in range(100, 140)])
    statuses = [r.status_code for r in answers]
    assert statuses.count(400) <= 5  # wrong digits actually compared
    assert statuses.count(429) >= 35
    right = post("8000")
    assert right.status_code == 429  # still locked, even for the right digits


def test_the_right_digits_sent_at_once_all_show_the_details(client, settings):
    answers, _post = _details_at_once(client, settings, ["8000"] * 10)
    assert [r.status_code for r in answers] == [200] * 10
    assert not any('name="last4"' in r.text for r in answers)  # the details, not the form


def test_a_retried_supplement_gets_the_first_answer(client, settings):
    application_id = _accept(client)
    _return_at_township(client, settings, application_id, ["household_ids", "income_proof"])
    login(client, AGENT_QIANJIANG)
    page = client.get(f"/agent/applications/{application_id}")
    data = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),
    }
    only_one = [("material_household_ids", ("h.jpg", photo((5, 5, 5)), "image/jpeg"))]
    missing = client.post(
        f"/agent/applications/{application_id}/supplement", data=data, files=only_one
    )
    assert missing.status_code == 400  # income_proof is optional in the catalog, but was asked
    both = [*only_one, ("material_income_proof", ("i.jpg", photo((6, 6, 6)), "image/jpeg"))]
    first = client.post(
        f"/agent/applications/{application_id}/supplement",
        data=data,
        files=both,
        follow_redirects=False,
    )
    retry = client.post(
        f"/agent/applications/{application_id}/supplement",
        data=data,
        files=both,
        follow_redirects=False,
    )
    assert (first.status_code, retry.status_code) == (303, 303)
    assert first.headers["location"] == retry.headers["location"]
    assert (
        rows(
            settings,
            "SELECT count(*) FROM attachments WHERE application_id = ? AND "
            "material_key = 'income_proof'",
            application_id,
        )[0][0]
        == 1
    )


def test_photos_are_for_reviewers_only_and_each_view_is_audited(client, settings):
    application_id = _accept(client)
    attachment = rows(
        settings, "SELECT id FROM attachments WHERE application_id = ?", application_id
    )[0]["id"]
    login(client, "13807710001")  # the node admin runs the machine, not the files
    assert client.get(f"/staff/attachments/{attachment}").status_code == 403
    login(client, STAFF)
    response = client.get(f"/staff/attachments/{attachment}")
    assert response.headers["cache-control"] == "no-store"
    reads = rows(
        settings,
        "SELECT count(*) FROM audit_log WHERE action = 'read_personal_data' AND object_id = ?",
        attachment,
    )
    assert reads[0][0] == 1


def test_full_width_digits_are_not_a_phone_number(client):
    login(client, AGENT_QIANJIANG)
    response = submit(client, "MZ-002", phone="１３８００１３８０００")
    assert response.status_code == 400
    assert "请填写11位手机号码" in response.text
