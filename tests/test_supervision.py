"""电子监察 at the edge: cards across 国庆 and a 调休 Saturday, 催办 and escalation texted once,
office time without the applicant's supplement time, scope, CSV, and the cases behind a count."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import date

import pytest

from edge.supervision.jobs import deadline_scan
from edge.supervision.rules import parse
from edge.supervision.simulation import edge_rows, generate
from tests.conftest import AGENT_QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import KEY_FIELD, photo, rows
from tests.test_application_rules import _accept, _at, _return_at_township, _township_step
from tests.test_budgets import FIRST_ROUND_TRIP, _measure

SUPERVISOR = "13807710003"  # 陈志明, supervisor of Lianzhou
FUCHENG_SUPERVISOR = "13807720003"
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _count(page: str, table: str, measure: str) -> int:
    """The total of one column of one dashboard table (0 when the table is empty)."""
    section = page.split(f'id="table-{table}"')[1].split("</section>")[0]
    if "<tfoot>" not in section:
        return 0
    heads = re.findall(r'<th scope="col">([^<]*)</th>', section)
    cells = re.findall(r"<td>([^<]*)</td>", section.split("<tfoot>")[1])
    labels = {"yellow": "黄牌", "red": "红牌", "open": "在办", "received": "受理", "urged": "催办"}
    return int(cells[heads.index(labels.get(measure, measure)) - 1])


def _dashboard(client) -> str:
    login(client, SUPERVISOR)
    page = client.get("/supervision/")
    assert page.status_code == 200, page.text
    return page.text


def test_cards_fire_on_the_right_working_day_across_national_day(client, settings, clock):
    _at(clock, "2026-09-29")  # step due 2026-10-19 (10 working days over 国庆, 调休 Sat 10 Oct)
    application_id = _accept(client)
    step_id = _township_step(settings, application_id)["id"]
    # the application's promised limit is 2026-11-02 (20 working days)
    for day, step_card, app_card in [
        ("2026-10-09", "green", "green"),
        ("2026-10-10", "green", "green"),  # the 调休 Saturday is a working day: still 6 left
        ("2026-10-15", "green", "green"),
        ("2026-10-16", "yellow", "yellow"),  # the last working day before the due date
        ("2026-10-17", "yellow", "yellow"),  # a weekend day: still one working day left
        ("2026-10-19", "yellow", "yellow"),  # due today
        ("2026-10-20", "red", "red"),
    ]:
        _at(clock, day)
        login(client, SUPERVISOR)
        step_page = client.get(f"/supervision/steps/{step_id}").text
        shown = re.search(r'class="badge badge-(\w+)"', step_page)
        assert (shown.group(1) if shown else "green") == step_card, day
        page = client.get("/supervision/").text
        assert _count(page, "units", "yellow") == (app_card == "yellow"), day
        assert _count(page, "units", "red") == (app_card == "red"), day
        assert _count(page, "departments", "yellow") == (step_card == "yellow"), day
        assert _count(page, "departments", "red") == (step_card == "red"), day


def test_the_promised_limit_turns_red_on_its_own(client, settings, clock):
    _at(clock, "2026-09-29")
    application_id = _accept(client)
    # move the step's due date past the promise: only the promise is late on 2026-11-03
    _set(
        settings, "UPDATE steps SET due_on = '2026-12-31' WHERE application_id = ?", application_id
    )
    for day, card in [("2026-10-30", "yellow"), ("2026-11-02", "yellow"), ("2026-11-03", "red")]:
        _at(clock, day)
        page = _dashboard(client)
        assert _count(page, "units", card) == 1, day
        assert _count(page, "departments", "red") == 0, day


def _set(settings, sql: str, *params) -> None:
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute(sql, params)


def _urge(client, step_id: str, note: str = "请今天办完"):
    page = client.get(f"/supervision/steps/{step_id}")
    data = {"csrf_token": csrf_of(page.text), "idempotency_key": KEY.search(page.text).group(1)}
    return data, client.post(
        f"/supervision/steps/{step_id}/urge", data={**data, "note": note}, follow_redirects=False
    )


def test_urge_texts_the_staff_once_per_submit_and_shows_in_the_history(client, settings, clock):
    _at(clock, "2026-10-12")
    application_id = _accept(client)
    step_id = _township_step(settings, application_id)["id"]
    login(client, SUPERVISOR)
    data, response = _urge(client, step_id)
    assert response.status_code == 303
    again = client.post(
        f"/supervision/steps/{step_id}/urge",
        data={**data, "note": "请今天办完"},
        follow_redirects=False,
    )
    assert again.status_code == 303  # a retry answers the first result
    sent = rows(settings, "SELECT phone, body FROM sms_outbox WHERE template = 'urge'")
    assert [r["phone"] for r in sent] == [STAFF]
    assert "催办" in sent[0]["body"] and len(sent[0]["body"]) <= 70
    reminders = rows(settings, "SELECT kind, sent_by, note FROM reminders")
    assert [(r["kind"], r["note"]) for r in reminders] == [("urge", "请今天办完")]
    page = client.get(f"/supervision/steps/{step_id}").text
    assert "催办（陈志明）" in page and "李秀英" in page
    audit = rows(settings, "SELECT action FROM audit_log WHERE action = 'urge'")
    assert len(audit) == 1
    assert _count(client.get("/supervision/").text, "units", "urged") == 1


def test_staff_may_not_urge_and_a_long_note_is_refused_without_loss(client, settings, clock):
    _at(clock, "2026-10-12")
    application_id = _accept(client)
    step_id = _township_step(settings, application_id)["id"]
    login(client, SUPERVISOR)
    _data, response = _urge(client, step_id, "催" * 201)
    assert response.status_code == 400
    assert "附言最多 200 个字" in response.text and "催" * 201 in response.text
    assert rows(settings, "SELECT * FROM reminders") == []
    login(client, STAFF)
    assert "发送催办" not in client.get(f"/supervision/steps/{step_id}").text


def test_a_step_red_for_three_working_days_escalates_once(client, settings, clock):
    _at(clock, "2026-09-29")
    application_id = _accept(client)  # due 2026-10-19
    _at(clock, "2026-10-21")  # red for 2 working days (20, 21): not yet
    asyncio.run(deadline_scan(settings, clock()))
    assert rows(settings, "SELECT * FROM sms_outbox WHERE template = 'escalation'") == []
    _at(clock, "2026-10-26")  # the worker was stopped for days: the scan catches up
    asyncio.run(deadline_scan(settings, clock()))
    asyncio.run(deadline_scan(settings, clock()))
    sent = rows(settings, "SELECT phone, body FROM sms_outbox WHERE template = 'escalation'")
    assert [r["phone"] for r in sent] == [SUPERVISOR]  # no township leader: the supervisors
    assert "督办" in sent[0]["body"]
    escalations = rows(settings, "SELECT * FROM reminders WHERE kind = 'escalation'")
    assert len(escalations) == 1 and escalations[0]["application_id"] == application_id


def test_an_escalation_goes_to_the_township_leader_when_there_is_one(client, settings, clock):
    _set(settings, "UPDATE accounts SET is_head = 1 WHERE phone = ?", "13807710001")
    _at(clock, "2026-09-29")
    _accept(client)
    _at(clock, "2026-10-26")
    asyncio.run(deadline_scan(settings, clock()))
    sent = rows(settings, "SELECT phone FROM sms_outbox WHERE template = 'escalation'")
    assert [r["phone"] for r in sent] == [SUPERVISOR]  # a node admin leads no township
    _set(settings, "UPDATE accounts SET is_head = 1 WHERE phone = ?", STAFF)
    _set(settings, "DELETE FROM reminders")
    asyncio.run(deadline_scan(settings, clock()))
    sent = rows(settings, "SELECT phone FROM sms_outbox WHERE template = 'escalation'")
    assert [r["phone"] for r in sent] == [SUPERVISOR, STAFF]


def test_supplement_time_is_the_applicants_not_the_offices(client, settings, clock):
    _at(clock, "2026-11-23")  # Monday
    application_id = _accept(client)
    _at(clock, "2026-11-24")
    _return_at_township(client, settings, application_id, ["household_ids"])
    _at(clock, "2026-11-27")  # Friday: 25, 26, 27 with the applicant
    _resubmit(client, settings, application_id)
    _at(clock, "2026-11-30")
    _approve_township(client, settings, application_id)
    page = _dashboard(client)
    section = page.split('id="table-departments"')[1].split("</section>")[0]
    heads = re.findall(r'<th scope="col">([^<]*)</th>', section)
    cells = re.findall(r"<td>([^<]*)</td>", section.split("<tfoot>")[1])
    # 24 Nov to 30 Nov: 5 working days, 3 of them the applicant's
    assert cells[heads.index("环节用时中位数") - 1] == "2"
    assert cells[heads.index("补正期间（申请人）") - 1] == "3"


def _resubmit(client, settings, application_id: str) -> None:
    login(client, AGENT_QIANJIANG)
    page = client.get(f"/agent/applications/{application_id}")
    response = client.post(
        f"/agent/applications/{application_id}/supplement",
        data={
            "csrf_token": csrf_of(page.text),
            "idempotency_key": KEY_FIELD.search(page.text).group(1),
        },
        files=[("material_household_ids", ("h.jpg", photo((9, 9, 9)), "image/jpeg"))],
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _approve_township(client, settings, application_id: str) -> None:
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}")
    step_id = _township_step(settings, application_id)["id"]
    response = client.post(
        f"/staff/steps/{step_id}/decide",
        data={
            "csrf_token": csrf_of(page.text),
            "idempotency_key": KEY_FIELD.search(page.text).group(1),
            "action": "approve",
            "opinion": "同意",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_each_count_links_to_its_cases_and_exports_csv(client, settings, clock):
    _at(clock, "2026-10-12")
    first = _accept(client)
    _accept(client)
    page = _dashboard(client)
    link = re.search(r'href="(/supervision/cases\?[^"]*measure=received[^"]*)"', page)
    cases = client.get(link.group(1).replace("&amp;", "&"))
    assert cases.status_code == 200
    assert (
        "共 2 件" in cases.text
        and f"/supervision/steps/{_township_step(settings, first)['id']}" in cases.text
    )
    csv = client.get("/supervision/?table=units&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("单位,受理,办结") and lines[-1].startswith("合计,2,")


def test_a_supervisor_sees_only_their_township(client, settings, clock):
    _at(clock, "2026-10-12")
    application_id = _accept(client)
    step_id = _township_step(settings, application_id)["id"]
    login(client, SUPERVISOR)
    assert client.get("/supervision/?unit=450503101000").status_code == 404
    assert client.get("/supervision/?unit=450521100201").status_code == 200
    login(client, AGENT_QIANJIANG)
    assert client.get("/supervision/").status_code == 403
    assert client.get(f"/supervision/steps/{step_id}").status_code == 403


def test_a_bad_period_says_so_and_shows_this_month(client, clock):
    _at(clock, "2026-10-12")
    login(client, SUPERVISOR)
    page = client.get("/supervision/?period=custom&since=2026-10-31&until=2026-10-01")
    assert page.status_code == 200 and "开始日期不能晚于结束日期" in page.text


def test_rules_refuse_weights_that_do_not_add_up():
    text = (
        "[cards]\nyellow_share = 0.2\n[escalation]\nred_working_days = 3\n"
        "[assessment.weights]\non_time = 0.5\noverdue = 0.2\n"
        '[[assessment.grades]]\nname = "优秀"\nmin_score = 90\n'
    )
    with pytest.raises(ValueError, match="add up to 1"):
        parse(text)
    rules = parse(text.replace("overdue = 0.2", "overdue = 0.5"))
    assert rules.grade(90) == "优秀" and rules.grade(89.9) == "不合格"


def _history(settings, today: date, size: int, seed: int) -> None:
    """Months of generated work in this township, as the demo loads it."""
    history = generate(size, today, seed=seed, townships={"": settings.township_code})
    with sqlite3.connect(settings.database_path) as conn:
        conn.row_factory = sqlite3.Row
        people = conn.execute("SELECT * FROM accounts").fetchall()
        for sql, values in edge_rows(history, people):
            if values:
                conn.executemany(sql, values)


def test_landing_page_fits_the_budget_and_its_queries_do_not_grow(client, settings, clock):
    _at(clock, "2026-11-30")
    _history(settings, date(2026, 11, 30), 300, seed=1)
    login(client, SUPERVISOR)

    def _steady(path: str) -> tuple[int, int]:  # after a first view: the session and working
        client.get(path)  # days are then read without SQL while nothing changed
        return _measure(client, path)

    size, queries = _steady("/supervision/")
    assert size <= FIRST_ROUND_TRIP, size
    page = client.get("/supervision/").text
    assert _count(page, "units", "received") > 0 and _count(page, "units", "red") > 0
    _history(settings, date(2026, 11, 30), 900, seed=2)
    assert _steady("/supervision/")[1] == queries  # 4x the rows: the same queries
    department = _steady("/supervision/?department=township")[1]
    assert department == queries  # the officers' table adds no query
    assert queries <= 12
    print(f"\n/supervision/ with 1,200 applications: {size} B gzip, {queries} SQL statements")


def test_the_other_duties_page_shows_feedback_disclosure_cards_and_ratings(client, settings):
    """Beside applications: overdue 我有话说 items, missing village disclosures and 好差评 per
    office, from the demo of each feature, in a fixed number of queries."""
    from datetime import UTC, datetime

    from edge.demo import load_demo_node

    asyncio.run(load_demo_node(settings, datetime(2026, 11, 23, 9, tzinfo=UTC)))
    login(client, SUPERVISOR)
    landing = client.get("/supervision/").text
    assert 'href="/supervision/others?' in landing
    page = client.get("/supervision/others?period=quarter")
    assert page.status_code == 200
    feedback = page.text.split('id="feedback"')[1].split("<h2")[0]
    assert 'class="badge badge-red"' in feedback and "/staff/feedback/" in feedback
    disclosures = page.text.split('id="disclosures"')[1].split("<h2")[0]
    assert 'class="badge badge-red"' in disclosures
    ratings = page.text.split('id="ratings"')[1]
    assert re.search(r"<td>\d+%</td>", ratings), ratings[:500]
    size, queries = _measure(client, "/supervision/others?period=quarter")
    assert size <= FIRST_ROUND_TRIP and queries <= 10, (size, queries)
    login(client, AGENT_QIANJIANG)
    assert client.get("/supervision/others").status_code == 403
