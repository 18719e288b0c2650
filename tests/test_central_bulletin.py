"""The city portal: a central admin publishes a city-wide policy and a news post, which reach
both townships down the feed; central shows every township's public content as ingested."""

from __future__ import annotations

from starlette.testclient import TestClient

from central.demo import ADMIN_PHONE
from edge.app import create_app as create_edge
from tests.bulletin_support import post_form
from tests.central_support import central_rows, take_feed
from tests.conftest import login
from tests.test_central_officer import CIVIL_HEPU

POLICY = {
    "title": "耕地地力保护补贴（2026 年度）",
    "issuer": "北海市农业农村局",
    "eligibility": "拥有耕地承包权并实际种粮的农户",
    "amount": "每亩 105 元",
    "how_to_apply": "由村委会统一核实面积，补贴直接打入一卡通。",
    "item_code": "NY-001",
    "valid_from": "2026-01-01",
    "valid_to": "",
}


def _edge_page(settings, clock, path: str) -> str:
    with TestClient(create_edge(settings, clock), base_url="https://testserver") as edge:
        return edge.get(path).text


def test_a_city_policy_published_at_central_shows_on_both_edges(central, edges, clock):
    sent = "SELECT count(*) FROM commands WHERE kind = 'city_policy'"
    before = central_rows(central, sent)[0][0]
    login(central, ADMIN_PHONE)
    response = post_form(central, "/disclosure/policies/new", POLICY)
    assert response.status_code == 303, response.text
    assert central_rows(central, sent)[0][0] == before + len(edges)
    for edge in edges.values():
        assert set(take_feed(central, edge)) == {"applied"}
        page = _edge_page(edge, clock, "/disclosure/policies")
        assert "耕地地力保护补贴（2026 年度）" in page and "每亩 105 元" in page
    assert "耕地地力保护补贴（2026 年度）" in central.get("/disclosure/policies").text
    actions = central_rows(central, "SELECT action FROM audit_log WHERE action = 'publish_policy'")
    assert len(actions) == 1


def test_only_a_central_admin_publishes(central):
    login(central, CIVIL_HEPU)
    assert central.get("/disclosure/policies/new").status_code == 403


def test_a_city_news_post_reaches_both_edges(central, edges, clock):
    login(central, ADMIN_PHONE)
    data = {"place": "city", "title": "全市冬季森林防火戒严期开始", "body": "即日起严禁野外用火。"}
    assert post_form(central, "/news/new", data).status_code == 303
    for edge in edges.values():
        take_feed(central, edge)
        assert "全市冬季森林防火戒严期开始" in _edge_page(edge, clock, "/news")


def test_central_shows_every_townships_public_content(central):
    central.cookies.clear()
    policies = central.get("/disclosure/policies").text
    assert "廉州镇农村危房改造补助" in policies and "福成镇农村危房改造补助" in policies
    affairs = central.get("/disclosure/affairs").text
    assert "乾江村" in affairs
    village = central_rows(
        central, "SELECT village_code FROM edge_affairs WHERE node_id = 'fucheng' LIMIT 1"
    )[0][0]
    listed = central.get(f"/disclosure/affairs?village={village}").text
    finance = central_rows(
        central,
        "SELECT node_id, id FROM edge_affairs WHERE kind = 'finance' AND status = 'published' "
        "AND village_code = ? LIMIT 1",
        village,
    )[0]
    assert f"/disclosure/affairs/fucheng/{finance[1]}" in listed
    table = central.get(f"/disclosure/affairs/fucheng/{finance[1]}").text
    assert "集体鱼塘承包费" in table and "46,000.50" in table
    pending = central_rows(
        central, "SELECT node_id, id FROM edge_affairs WHERE status = 'pending' LIMIT 1"
    )[0]
    assert central.get(f"/disclosure/affairs/{pending[0]}/{pending[1]}").status_code == 404
    elections = central.get("/disclosure/elections").text
    assert "第十二届村民委员会成员候选人公示" in elections and "黄建国" in elections
    news = central.get("/news").text
    assert "冬季农田水利建设全面开工" in news


def test_the_city_demo_content_reaches_each_node_once(central, edges, clock):
    from central.policies.demo import load_demo_city_content

    db = central.app.state.node.db
    registry = central.app.state.node.settings.nodes

    async def load() -> None:
        async with db.write() as conn:
            await load_demo_city_content(conn, registry, ADMIN_PHONE, "2026-11-23T09:00:00+00:00")

    central.portal.call(load)
    for edge in edges.values():
        take_feed(central, edge)
        page = _edge_page(edge, clock, "/disclosure/policies")
        assert "高龄津贴" in page and "耕地地力保护补贴" in page
    before = central_rows(central, "SELECT count(*) FROM commands")[0][0]
    central.portal.call(load)
    assert central_rows(central, "SELECT count(*) FROM commands")[0][0] == before


def test_the_city_portal_pages_fit_the_budgets(central):
    """Central's public pages, with both demo townships ingested: within the first round trip,
    a handful of queries whatever the number of townships."""
    from tests.test_budgets import FIRST_ROUND_TRIP, _measure

    central.cookies.clear()
    village = central_rows(central, "SELECT village_code FROM edge_affairs LIMIT 1")[0][0]
    finance = central_rows(
        central,
        "SELECT node_id, id FROM edge_affairs WHERE kind = 'finance' AND status = 'published'",
    )[0]
    report = {}
    for path in (
        "/",
        "/disclosure/policies",
        "/disclosure/affairs",
        f"/disclosure/affairs?village={village}",
        f"/disclosure/affairs/{finance[0]}/{finance[1]}",
        "/disclosure/elections",
        "/news",
    ):
        size, queries = _measure(central, path)
        report[path] = (size, queries)
        assert size <= FIRST_ROUND_TRIP, (path, size)
        assert queries <= 6, (path, queries)
    print("\ncity portal budgets (gzip bytes, SQL statements):", report)
