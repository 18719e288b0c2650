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
