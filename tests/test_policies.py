"""Benefit policies: township staff publish one (bad input refused in words, nothing lost), it
links its service item, leaves the list for the archive when it expires; a city-wide policy
arrives by the feed and is kept as central wrote it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

from edge.kernel.db import Database
from edge.sync.commands import apply
from replication.feed.commands import CityPolicy, encode
from replication.feed.pull import FeedEntry
from tests.bulletin_support import post_form
from tests.conftest import AGENT_QIANJIANG, STAFF, login
from tests.intake_support import rows

POLICY = {
    "title": "廉州镇高龄老人冬季慰问金",
    "issuer": "廉州镇人民政府",
    "eligibility": "本镇户籍 90 周岁以上老人",
    "amount": "每人 500 元",
    "how_to_apply": "村委会统一造册上报，无需本人申请。",
    "item_code": "mz-004",
    "valid_from": "2026-11-01",
    "valid_to": "2026-12-31",
}


def _publish(client, data):
    return post_form(client, "/staff/policies/new", data)


def test_staff_publish_a_policy_that_links_its_service_item(client, settings):
    login(client, STAFF)
    response = _publish(client, POLICY)
    assert response.status_code == 303
    client.cookies.clear()
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "每人 500 元" in page.text and "本镇户籍 90 周岁以上老人" in page.text
    assert 'href="/services/MZ-004"' in page.text
    assert "廉州镇高龄老人冬季慰问金" in client.get("/disclosure/policies").text
    assert [tuple(r) for r in rows(settings, "SELECT origin, scope_code FROM policies")] == [
        ("township", "450521100000")
    ]
    assert rows(settings, "SELECT count(*) FROM audit_log WHERE action = 'publish_policy'")[0][0]


def test_bad_dates_and_unknown_items_are_refused_and_kept(client, settings):
    login(client, STAFF)
    data = {**POLICY, "item_code": "XX-999", "valid_to": "2026-10-01"}
    response = _publish(client, data)
    assert response.status_code == 400
    assert "办事指南里没有这个事项编号" in response.text
    assert "截止日期不能早于开始日期" in response.text
    assert "本镇户籍 90 周岁以上老人" in response.text and 'value="XX-999"' in response.text
    assert rows(settings, "SELECT count(*) FROM policies")[0][0] == 0


def test_only_township_staff_publish(client):
    login(client, AGENT_QIANJIANG)
    assert client.get("/staff/policies/new").status_code == 403


def test_an_expired_policy_leaves_the_list_for_the_archive(client, clock):
    login(client, STAFF)
    _publish(client, POLICY)
    client.cookies.clear()
    clock.now = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)
    assert "高龄老人冬季慰问金" not in client.get("/disclosure/policies").text
    archive = client.get("/disclosure/policies?archive=1").text
    assert "高龄老人冬季慰问金" in archive


CITY = CityPolicy(
    id="01JD0000000000000000000100",
    title="城乡居民医保参保资助",
    issuer="北海市医疗保障局",
    eligibility="特困人员、低保对象、返贫致贫人口",
    amount="特困人员全额资助，低保对象定额资助",
    how_to_apply="由民政、乡村振兴部门认定身份后自动资助，无需个人申请。",
    item_code=None,
    valid_from=date(2026, 1, 1),
    valid_to=None,
    published_at="2026-11-20T02:00:00+00:00",
)


def test_a_city_policy_from_the_feed_is_kept_and_shown(client, settings):
    entry = FeedEntry(7, "01JD0000000000000000000101", CITY.kind, json.loads(encode(CITY)))

    async def take() -> str:
        db = Database(settings.database_path)
        await db.open()
        try:
            async with db.write() as conn:
                return await apply(conn, settings, entry, datetime(2026, 11, 23, tzinfo=UTC))
        finally:
            await db.close()

    assert asyncio.run(take()) == "applied"
    page = client.get("/disclosure/policies").text
    assert "城乡居民医保参保资助" in page and "北海市医疗保障局" in page
    assert [tuple(r) for r in rows(settings, "SELECT origin, scope_code FROM policies")] == [
        ("central", "450500000000")
    ]
