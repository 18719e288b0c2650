"""The city-wide /feedback list at central: every township's public items, masked as on the
edges, filtered and paginated; county departments' items have their public page at central."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from edge.app import create_app as create_edge
from edge.settings import Settings
from tests.central_support import central_rows, ingest
from tests.conftest import MovableClock
from tests.feedback_support import code_of, item_of, raise_item
from tests.test_budgets import FIRST_ROUND_TRIP, _measure

PHONE = "13977123456"
ID_NUMBER = "450521199001011234"
ITEM_LINK = re.compile(r'<li><a href="([^"]+)"')


@pytest.fixture
def lianzhou(edges: dict[str, Settings], clock: MovableClock) -> Iterator[TestClient]:
    with TestClient(create_edge(edges["lianzhou"], clock), base_url="https://testserver") as c:
        yield c


def _raise(client: TestClient, edge: Settings, **fields: str) -> str:
    return str(item_of(edge.database_path, code_of(raise_item(client, **fields)))["id"])


def test_the_city_list_shows_every_township_masked_and_links_county_items_here(
    central, lianzhou, edges
):
    edge = edges["lianzhou"]
    body = f"我家的低保从九月起停发了，电话{PHONE}，身份证{ID_NUMBER}。"
    county = _raise(lianzhou, edge, category="assistance", body=body, name="黄大妈", phone=PHONE)
    township = _raise(lianzhou, edge, body="村口路灯坏了，晚上看不见路，请修一下。")
    private = _raise(lianzhou, edge, private="1", body="不想公开的事情，请私下处理一下。")
    ingest(central, edge)
    page = central.get("/feedback")
    assert page.status_code == 200
    assert PHONE not in page.text and ID_NUMBER not in page.text and "黄大妈" not in page.text
    assert "139****3456" in page.text and "黄**" in page.text
    assert private not in page.text
    assert f'href="/feedback/lianzhou/{county}"' in page.text  # handled here, read here
    assert f'href="http://127.0.0.2:8101/feedback/{township}"' in page.text  # at its township
    public = central_rows(central, "SELECT node_id FROM edge_feedback WHERE private = 0")
    assert {r["node_id"] for r in public} == {"lianzhou", "fucheng"}
    assert f"共 {len(public)} 条" in page.text  # every township's public items, none else
    one = central.get(f"/feedback/lianzhou/{county}")
    assert one.status_code == 200 and "139****3456" in one.text
    assert PHONE not in one.text and ID_NUMBER not in one.text and "黄大妈" not in one.text
    assert "办理过程" in one.text and f"http://127.0.0.2:8101/feedback/{county}" in one.text
    assert central.get(f"/feedback/lianzhou/{private}").status_code == 404
    assert central.get(f"/feedback/fucheng/{county}").status_code == 404


def test_the_city_list_filters_by_township_category_and_state(central, lianzhou, edges):
    county = _raise(
        lianzhou, edges["lianzhou"], category="assistance", body="低保停发了，请帮忙查一下原因。"
    )
    ingest(central, edges["lianzhou"])
    fucheng = central.get("/feedback?township=fucheng").text
    links = ITEM_LINK.findall(fucheng)
    assert links and all("127.0.0.3:8102" in link or "/fucheng/" in link for link in links)
    assistance = central.get("/feedback?category=assistance").text
    assert f"/feedback/lianzhou/{county}" in assistance
    assert "/feedback/lianzhou/" + county not in central.get("/feedback?category=roads").text
    accepted = central_rows(
        central, "SELECT count(*) FROM edge_feedback WHERE private = 0 AND state = 'rated'"
    )[0][0]
    assert f"共 {accepted} 条" in central.get("/feedback?state=rated").text
    shown = central.get("/feedback?township=nowhere&state=maybe&category=x")
    assert shown.status_code == 200 and "共" in shown.text  # unknown filters are dropped
    fragment = central.get("/feedback?township=fucheng", headers={"HX-Request": "true"})
    assert fragment.text.startswith('<section id="results">')


def test_the_city_list_pages_at_the_same_cost_within_the_budget(central, lianzhou, edges, clock):
    for n in range(24):
        if n % 9 == 8:
            clock.advance(hours=1, minutes=1)  # the per-address limit: 10 an hour
        raise_item(lianzhou, body=f"第{n}条：村里的路灯坏了，电话13977123456，请尽快修。" * 3)
    ingest(central, edges["lianzhou"])
    public = central_rows(central, "SELECT count(*) FROM edge_feedback WHERE private = 0")[0][0]
    assert public > 40
    first, second = central.get("/feedback").text, central.get("/feedback?page=2").text
    assert len(ITEM_LINK.findall(first)) == 20 and len(ITEM_LINK.findall(second)) == 20
    assert set(ITEM_LINK.findall(first)).isdisjoint(ITEM_LINK.findall(second))
    assert "page=3" in second
    item = central_rows(central, "SELECT node_id, id FROM edge_feedback WHERE private = 0")[0]
    report = {}
    for path in (
        "/feedback",
        "/feedback?page=2",
        "/feedback?township=lianzhou&category=roads&state=accepted",
        f"/feedback/{item['node_id']}/{item['id']}",
    ):
        report[path] = _measure(central, path)
        assert report[path][0] <= FIRST_ROUND_TRIP, (path, report[path])
        assert report[path][1] <= 6, (path, report[path])
    assert report["/feedback"][1] == report["/feedback?page=2"][1]
