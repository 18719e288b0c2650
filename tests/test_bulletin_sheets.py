"""Policies and village affairs as sealed notice-board sheets (公开栏): sealed when published
(by staff, by the reviewer, by the feed), so a public print writes nothing; the seal verifies."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

from edge.kernel.db import Database
from edge.sync.commands import apply
from replication.feed.commands import encode
from replication.feed.pull import FeedEntry
from tests.conftest import AGENT_QIANJIANG, QIANJIANG, STAFF, login
from tests.intake_support import rows
from tests.test_affairs import FINANCE, _post, _submit
from tests.test_policies import CITY, POLICY, _publish

SEAL_ID = re.compile(r"/verify/([0-9A-Z]{26})")


def _seals(settings) -> int:
    return rows(settings, "SELECT count(*) FROM seals WHERE kind = 'disclosure_sheet'")[0][0]


def _villages(settings) -> int:
    return rows(
        settings,
        "SELECT count(*) FROM jurisdictions WHERE level = 'village' AND parent_code = "
        f"'{settings.township_code}'",
    )[0][0]


def _published_affair(client) -> str:
    login(client, AGENT_QIANJIANG)
    affair_id = _submit(client, FINANCE).headers["location"].rsplit("/", 1)[1]
    login(client, STAFF)
    form = f"/disclosure/affairs/{affair_id}"
    _post(client, f"/staff/affairs/{affair_id}/review", {"action": "approve"}, form)
    client.cookies.clear()
    return affair_id


def test_a_finance_table_is_sealed_when_published_and_prints_with_its_totals(client, settings):
    login(client, AGENT_QIANJIANG)
    affair_id = _submit(client, FINANCE).headers["location"].rsplit("/", 1)[1]
    client.cookies.clear()
    assert client.get(f"/disclosure/affairs/{affair_id}/sheet").status_code == 404  # pending
    assert _seals(settings) == 0
    login(client, STAFF)
    form = f"/disclosure/affairs/{affair_id}"
    _post(client, f"/staff/affairs/{affair_id}/review", {"action": "approve"}, form)
    assert _seals(settings) == 1  # sealed by the reviewer's publication
    client.cookies.clear()
    assert f"/disclosure/affairs/{affair_id}/sheet" in client.get(form).text
    sheet = client.get(f"/disclosure/affairs/{affair_id}/sheet")
    assert sheet.status_code == 200 and "乾江村" in sheet.text and "<svg" in sheet.text
    assert "收入：集体鱼塘承包费 8,600.00元" in sheet.text
    assert "收入合计：8,600.00元；支出合计：5,234.25元" in sheet.text
    assert "收支相抵：3,365.75元" in sheet.text
    assert f"/disclosure/affairs/{affair_id}" in sheet.text  # the QR's online version
    client.get(f"/disclosure/affairs/{affair_id}/sheet")
    assert _seals(settings) == 1  # printing wrote nothing
    seal_id = SEAL_ID.search(sheet.text).group(1)  # type: ignore[union-attr]
    verify = client.get(f"/verify/{seal_id}")
    assert "签章有效" in verify.text and "集体鱼塘承包费" in verify.text


def test_a_township_policy_is_sealed_for_every_board_when_published(client, settings):
    login(client, STAFF)
    published = _publish(client, POLICY)
    policy_id = published.headers["location"].rsplit("/", 1)[1]
    boards = 1 + _villages(settings)  # the township's board and each village's
    assert _seals(settings) == boards
    client.cookies.clear()
    page = client.get(f"/disclosure/policies/{policy_id}")
    assert f'action="/disclosure/policies/{policy_id}/sheet"' in page.text
    sheet = client.get(f"/disclosure/policies/{policy_id}/sheet?village={QIANJIANG}")
    assert sheet.status_code == 200 and "乾江村" in sheet.text
    assert "惠民政策：廉州镇高龄老人冬季慰问金" in sheet.text and "每人 500 元" in sheet.text
    township = client.get(f"/disclosure/policies/{policy_id}/sheet")
    assert township.status_code == 200 and "廉州镇" in township.text
    assert _seals(settings) == boards  # printing wrote nothing
    seal_id = SEAL_ID.search(sheet.text).group(1)  # type: ignore[union-attr]
    assert "签章有效" in client.get(f"/verify/{seal_id}").text
    assert client.get("/disclosure/policies/NOSUCH/sheet").status_code == 404


def test_a_city_policy_is_sealed_when_the_feed_brings_it(client, settings):
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
    assert _seals(settings) == 1 + _villages(settings)
    policy_id = rows(settings, "SELECT id FROM policies")[0][0]
    sheet = client.get(f"/disclosure/policies/{policy_id}/sheet?village={QIANJIANG}")
    assert "城乡居民医保参保资助" in sheet.text and "北海市医疗保障局" in sheet.text
    assert _seals(settings) == 1 + _villages(settings)


def test_a_results_sheet_of_a_month_to_come_is_refused_without_a_seal(client, settings):
    future = client.get(f"/disclosure/results/sheet?village={QIANJIANG}&month=2099-01")
    assert future.status_code == 400 and "只能打印" in future.text
    ancient = client.get(f"/disclosure/results/sheet?village={QIANJIANG}&month=1900-01")
    assert ancient.status_code == 400
    assert _seals(settings) == 0
