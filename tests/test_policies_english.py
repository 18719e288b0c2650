"""Policy and affairs reference content in English: the policies we wrote (data files with
`en`) show in English on English pages, at the edge and at central; what staff write shows as
written; the disclosure schedule's legal source is bilingual."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from edge.policies.reference import TEXTS, _load
from tests.bulletin_support import post_form, seed_demo
from tests.conftest import STAFF, login
from tests.intake_support import rows

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_policy_we_wrote_has_english_for_every_text():
    for policy in (*_load("city"), *_load("township")):
        assert set(policy["zh"]) == set(policy["en"]) == set(TEXTS)
        for field in TEXTS:
            assert policy["zh"][field] and HAN.search(policy["zh"][field])
            assert policy["en"][field] and not HAN.search(policy["en"][field]), policy["en"]


def test_the_demo_policies_read_in_english_on_english_pages(client, settings):
    seed_demo(settings, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    listing = client.get("/disclosure/policies?lang=en").text
    assert "Lianzhou Town rural dilapidated housing renovation grant" in listing
    assert "农村危房改造补助" not in listing
    policy = rows(settings, "SELECT id FROM policies WHERE title LIKE '%危房%'")[0][0]
    page = client.get(f"/disclosure/policies/{policy}?lang=en").text
    assert "Grade D, demolish and rebuild: up to 35,000 yuan" in page
    assert "Lianzhou Town People&#39;s Government" in page
    chinese = client.get(f"/disclosure/policies/{policy}?lang=zh").text
    assert "廉州镇农村危房改造补助" in chinese and "Grade D" not in chinese
    sheet = client.get(f"/disclosure/policies/{policy}/sheet?lang=en").text
    assert "廉州镇农村危房改造补助" in sheet  # the sealed sheet stays in the published words
    village = "450521100202"
    client.post("/village", data={"village": village})
    assert "Lianzhou Town rural dilapidated" in client.get("/?lang=en").text
    affairs = client.get(f"/disclosure/affairs?village={village}&lang=en").text
    assert "Organic Law of the Villagers&#39; Committees, art. 30" in affairs
    client.get("/?lang=zh")
    zh = client.get(f"/disclosure/affairs?village={village}").text
    assert "村民委员会组织法" in zh, zh[zh.find("依据") - 100 : zh.find("依据") + 200]


def test_a_policy_staff_wrote_shows_as_written_in_english(client, settings):
    login(client, STAFF)
    values = {
        "title": "廉州镇农村危房改造补助",  # a title we wrote, with staff's own other texts
        "issuer": "廉州镇人民政府",
        "eligibility": "本镇住房经鉴定为危房的农户。",
        "amount": "每户 2 万元",
        "how_to_apply": "到村委会申请。",
        "item_code": "",
        "valid_from": "2026-11-01",
        "valid_to": "",
    }
    published = post_form(client, "/staff/policies/new", values)
    client.cookies.clear()
    page = client.get(published.headers["location"] + "?lang=en").text
    assert "每户 2 万元" in page and "本镇住房经鉴定为危房的农户。" in page
    assert "廉州镇农村危房改造补助" in page and "renovation grant" not in page


def test_central_shows_the_city_policies_in_english(central):
    from central.demo import ADMIN_PHONE
    from central.policies.demo import load_demo_city_content

    db = central.app.state.node.db
    registry = central.app.state.node.settings.nodes

    async def load() -> None:
        async with db.write() as conn:
            await load_demo_city_content(conn, registry, ADMIN_PHONE, "2026-11-23T09:00:00+00:00")

    central.portal.call(load)
    page = central.get("/disclosure/policies?lang=en").text
    assert "Old-age allowance" in page and "Beihai Civil Affairs Bureau" in page
    assert "Aged 80–89: 50 yuan a month" in page
    assert "高龄津贴" in central.get("/disclosure/policies?lang=zh").text
