"""我有话说 across nodes: an item for a county department is answered by its officer at central
and the answer shows at the township; Open311 GeoReport v2 reads every township's public items
(masked) and submits new ones down the feed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from central.feedback.keys import create as create_key
from edge.app import create_app as create_edge
from edge.settings import Settings
from tests.central_support import central_rows, ingest, take_feed
from tests.conftest import QIANJIANG, MovableClock, csrf_of, login
from tests.feedback_support import code_of, item_of, raise_item, rows
from tests.test_central_officer import CIVIL_HEPU, CIVIL_YINHAI

PHONE = "13977123456"
ID_NUMBER = "450521199001011234"


@pytest.fixture
def lianzhou(edges: dict[str, Settings], clock: MovableClock) -> Iterator[TestClient]:
    """The Lianzhou edge app on the copied demo database."""
    app = create_edge(edges["lianzhou"], clock)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _county_item(lianzhou: TestClient, edge: Settings) -> str:
    body = f"我家的低保从九月起停发了，电话{PHONE}，身份证{ID_NUMBER}。"
    code = code_of(
        raise_item(lianzhou, category="assistance", body=body, name="黄大妈", phone=PHONE)
    )
    return item_of(edge.database_path, code)["id"]


def test_a_county_item_is_answered_at_central_and_the_answer_shows_at_the_township(
    central, lianzhou, edges
):
    edge = edges["lianzhou"]
    item_id = _county_item(lianzhou, edge)
    ingest(central, edge)
    login(central, CIVIL_HEPU)
    listing = central.get("/officer/feedback")
    assert listing.status_code == 200 and f"/officer/feedback/lianzhou/{item_id}" in listing.text
    page = central.get(f"/officer/feedback/lianzhou/{item_id}")
    assert PHONE in page.text  # the officer sees the full item; the read is audited
    audited = central_rows(central, "SELECT action FROM audit_log WHERE object_type='feedback'")
    assert [r["action"] for r in audited] == ["read_personal_data"]
    answer = "经核查，您家低保因年审材料未交暂停，请到村委补交后恢复并补发。"
    sent = central.post(
        f"/officer/feedback/lianzhou/{item_id}/answer",
        data={"csrf_token": csrf_of(page.text), "answer": answer},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    again = central.post(
        f"/officer/feedback/lianzhou/{item_id}/answer",
        data={"csrf_token": csrf_of(page.text), "answer": answer},
    )
    assert again.status_code == 409  # one answer waits for the township at a time
    assert take_feed(central, edge)[-1] == "applied"
    row = rows(edge.database_path, "SELECT * FROM feedback WHERE id = ?", item_id)[0]
    assert (row["state"], row["answer"], row["answered_by"]) == ("answered", answer, "黄丽娟")
    sms = rows(edge.database_path, "SELECT body FROM sms_outbox WHERE phone = ?", PHONE)
    assert any("已答复" in s["body"] for s in sms)
    public = lianzhou.get(f"/feedback/{item_id}")
    assert answer in public.text
    ingest(central, edge)
    assert "乡镇未接收" not in central.get("/officer/feedback").text


def test_an_officer_of_another_county_does_not_see_the_item(central, lianzhou, edges):
    item_id = _county_item(lianzhou, edges["lianzhou"])
    ingest(central, edges["lianzhou"])
    login(central, CIVIL_YINHAI)
    assert item_id not in central.get("/officer/feedback").text
    assert central.get(f"/officer/feedback/lianzhou/{item_id}").status_code == 404


def test_open311_lists_services_and_public_requests_masked(central, lianzhou, edges):
    item_id = _county_item(lianzhou, edges["lianzhou"])
    private = code_of(raise_item(lianzhou, private="1", body="不想公开的事情，请私下处理。"))
    ingest(central, edges["lianzhou"])
    services = central.get("/open311/v2/services.json").json()
    assert {"roads", "assistance"} <= {s["service_code"] for s in services}
    answer = central.get("/open311/v2/requests.json")
    assert answer.status_code == 200
    assert PHONE not in answer.text and ID_NUMBER not in answer.text
    requests = {r["service_request_id"]: r for r in answer.json()}
    mine = requests[item_id]
    assert mine["status"] == "open"
    assert mine["extended_attributes"]["cunban_state"] == "transferred"
    assert mine["extended_attributes"]["cunban_author"] == "黄**"
    assert "139****3456" in mine["description"]
    assert item_of(edges["lianzhou"].database_path, private)["id"] not in requests
    one = central.get(f"/open311/v2/requests/{item_id}.json").json()
    assert one[0]["service_request_id"] == item_id
    closed = central.get("/open311/v2/requests.json?status=closed").json()
    assert item_id not in {r["service_request_id"] for r in closed}
    by_code = central.get("/open311/v2/requests.json?service_code=roads").json()
    assert all(r["service_code"] == "roads" for r in by_code)
    xml = central.get(f"/open311/v2/requests/{item_id}.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    assert f"<service_request_id>{item_id}</service_request_id>" in xml.text
    assert central.get("/open311/v2/requests.json?status=maybe").status_code == 400


def test_open311_post_needs_a_key_and_reaches_the_township_through_the_feed(
    central, lianzhou, edges
):
    form = {
        "service_code": "roads",
        "address_id": QIANJIANG,
        "description": "乾江村桥头的护栏被车撞坏了，很危险。",
        "attribute[kind]": "problem",
        "phone": PHONE,
    }
    refused = central.post("/open311/v2/requests.json", data={**form, "api_key": "nope"})
    assert refused.status_code == 403
    assert refused.json()[0]["code"] == 403
    db = central.app.state.node.db

    async def make() -> str:
        async with db.write() as conn:
            return await create_key(conn, "city-dashboard", "test", "2026-11-23T09:00:00+00:00")

    key = central.portal.call(make)
    stored = central_rows(central, "SELECT key_hash FROM open311_keys")
    assert key not in json.dumps([dict(r) for r in stored])
    bad = central.post(
        "/open311/v2/requests.json", data={**form, "api_key": key, "address_id": "1"}
    )
    assert bad.status_code == 400
    created = central.post("/open311/v2/requests.json", data={**form, "api_key": key})
    assert created.status_code == 200
    item_id = created.json()[0]["service_request_id"]
    pending = central.get(f"/open311/v2/requests/{item_id}.json").json()[0]
    assert pending["status"] == "open"
    assert take_feed(central, edges["lianzhou"])[-1] == "applied"
    row = rows(edges["lianzhou"].database_path, "SELECT * FROM feedback WHERE id = ?", item_id)
    assert (row[0]["channel"], row[0]["village_code"], row[0]["state"]) == (
        "open311",
        QIANJIANG,
        "accepted",
    )
    assert "桥头的护栏" in lianzhou.get(f"/feedback/{item_id}").text
    ingest(central, edges["lianzhou"])
    got = central.get(f"/open311/v2/requests/{item_id}.json").json()[0]
    assert got["extended_attributes"]["cunban_state"] == "accepted"


def test_the_demo_has_feedback_in_every_state_in_both_townships(edges):
    for edge in edges.values():
        found = rows(edge.database_path, "SELECT state, level, private, reopened FROM feedback")
        assert {r["state"] for r in found} == {
            "accepted",
            "transferred",
            "handling",
            "answered",
            "visited",
            "rated",
        }
        assert any(r["level"] == "county" and r["state"] == "transferred" for r in found)
        assert any(r["private"] for r in found) and any(r["reopened"] for r in found)
