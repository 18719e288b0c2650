"""Election publicity: candidates in full with their roles (never an ID number or phone), the
objection link into 我有话说, off the list the day after the period ends (by date, no job), kept
in the archive."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.bulletin_support import post_form
from tests.conftest import HUANZHU, QIANJIANG, STAFF, login
from tests.intake_support import rows

ELECTION = {
    "village": HUANZHU,
    "title": "还珠村第十二届村民委员会成员候选人公示",
    "starts_on": "2026-11-20",
    "ends_on": "2026-11-26",
    "name_0": "黄建国",
    "role_0": "村民委员会主任",
    "name_1": "欧阳 秀兰",
    "role_1": "村民委员会委员",
    "note": "有异议请联系镇指导组 13812345678",
}


def _publish(client, data):
    return post_form(client, "/staff/elections/new", data)


def test_published_candidates_show_in_full_with_the_objection_link(client, settings):
    login(client, STAFF)
    response = _publish(client, ELECTION)
    assert response.status_code == 303
    client.cookies.clear()
    page = client.get(response.headers["location"]).text
    assert "<td>黄建国</td><td>村民委员会主任</td>" in page
    assert "欧阳 秀兰" in page
    assert "13812345678" not in page and "138****5678" in page
    assert "/feedback/new?topic=election&amp;election=" in page and f"village={HUANZHU}" in page
    listed = client.get(f"/disclosure/elections?village={HUANZHU}").text
    assert "第十二届村民委员会" in listed
    assert "第十二届" not in client.get(f"/disclosure/elections?village={QIANJIANG}").text
    assert rows(settings, "SELECT count(*) FROM election_candidates")[0][0] == 2


def test_the_publicity_leaves_the_front_list_when_its_period_ends(client, clock):
    login(client, STAFF)
    detail = _publish(client, ELECTION).headers["location"]
    client.cookies.clear()
    clock.now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 23:00 on the last day in Beihai
    assert "第十二届" in client.get("/disclosure/elections").text
    clock.now = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # midnight: the 27th
    assert "第十二届" not in client.get("/disclosure/elections").text
    assert "第十二届" in client.get("/disclosure/elections?archive=1").text
    page = client.get(detail).text
    assert "公示期已结束" in page and "/feedback/new" not in page


def test_bad_rows_are_named_and_the_form_keeps_everything(client, settings):
    login(client, STAFF)
    data = {**ELECTION, "name_2": "4505211952", "role_2": "委员", "ends_on": "2026-11-01"}
    response = _publish(client, data)
    assert response.status_code == 400
    assert "第 3 行：请填写候选人姓名" in response.text
    assert "公示结束日期不能早于开始日期" in response.text
    assert 'value="黄建国"' in response.text
    assert rows(settings, "SELECT count(*) FROM elections")[0][0] == 0
