"""好差评 at central: a bad rating of a county decision travels up, the department's officer
works its follow-up at central, each action goes down the feed and the township's row follows;
the city's published figures cover every township."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from edge.app import create_app as create_edge_app
from tests.central_support import central_rows, ingest, take_feed, yb002
from tests.conftest import csrf_of, login
from tests.intake_support import rows
from tests.test_central_officer import CIVIL_HEPU, MEDICAL_HEPU, post_decision

LINK = re.compile(r"/rate/([0-9a-z]{10})")


def _rate_at_the_township(edge, clock, application_id: str, template: str, level: int) -> None:
    body = rows(
        edge,
        "SELECT body FROM sms_outbox WHERE application_id = ? AND template = ? ORDER BY id DESC",
        application_id,
        template,
    )[0]["body"]
    token = LINK.search(body).group(1)
    with TestClient(create_edge_app(edge, clock), base_url="https://testserver") as township:
        township.get(f"/rate/{token}")
        answer = township.post(
            f"/rate/{token}", data={"level": str(level), "comment": "不予批准的理由没讲清楚"}
        )
        assert answer.status_code == 200


def _act(central: TestClient, url: str, action: str, **data: str):
    token = csrf_of(central.get(url).text)
    return central.post(
        f"{url}/{action}", data={"csrf_token": token, **data}, follow_redirects=False
    )


def test_a_county_follow_up_is_worked_at_central_and_the_township_sees_it(central, edges, clock):
    edge = edges["lianzhou"]
    login(central, CIVIL_HEPU)
    app = yb002(central)
    assert (
        post_decision(central, app, action="reject", opinion="家庭收入超过标准").status_code == 303
    )
    assert take_feed(central, edge) == ["applied"]
    invitation = rows(edge, "SELECT * FROM ratings WHERE application_id = ?", app["id"])[0]
    assert (invitation["office_code"], invitation["handled_at"]) == ("civil", "central")
    _rate_at_the_township(edge, clock, app["id"], "rejected", 5)
    case = rows(edge, "SELECT * FROM follow_ups WHERE application_id = ?", app["id"])[0]
    assert case["handled_at"] == "central"

    ingest(central, edge)
    figures = central.get("/disclosure/ratings")
    assert figures.status_code == 200 and "不予批准的理由" not in figures.text
    assert "民政" in figures.text
    listed = central.get("/officer/follow-ups").text
    url = f"/officer/follow-ups/lianzhou/{case['id']}"
    assert url in listed
    page = central.get(url)
    assert page.status_code == 200 and "不予批准的理由没讲清楚" in page.text
    early = _act(central, url, "callback", result="satisfied", note="已回访")
    assert early.status_code == 409
    assert _act(central, url, "verify", note="核实：告知书未写明收入标准").status_code == 303
    assert "已发往乡镇，等待执行" in central.get(url).text
    again = _act(central, url, "verify", note="核实：告知书未写明收入标准")
    assert again.status_code == 409  # one action waits at a time: never sent twice
    assert take_feed(central, edge) == ["seen", "applied"]
    ingest(central, edge)
    assert _act(central, url, "remedy", remedy="explained", note="已当面说明").status_code == 303
    assert take_feed(central, edge)[-1] == "applied"
    ingest(central, edge)
    assert _act(central, url, "callback", result="accepted", note="电话回访").status_code == 303
    assert take_feed(central, edge)[-1] == "applied"
    township = rows(edge, "SELECT * FROM follow_ups WHERE id = ?", case["id"])[0]
    assert (township["status"], township["remedy"], township["callback_result"]) == (
        "closed",
        "explained",
        "accepted",
    )
    assert township["closed_in_time"] == 1
    assert (
        rows(
            edge, "SELECT count(*) FROM ratings WHERE application_id = ? AND round = 2", app["id"]
        )[0][0]
        == 1
    )
    fix_sms = rows(
        edge,
        "SELECT count(*) FROM sms_outbox WHERE template = 'rate_fix' AND application_id = ?",
        app["id"],
    )
    assert fix_sms[0][0] == 1
    ingest(central, edge)
    closed = central.get(url).text
    assert "已办结" in closed and "乡镇已执行" in closed
    actions = central_rows(
        central, "SELECT action FROM audit_log WHERE object_id = ?", f"lianzhou:{case['id']}"
    )
    assert {"follow_up_verify", "follow_up_remedy", "follow_up_callback"} <= {
        a["action"] for a in actions
    }
    login(central, MEDICAL_HEPU)  # another department neither lists nor opens it
    assert url not in central.get("/officer/follow-ups").text
    assert central.get(url).status_code == 404


def test_the_city_figures_page_fits_the_budget_and_runs_a_bounded_number_of_queries(central):
    from tests.test_budgets import FIRST_ROUND_TRIP
    from tests.test_central_officer import measure

    size, statements, html = measure(central, "/disclosure/ratings")
    assert "好差评公开" in html and "2026-" in html  # the demo townships' ratings
    assert size <= FIRST_ROUND_TRIP and statements <= 6, (size, statements)
    print("\ncentral /disclosure/ratings (gzip bytes, SQL statements):", size, statements)
