"""One decision module: the township and central judge a decision by the same rules, and
lifecycle.decide refuses what breaks them, however it is called (form, feed, or directly)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from central.decisions import decide as decide_at_central
from central.feed.queries import append
from edge.applications import lifecycle
from edge.applications.decision import (
    DECIDED_AT_CENTRAL,
    NO_MATERIALS,
    NO_OUTCOME,
    NO_REASONS,
    NO_SUCH_STEP,
    NOT_OPEN,
    NOT_YOUR_DEPARTMENT,
    OUTSIDE_JURISDICTION,
    Decision,
    DecisionRefused,
)
from edge.kernel.auth.account import Account
from edge.kernel.db import Database
from edge.settings import Settings
from edge.workdays.working_days import load_working_days
from replication.feed.commands import CountyDecision
from tests.central_support import START, central_rows, take_feed, yb002
from tests.conftest import (
    AGENT_QIANJIANG,
    FUCHENG,
    OFFICER_AGRI,
    OFFICER_CIVIL,
    OFFICER_LAND,
    STAFF,
    login,
)
from tests.intake_support import rows
from tests.test_applications import _accept, _decide, _sms, _status
from tests.test_central_officer import CIVIL_HEPU, CIVIL_YINHAI, MEDICAL_HEPU, post_decision

REASONS = "户口簿照片不清楚"


def _account(settings: Settings, phone: str) -> Account:
    return Account.from_row(rows(settings, "SELECT * FROM accounts WHERE phone = ?", phone)[0])


def _central_account(central: TestClient, phone: str) -> Account:
    return Account.from_row(
        central_rows(central, "SELECT * FROM accounts WHERE phone = ?", phone)[0]
    )


def _step(settings: Settings, application_id: str, level: str) -> Any:
    return rows(
        settings,
        "SELECT * FROM steps WHERE application_id = ? AND level = ?",
        application_id,
        level,
    )[0]


def judge_at_edge(edge: Settings, decision: Decision, county_steps_here: bool = True) -> str:
    """lifecycle.decide called directly on the node's database: '' if taken, else why not."""

    async def run() -> str:
        db = Database(edge.database_path)
        await db.open()
        try:
            async with db.write() as conn:
                days = await load_working_days(conn, decision.at, edge.web.timezone, 1)
                ctx = lifecycle.Context(
                    decision.by, decision.at, days, edge.keys_dir, county_steps_here
                )
                await lifecycle.decide(conn, ctx, decision)
        except DecisionRefused as refused:
            return str(refused)
        finally:
            await db.close()
        return ""

    return asyncio.run(run())


def judge_at_central(central: TestClient, node_id: str, decision: Decision) -> str:
    """central.decisions.decide called directly: '' if sealed and sent, else why not."""
    node = central.app.state.node

    async def run() -> str:
        try:
            async with node.db.write() as conn:
                await decide_at_central(conn, node.settings.keys_dir, node_id, decision)
        except DecisionRefused as refused:
            return str(refused)
        return ""

    return central.portal.call(run)


# --- the township form ---------------------------------------------------------------------


def test_the_township_form_refuses_a_return_without_reasons(client, settings):
    application_id = _accept(client, "MZ-002")
    refused = _decide(
        client, settings, STAFF, application_id, "township", "return", "", ("household_ids",)
    )
    assert refused.status_code == 400
    assert "不予批准或退回补正时必须写明理由。" in refused.text  # central's words
    assert 'value="return" checked' in refused.text  # what was typed stays
    assert 'value="household_ids" checked' in refused.text
    assert _status(settings, application_id) == "in_review"
    assert _sms(settings, application_id) == ["accepted"]
    requests = rows(
        settings,
        "SELECT count(*) FROM supplement_requests WHERE application_id = ?",
        application_id,
    )
    assert requests[0][0] == 0
    returned = _decide(
        client, settings, STAFF, application_id, "township", "return", REASONS, ("household_ids",)
    )
    assert returned.status_code == 303
    assert _status(settings, application_id) == "returned"


def test_the_township_form_offers_no_form_on_a_step_of_a_returned_application(client, settings):
    application_id = _accept(client, "NY-001")  # joint review: agri and land
    _decide(client, settings, STAFF, application_id, "township", "approve")
    returned = _decide(
        client, settings, OFFICER_AGRI, application_id, "agri", "return", REASONS, ("hukou_book",)
    )
    assert returned.status_code == 303, returned.text
    login(client, OFFICER_LAND)  # land's step is still active, but the application is not
    page = client.get(f"/staff/applications/{application_id}")
    assert page.status_code == 200 and 'action="/staff/steps/' not in page.text


# --- lifecycle.decide, called directly -----------------------------------------------------


def _broken(settings: Settings, application_id: str, case: str) -> tuple[Decision, bool]:
    """A decision on the MZ-002 application breaking one rule, and whether the node is
    connected to central (county steps decided there)."""
    township = _step(settings, application_id, "township")["id"]
    county = _step(settings, application_id, "county")["id"]
    staff = _account(settings, STAFF)
    good = Decision(township, "approve", staff, START, REASONS)
    officer = _account(settings, OFFICER_CIVIL)
    cases = {
        "no outcome": (replace(good, outcome="maybe"), False),
        "reject without reasons": (replace(good, outcome="reject", opinion="  "), False),
        "return without reasons": (
            replace(good, outcome="return", opinion="", material_keys=("household_ids",)),
            False,
        ),
        "return without materials": (replace(good, outcome="return"), False),
        "an agent": (replace(good, by=_account(settings, AGENT_QIANJIANG)), False),
        "an officer on the township step": (replace(good, by=officer), False),
        "staff of another township": (
            replace(good, by=replace(staff, id="x", jurisdiction_code=FUCHENG)),
            False,
        ),
        "a step still waiting": (replace(good, step_id=county, by=officer), False),
        "no such step": (replace(good, step_id="01JZZZZZZZZZZZZZZZZZZZZZZZ"), False),
    }
    if case == "a county step on a connected node":
        assert judge_at_edge(settings, good) == ""  # the township approves: the county step opens
        return replace(good, step_id=county, by=officer), True
    return cases[case]


BROKEN = {
    "no outcome": NO_OUTCOME,
    "reject without reasons": NO_REASONS,
    "return without reasons": NO_REASONS,
    "return without materials": NO_MATERIALS,
    "an agent": NOT_YOUR_DEPARTMENT,
    "an officer on the township step": NOT_YOUR_DEPARTMENT,
    "staff of another township": OUTSIDE_JURISDICTION,
    "a step still waiting": NOT_OPEN,
    "no such step": NO_SUCH_STEP,
    "a county step on a connected node": DECIDED_AT_CENTRAL,
}


@pytest.mark.parametrize("case", BROKEN)
def test_lifecycle_decide_refuses_a_decision_that_breaks_a_rule(client, settings, case):
    application_id = _accept(client, "MZ-002")
    decision, connected = _broken(settings, application_id, case)
    before = rows(settings, "SELECT id, status, decided_by, opinion FROM steps ORDER BY id")
    audit = rows(settings, "SELECT count(*) FROM audit_log")[0][0]
    assert judge_at_edge(settings, decision, county_steps_here=not connected) == str(BROKEN[case])
    after = rows(settings, "SELECT id, status, decided_by, opinion FROM steps ORDER BY id")
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    assert rows(settings, "SELECT count(*) FROM audit_log")[0][0] == audit
    assert rows(settings, "SELECT count(*) FROM supplement_requests")[0][0] == 0


def test_lifecycle_decide_takes_a_decision_that_keeps_every_rule(client, settings):
    application_id = _accept(client, "MZ-002")
    township = _step(settings, application_id, "township")["id"]
    staff = _account(settings, STAFF)
    decision = Decision(township, "return", staff, START, REASONS, ("household_ids",))
    assert judge_at_edge(settings, decision) == ""
    assert _status(settings, application_id) == "returned"
    step = _step(settings, application_id, "township")
    assert (step["status"], step["decided_by"], step["opinion"]) == ("returned", staff.id, REASONS)


def test_lifecycle_decide_takes_a_decision_only_in_its_makers_context(client, settings):
    application_id = _accept(client, "MZ-002")
    township = _step(settings, application_id, "township")["id"]
    decision = Decision(township, "approve", _account(settings, STAFF), START)

    async def run() -> None:
        db = Database(settings.database_path)
        await db.open()
        try:
            async with db.write() as conn:
                days = await load_working_days(conn, START, settings.web.timezone, 1)
                agent = _account(settings, AGENT_QIANJIANG)
                ctx = lifecycle.Context(agent, START, days, settings.keys_dir)
                await lifecycle.decide(conn, ctx, decision)
        finally:
            await db.close()

    with pytest.raises(ValueError, match="context"):
        asyncio.run(run())
    assert _step(settings, application_id, "township")["status"] == "active"


# --- both nodes ----------------------------------------------------------------------------


def _same_decision(central: TestClient, case: str) -> tuple[Decision, Any]:
    app = yb002(central)
    civil = _central_account(central, CIVIL_HEPU)
    good = Decision(app["step_id"], "return", civil, START, REASONS, ("id_card",))
    return {
        "no outcome": replace(good, outcome=""),
        "reject without reasons": replace(good, outcome="reject", opinion=""),
        "return without reasons": replace(good, opinion=" "),
        "return without materials": replace(good, material_keys=()),
        "another department's officer": replace(good, by=_central_account(central, MEDICAL_HEPU)),
        "another county's officer": replace(good, by=_central_account(central, CIVIL_YINHAI)),
        "no such step": replace(good, step_id="01JZZZZZZZZZZZZZZZZZZZZZZZ"),
    }[case], app


SAME = {
    "no outcome": NO_OUTCOME,
    "reject without reasons": NO_REASONS,
    "return without reasons": NO_REASONS,
    "return without materials": NO_MATERIALS,
    "another department's officer": NOT_YOUR_DEPARTMENT,
    "another county's officer": OUTSIDE_JURISDICTION,
    "no such step": NO_SUCH_STEP,
}


@pytest.mark.parametrize("case", SAME)
def test_both_nodes_give_the_same_answer_for_the_same_decision(central, edges, case):
    decision, app = _same_decision(central, case)
    lianzhou = edges["lianzhou"]
    at_central = judge_at_central(central, "lianzhou", decision)
    at_edge = judge_at_edge(lianzhou, decision)  # as the feed takes it: made at central
    assert at_central == at_edge == str(SAME[case])
    assert central_rows(central, "SELECT count(*) FROM commands")[0][0] == 0
    assert _step_status(lianzhou, app["step_id"]) == "active"


def _step_status(edge: Settings, step_id: str) -> str:
    return rows(edge, "SELECT status FROM steps WHERE id = ?", step_id)[0][0]


def test_both_nodes_take_the_same_valid_decision(central, edges):
    decision, app = _same_decision(central, "return without reasons")
    decision = replace(decision, opinion=REASONS)
    assert judge_at_central(central, "lianzhou", decision) == ""
    assert take_feed(central, edges["lianzhou"]) == ["applied"]
    assert _step_status(edges["lianzhou"], app["step_id"]) == "returned"


def test_the_officer_form_and_the_township_form_say_the_same(central, client, settings):
    login(central, CIVIL_HEPU)
    at_central = post_decision(
        central, yb002(central), action="return", opinion="", material_keys=["id_card"]
    )
    application_id = _accept(client, "MZ-002")
    at_township = _decide(
        client, settings, STAFF, application_id, "township", "return", "", ("household_ids",)
    )
    assert at_central.status_code == at_township.status_code == 400
    message = str(NO_REASONS)
    assert message in at_central.text and message in at_township.text


# --- the feed ------------------------------------------------------------------------------


def _command(central: TestClient, command: CountyDecision) -> None:
    async def run() -> str:
        async with central.app.state.node.db.write() as conn:
            return await append(conn, "lianzhou", command, "2026-11-23T09:00:00")

    central.portal.call(run)


def test_the_feed_refuses_a_county_decision_that_breaks_a_rule_and_says_why(central, edges):
    """Central never sends one; a command written some other way is judged again here."""
    app = yb002(central)
    officer = central_rows(central, "SELECT * FROM accounts WHERE phone = ?", CIVIL_HEPU)[0]
    card = {
        key: officer[key] for key in ("id", "name", "phone", "jurisdiction_code", "department_code")
    }
    payload = {
        "node_id": "lianzhou",
        "application_id": app["id"],
        "step_id": app["step_id"],
        "tracking_code": "",
        "item_code": "",
        "applicant": "",
        "id_number": "",
        "action": "return",
        "opinion": "",
        "department": officer["department_code"],
        "county": officer["jurisdiction_code"],
        "decided_at": "2026-11-23T09:00:00",
        "material_keys": ["id_card"],
        "officer": card,
        "seal_id": "",
    }
    _command(central, CountyDecision.from_payload(payload))
    lianzhou = edges["lianzhou"]
    assert take_feed(central, lianzhou) == ["refused"]
    detail = rows(lianzhou, "SELECT detail FROM applied_commands ORDER BY seq DESC")[0][0]
    assert detail == "Please give reasons when rejecting or returning for supplement."
    assert _step_status(lianzhou, app["step_id"]) == "active"
    assert rows(lianzhou, "SELECT count(*) FROM accounts WHERE id = ?", card["id"])[0][0] == 0
