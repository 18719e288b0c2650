"""Village affairs: an agent posts (a finance table whose totals must add up), the township
reviews, the public sees only what was published; the statutory schedule's yellow and red
cards on the right working day across the National Day holiday and its 调休 Saturday."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.conftest import AGENT_QIANJIANG, HUANZHU, QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import rows as raw_rows

FINANCE = {
    "village": QIANJIANG,
    "kind": "finance",
    "period": "2026-10",
    "title": "乾江村 2026年10月 财务收支公开",
    "body": "",
    "line_dir_0": "income",
    "line_label_0": "集体鱼塘承包费",
    "line_amount_0": "8,600",
    "line_dir_1": "spending",
    "line_label_1": "村道路灯电费",
    "line_amount_1": "734.2",
    "line_dir_2": "spending",
    "line_label_2": "保洁费",
    "line_amount_2": "4500.05元",
    "income_total": "8600.00",
    "spending_total": "5234.25",
    "save": "submit",
}


def _post(client, path: str, data: dict[str, str], form_path: str):
    page = client.get(form_path)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    body = {**data, "csrf_token": csrf_of(page.text), "idempotency_key": key}
    return client.post(path, data=body, follow_redirects=False)


def _submit(client, data: dict[str, str]):
    return _post(client, "/agent/affairs/new", data, "/agent/affairs/new")


def test_a_total_that_does_not_add_up_is_refused_and_nothing_is_lost(client, settings):
    login(client, AGENT_QIANJIANG)
    response = _submit(client, {**FINANCE, "spending_total": "5234.52"})
    assert response.status_code == 400
    assert "支出合计填的是 5,234.52 元，但各行加起来是 5,234.25 元" in response.text
    assert 'value="4500.05元"' in response.text and 'value="集体鱼塘承包费"' in response.text
    assert 'value="5234.52"' in response.text
    assert rows(settings, "SELECT count(*) FROM affairs")[0][0] == 0


def test_a_bad_amount_names_its_row(client):
    login(client, AGENT_QIANJIANG)
    response = _submit(client, {**FINANCE, "line_amount_1": "73.421"})
    assert response.status_code == 400
    assert "第 2 行：金额请写成元，最多两位小数" in response.text


def test_posted_reviewed_published_with_the_table_in_fen(client, settings):
    login(client, AGENT_QIANJIANG)
    response = _submit(client, FINANCE)
    assert response.status_code == 303
    affair_id = response.headers["location"].rsplit("/", 1)[1]
    assert rows(settings, "SELECT status, income_total_fen, spending_total_fen FROM affairs") == [
        ("pending", 860000, 523425)
    ]
    assert rows(settings, "SELECT direction, amount_fen FROM affair_lines ORDER BY position") == [
        ("income", 860000),
        ("spending", 73420),
        ("spending", 450005),
    ]
    client.cookies.clear()
    assert client.get(f"/disclosure/affairs/{affair_id}").status_code == 404
    assert "财务收支公开" not in client.get(f"/disclosure/affairs?village={QIANJIANG}").text

    login(client, STAFF)
    queue = client.get("/staff/affairs")
    assert "乾江村 2026年10月 财务收支公开" in queue.text
    form = f"/disclosure/affairs/{affair_id}"
    missing = _post(client, f"/staff/affairs/{affair_id}/review", {"action": "return"}, form)
    assert missing.status_code == 400 and "退回时请写明原因" in missing.text
    approved = _post(client, f"/staff/affairs/{affair_id}/review", {"action": "approve"}, form)
    assert approved.status_code == 303
    assert rows(settings, "SELECT status FROM affairs") == [("published",)]
    actions = [r[0] for r in rows(settings, "SELECT action FROM audit_log ORDER BY seq")]
    assert "affair_pending" in actions and "affair_published" in actions

    client.cookies.clear()
    page = client.get(f"/disclosure/affairs/{affair_id}")
    assert page.status_code == 200
    assert "8,600.00" in page.text and "5,234.25" in page.text and "3,365.75" in page.text
    assert (
        "乾江村 2026年10月 财务收支公开"
        in client.get(f"/disclosure/affairs?village={QIANJIANG}").text
    )
    assert "财务收支公开" not in client.get(f"/disclosure/affairs?village={HUANZHU}").text


def test_returned_with_a_reason_the_author_sees_and_can_resubmit(client, settings):
    login(client, AGENT_QIANJIANG)
    affair_id = _submit(client, FINANCE).headers["location"].rsplit("/", 1)[1]
    login(client, STAFF)
    form = f"/disclosure/affairs/{affair_id}"
    data = {"action": "return", "reason": "请补充路灯电费的发票号"}
    assert _post(client, f"/staff/affairs/{affair_id}/review", data, form).status_code == 303
    login(client, AGENT_QIANJIANG)
    mine = client.get("/agent/affairs")
    assert "已退回：请补充路灯电费的发票号" in mine.text
    again = client.get(f"/agent/affairs/new?from={affair_id}")
    assert 'value="村道路灯电费"' in again.text and 'value="734.20"' in again.text


def test_a_draft_waits_until_its_author_submits_it(client, settings):
    login(client, AGENT_QIANJIANG)
    affair_id = _submit(client, {**FINANCE, "save": "draft"}).headers["location"].rsplit("/")[-1]
    assert rows(settings, "SELECT status FROM affairs") == [("draft",)]
    form = f"/disclosure/affairs/{affair_id}"
    assert _post(client, f"/agent/affairs/{affair_id}/submit", {}, form).status_code == 303
    assert rows(settings, "SELECT status FROM affairs") == [("pending",)]


def test_an_agent_cannot_post_for_another_village(client, settings):
    login(client, AGENT_QIANJIANG)
    response = _submit(client, {**FINANCE, "village": HUANZHU})
    assert response.status_code == 400 and "请选择村（社区）" in response.text
    assert rows(settings, "SELECT count(*) FROM affairs")[0][0] == 0


def rows(settings, sql: str) -> list[tuple]:
    return [tuple(row) for row in raw_rows(settings, sql)]


CARD = re.compile(
    r'<li class="card-(\w+)">[^<]*<span[^>]*>[^<]*</span>\s*乾江村 · 财务公开 2026-09'
)


def _september_card(client, clock, day: int) -> str | None:
    clock.now = datetime(2026, 10, day, 2, 0, tzinfo=UTC)  # 10:00 in Beihai
    found = CARD.search(client.get(f"/disclosure/affairs?village={QIANJIANG}").text)
    return found.group(1) if found else None


def test_the_september_finance_table_turns_yellow_then_red_on_the_right_working_day(client, clock):
    # September ends on Wednesday 30th; 1-7 October is the National Day holiday and Saturday
    # 10 October a make-up working day, so the 10th working day after is Tuesday 20 October
    # (Monday to Friday alone would make it the 14th; without the make-up day, the 21st).
    assert _september_card(client, clock, 14) is None
    assert _september_card(client, clock, 15) == "yellow"  # 3 working days left
    assert _september_card(client, clock, 20) == "yellow"  # due today
    assert _september_card(client, clock, 21) == "red"


def test_a_published_table_clears_its_card_and_the_schedule_reaches_the_reviewer(
    client, clock, settings
):
    clock.now = datetime(2026, 10, 21, 2, 0, tzinfo=UTC)
    login(client, STAFF)
    queue = client.get("/staff/affairs").text
    assert "红牌：已超期" in queue and "平田村 · 财务公开 2026-09" in queue
    login(client, AGENT_QIANJIANG)
    affair_id = _submit(client, {**FINANCE, "period": "2026-09"}).headers["location"]
    login(client, STAFF)
    affair_id = affair_id.rsplit("/", 1)[1]
    form = f"/disclosure/affairs/{affair_id}"
    _post(client, f"/staff/affairs/{affair_id}/review", {"action": "approve"}, form)
    client.cookies.clear()
    assert _september_card(client, clock, 21) is None
