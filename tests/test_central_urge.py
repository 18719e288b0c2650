"""催办 and escalation of county steps at central (issue 13): a county supervisor urges, the
county officers are texted once from central's own SMS outbox, the township's step history gets
the reminder through the feed; a county step red for three working days across 国庆 and a 调休
Saturday escalates once to the department head; a connected township escalates no county step."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sqlite3
from datetime import UTC, datetime

from starlette.testclient import TestClient

from central.follow import supervise
from central.supervision.deadlines import scan
from central.supervision.demo import DEMO_NOTE
from edge.app import create_app as create_edge_app
from edge.supervision.jobs import deadline_scan
from tests.central_support import central_rows, ingest, take_feed, yb002
from tests.conftest import csrf_of, login
from tests.intake_support import rows
from tests.test_application_rules import _accept, _at
from tests.test_central_officer import CITY_ADMIN, CIVIL_HEPU
from tests.test_supervision import SUPERVISOR, _approve_township

SUPERVISOR_HEPU = "13807700200"  # 刘振东, supervisor of 合浦县 at central
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _step_url(step) -> str:
    return f"/supervision/steps/{step['node_id']}/{step['step_id']}"


def _urge(client: TestClient, step, note: str = "请今天办完"):
    page = client.get(_step_url(step))
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_of(page.text), "idempotency_key": KEY.search(page.text).group(1)}
    response = client.post(
        _step_url(step) + "/urge", data={**data, "note": note}, follow_redirects=False
    )
    return data, response


def test_a_county_supervisor_urges_a_county_step_once_and_the_township_records_it(
    central, edges, clock
):
    step = yb002(central)
    login(central, SUPERVISOR_HEPU)
    data, response = _urge(central, step)
    assert response.status_code == 303
    again = central.post(
        _step_url(step) + "/urge", data={**data, "note": "请今天办完"}, follow_redirects=False
    )
    assert again.status_code == 303 and again.headers["location"] == _step_url(step)
    sent = central_rows(central, "SELECT phone, body FROM sms_outbox WHERE template = 'urge'")
    assert [r["phone"] for r in sent] == [CIVIL_HEPU]  # the civil officer of the county
    assert "催办" in sent[0]["body"] and len(sent[0]["body"]) <= 70
    reminders = central_rows(central, "SELECT kind, note, recipients FROM step_reminders")
    assert [(r["kind"], r["note"]) for r in reminders] == [("urge", "请今天办完")]
    audit = central_rows(central, "SELECT signature FROM audit_log WHERE action = 'urge'")
    assert len(audit) == 1 and audit[0]["signature"]
    commands = central_rows(central, "SELECT kind FROM commands WHERE kind = 'step_reminder'")
    assert len(commands) == 1
    page = central.get(_step_url(step)).text
    assert "催办（刘振东）" in page and "等待乡镇同步" in page

    edge = edges["lianzhou"]
    assert "applied" in take_feed(central, edge)
    assert take_feed(central, edge).count("seen") >= 1  # taken twice: recorded once
    with TestClient(create_edge_app(edge, clock), base_url="https://testserver") as township:
        login(township, SUPERVISOR)
        history = township.get(f"/supervision/steps/{step['step_id']}")
        assert history.status_code == 200
        assert "催办（刘振东）" in history.text and "由中心发出" in history.text
        assert history.text.count("请今天办完") == 1
    assert rows(edge, "SELECT * FROM sms_outbox WHERE template = 'urge'") == []  # central texts

    ingest(central, edge)
    page = central.get(_step_url(step)).text
    assert page.count("催办（刘振东）") == 1 and "已记入乡镇档案" in page


def test_only_supervisors_and_city_admins_urge_and_a_long_note_loses_nothing(central):
    step = yb002(central)
    login(central, CIVIL_HEPU)  # a department head sees the step but does not urge
    page = central.get(_step_url(step))
    assert page.status_code == 200 and "发送催办" not in page.text
    token = csrf_of(page.text)
    refused = central.post(
        _step_url(step) + "/urge",
        data={"csrf_token": token, "idempotency_key": "01JD0000000000000000000009", "note": ""},
    )
    assert refused.status_code == 403
    login(central, CITY_ADMIN)
    _data, response = _urge(central, step, "催" * 201)
    assert response.status_code == 400
    assert "附言最多 200 个字" in response.text and "催" * 201 in response.text
    _data, response = _urge(central, step, "请办\u202e理")  # a bidi override is refused
    assert response.status_code == 400 and "请办" in response.text
    no_token = central.post(_step_url(step) + "/urge", data={"note": "x"})
    assert no_token.status_code == 403  # CSRF
    assert central_rows(central, "SELECT * FROM step_reminders") == []
    assert central_rows(central, "SELECT * FROM sms_outbox") == []


def _scan(central: TestClient, day: str) -> int:
    now = datetime.fromisoformat(day).replace(hour=2, tzinfo=UTC)

    async def run(db) -> int:
        async with db.write() as conn:
            return await scan(conn, now, "Asia/Shanghai")

    return central.portal.call(run, central.app.state.node.db)


def _texts(central: TestClient, template: str) -> list[str]:
    """The phones central texted with this template, oldest first."""
    sent = central_rows(
        central, "SELECT phone FROM sms_outbox WHERE template = ? ORDER BY rowid", template
    )
    return [r["phone"] for r in sent]


def _set_due(central: TestClient, step, due_on: str) -> None:
    with sqlite3.connect(central.app.state.node.settings.database_path) as conn:
        conn.execute(
            "UPDATE edge_steps SET due_on = ? WHERE node_id = ? AND id = ?",
            (due_on, step["node_id"], step["step_id"]),
        )


def test_a_county_step_red_three_working_days_escalates_once_across_national_day(central, edges):
    step = yb002(central)
    _set_due(central, step, "2026-09-30")  # due the day before 国庆 (1-7 Oct 2026)
    for day in ("2026-10-07", "2026-10-09"):  # red 0, then 2 working days (8, 9 Oct)
        _scan(central, day)
        assert _texts(central, "escalation") == [], day
    _scan(central, "2026-10-10")  # the 调休 Saturday is the third working day
    assert len(_texts(central, "escalation")) == 1
    _scan(central, "2026-10-12")
    assert len(_texts(central, "escalation")) == 1  # once
    sent = central_rows(central, "SELECT phone, body FROM sms_outbox WHERE template = 'escalation'")
    assert [r["phone"] for r in sent] == [CIVIL_HEPU]  # the civil department's head
    assert "督办" in sent[0]["body"] and len(sent[0]["body"]) <= 70
    escalations = central_rows(
        central, "SELECT recipients, sent_at FROM step_reminders WHERE kind = 'escalation'"
    )
    assert len(escalations) == 1 and "2026-10-10" in escalations[0]["sent_at"]
    login(central, SUPERVISOR_HEPU)
    page = central.get(_step_url(step)).text
    assert "超期督办（系统）" in page and "2026-10-10" in page

    edge = edges["lianzhou"]
    assert "applied" in take_feed(central, edge)
    found = rows(edge, "SELECT kind, origin FROM reminders WHERE step_id = ?", step["step_id"])
    assert [(r["kind"], r["origin"]) for r in found] == [("escalation", "central")]


def test_without_a_department_head_the_county_supervisor_is_reached(central):
    step = yb002(central)
    with sqlite3.connect(central.app.state.node.settings.database_path) as conn:
        conn.execute("UPDATE accounts SET is_head = 0 WHERE department_code = 'civil'")
    _set_due(central, step, "2026-09-30")
    _scan(central, "2026-10-12")
    sent = central_rows(central, "SELECT phone FROM sms_outbox WHERE template = 'escalation'")
    assert [r["phone"] for r in sent] == [SUPERVISOR_HEPU]


def test_a_connected_township_escalates_township_steps_but_leaves_county_steps_to_central(
    client, settings, clock
):
    _at(clock, "2026-09-29")
    county = _accept(client)  # MZ-002: township review, then county civil affairs
    _approve_township(client, settings, county)  # the county step is due 2026-10-15
    township = _accept(client)  # its township step is due 2026-10-19
    _at(clock, "2026-10-22")  # both red for at least three working days
    connected = dataclasses.replace(settings, central_url="https://central.example.org")
    asyncio.run(deadline_scan(connected, clock()))
    found = rows(settings, "SELECT application_id FROM reminders WHERE kind = 'escalation'")
    assert [r["application_id"] for r in found] == [township]
    asyncio.run(deadline_scan(settings, clock()))  # a standalone node escalates both itself
    found = rows(settings, "SELECT application_id FROM reminders WHERE kind = 'escalation'")
    assert sorted(r["application_id"] for r in found) == sorted([township, county])


def test_a_pass_of_central_follow_sends_each_sms_once_and_the_demo_urges_one_step(central, clock):
    node = central.app.state.node
    assert central.portal.call(supervise, node.db, node.settings, clock, 0) > 0
    urged = central_rows(central, "SELECT kind, note, sent_by FROM step_reminders")
    assert [(r["kind"], r["note"]) for r in urged] == [("urge", DEMO_NOTE)]
    sent = central_rows(central, "SELECT id, state, phone FROM sms_outbox")
    assert sent and {r["state"] for r in sent} == {"sent"}
    central.portal.call(supervise, node.db, node.settings, clock, 0)  # the next pass
    assert len(central_rows(central, "SELECT * FROM sms_outbox")) == len(sent)
    assert len(central_rows(central, "SELECT * FROM step_reminders")) == 1  # the demo urges once
    logged = (node.settings.data_dir / "sms-log-gateway.ids").read_text().split()
    assert sorted(logged) == sorted(r["id"] for r in sent)  # each message handed over once


def test_central_texts_the_deciders_of_a_yellow_then_red_county_step_once_per_card(central):
    """The deadline reminders of county steps come from central, to the officers who may decide
    them: yellow on the last working day before the due date (after 国庆), red after it."""
    step = yb002(central)
    _set_due(central, step, "2026-10-09")  # Friday after 国庆 (1-7 Oct), 8-9 Oct working days
    assert _scan(central, "2026-10-07") == 0  # a holiday: 8 and 9 Oct still ahead, green
    assert _scan(central, "2026-10-08") == 1  # one working day left: yellow, to the decider
    assert _scan(central, "2026-10-09") == 0  # the same card is not sent again
    assert _scan(central, "2026-10-10") == 1  # the 调休 Saturday is a working day: red
    assert _scan(central, "2026-10-12") == 0
    assert _texts(central, "deadline") == [CIVIL_HEPU, CIVIL_HEPU]
    bodies = central_rows(central, "SELECT body FROM sms_outbox WHERE template = 'deadline'")
    assert all(len(r["body"]) <= 70 for r in bodies)
    assert "黄牌" in bodies[0]["body"] and "红牌" in bodies[1]["body"]


def test_a_connected_township_leaves_county_steps_reminders_and_urges_to_central(
    client, settings, clock
):
    """On a node whose county steps are decided at central, its local officer rows get no
    deadline SMS for them and its supervisor is pointed to central instead of a 催办 form."""
    _at(clock, "2026-09-29")
    county = _accept(client)
    _approve_township(client, settings, county)  # the county step is due 2026-10-15
    _at(clock, "2026-10-22")
    connected = dataclasses.replace(settings, central_url="https://central.example.org")
    asyncio.run(deadline_scan(connected, clock()))
    texted = rows(settings, "SELECT template FROM sms_outbox WHERE application_id = ?", county)
    assert [r["template"] for r in texted if r["template"] == "deadline"] == []
    asyncio.run(deadline_scan(settings, clock()))  # standalone: its own officers are texted
    texted = rows(settings, "SELECT template FROM sms_outbox WHERE application_id = ?", county)
    assert "deadline" in [r["template"] for r in texted]

    step_id = rows(
        settings,
        "SELECT id FROM steps WHERE application_id = ? AND level = 'county'",
        county,
    )[0]["id"]
    app = create_edge_app(connected, clock)
    with TestClient(app, base_url="https://testserver") as edge:
        login(edge, SUPERVISOR)
        page = edge.get(f"/supervision/steps/{step_id}")
        assert page.status_code == 200 and "由中心办理" in page.text
        assert "发送催办" not in page.text
