"""The front page: pick my village, remembered in a cookie, no JavaScript needed."""

from __future__ import annotations

from tests.conftest import HUANZHU


def test_first_visit_asks_for_the_village(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "请先选择您所在的村（社区）" in page.text
    for village in ("乾江村", "还珠村", "平田村"):
        assert village in page.text
    assert "福成镇" in page.text  # the other township is named, served elsewhere
    # nothing is chosen for the resident: the first option asks, and is no village
    first = page.text.split('<select id="village" name="village" required>')[1].split("</option>")[
        0
    ]
    assert first.strip() == '<option value="" selected>请选择'
    empty = client.post("/village", data={"village": ""})
    assert empty.status_code == 400 and "请从列表中选择" in empty.text


def test_choosing_a_village_is_remembered(client):
    client.get("/")
    response = client.post("/village", data={"village": HUANZHU}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/services"
    page = client.get("/")
    assert "<h1>还珠村</h1>" in page.text


def test_a_village_of_another_township_is_refused(client):
    client.get("/")
    response = client.post("/village", data={"village": "450503101201"})
    assert response.status_code == 400
    assert "请从列表中选择" in response.text
    assert "cb_village" not in client.cookies


def test_security_headers(client):
    headers = client.get("/").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def _seeded_home(client, settings, village: str) -> str:
    from datetime import UTC, datetime

    from tests.bulletin_support import seed_demo

    seed_demo(settings, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    client.get("/")
    client.post("/village", data={"village": village})
    return client.get("/").text


def test_my_village_home_shows_what_is_new_there(client, settings):
    page = _seeded_home(client, settings, HUANZHU)
    assert "还珠村开展冬季森林防火宣传" in page  # the village's news
    assert "廉州镇冬季农田水利建设全面开工" in page  # the township's
    assert "还珠村 2026-10 财务收支公开" in page  # its disclosures
    assert "廉州镇农村危房改造补助" in page  # policies in force
    assert "秋冬种植农资补贴" not in page  # not an expired one
    assert "还珠村第十二届村民委员会成员候选人公示" in page  # its running election
    assert "乾江村" not in page.split("<h2>")[1]  # nothing of another village above the picker


def test_another_village_sees_its_own_content(client, settings):
    page = _seeded_home(client, settings, "450521100201")
    assert "乾江村开展冬季森林防火宣传" in page
    assert "还珠村开展冬季森林防火宣传" not in page
    assert "第十二届村民委员会成员候选人公示" not in page
