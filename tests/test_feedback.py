"""我有话说 at the edge: raised without an account, routed, answered, public and masked, rated,
reopened once; staff handle and publish, supervisors urge."""

from __future__ import annotations

import re

from edge.audit.verify import verify_chain
from edge.kernel.db import connect_sync
from tests.conftest import QIANJIANG, STAFF, csrf_of, login
from tests.feedback_support import code_of, item_of, raise_item, rows
from tests.intake_support import photo

SUPERVISOR = "13807710003"
PHONE = "13977123456"
ID_NUMBER = "450521199001011234"
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _staff_post(client, path: str, data: dict) -> object:
    page = client.get(path.rsplit("/", 1)[0])
    token = csrf_of(page.text)
    key = KEY.search(page.text).group(1)
    return client.post(
        path,
        data={"csrf_token": token, "idempotency_key": key, **data},
        follow_redirects=False,
    )


def test_a_resident_raises_an_item_without_an_account_and_gets_a_code_and_an_sms(client, settings):
    page = client.get("/feedback/new")
    assert page.status_code == 200
    assert 'name="csrf_token"' not in page.text  # anonymous form: no per-visitor token
    answer = raise_item(client, name="张三丰", phone="139 7712 3456", kind="help")
    assert answer.status_code == 303
    code = code_of(answer)
    item = item_of(settings.database_path, code)
    assert (item["state"], item["kind"], item["department_code"]) == (
        "accepted",
        "help",
        "township",
    )
    assert item["author_phone"] == PHONE
    # help requests are answered within 5 working days (Mon 2026-11-23 -> Mon 11-30)
    assert item["due_on"] == "2026-11-30"
    sms = rows(settings.database_path, "SELECT phone, body FROM sms_outbox")
    assert [s["phone"] for s in sms] == [PHONE]
    assert "求助已受理" in sms[0]["body"] and len(sms[0]["body"]) <= 70
    mine = client.get(f"/feedback/track/{code}")
    assert mine.status_code == 200
    assert "139****3456" in mine.text and "受理" in mine.text


def test_bad_input_is_refused_with_a_message_and_nothing_is_lost(client, settings):
    answer = raise_item(client, body="路灯", phone="12345", name="张三")
    assert answer.status_code == 400
    assert "至少5个字" in answer.text
    assert "手机号码应为11位数字" in answer.text
    assert 'value="张三"' in answer.text
    assert rows(settings.database_path, "SELECT * FROM feedback") == []


def test_a_resent_form_gives_the_first_item_back(client, settings):
    first = raise_item(client, phone=PHONE)
    again = raise_item(client, phone=PHONE)
    assert code_of(first) == code_of(again)
    assert len(rows(settings.database_path, "SELECT * FROM feedback")) == 1
    assert len(rows(settings.database_path, "SELECT * FROM sms_outbox")) == 1


def test_the_public_list_masks_the_author_and_any_phone_or_id_number(client, settings):
    body = f"我叫王五，电话{PHONE}，身份证{ID_NUMBER}，低保一直没发。"
    code = code_of(raise_item(client, name="王五", body=body, phone=PHONE))
    item = item_of(settings.database_path, code)
    for path in ("/feedback", f"/feedback/{item['id']}", f"/feedback?village={QIANJIANG}"):
        page = client.get(path)
        assert page.status_code == 200
        assert PHONE not in page.text and ID_NUMBER not in page.text
        assert "王*" in page.text
        assert "139****3456" in page.text


def test_a_private_item_shows_only_to_its_author_and_staff(client, settings):
    code = code_of(raise_item(client, private="1", body="邻居家的狗经常咬人，想私下反映。"))
    item = item_of(settings.database_path, code)
    assert "邻居家的狗" not in client.get("/feedback").text
    assert client.get(f"/feedback/{item['id']}").status_code == 404
    assert "邻居家的狗" in client.get(f"/feedback/track/{code}").text
    login(client, STAFF)
    assert "邻居家的狗" in client.get(f"/staff/feedback/{item['id']}").text


def test_an_item_for_a_county_department_is_transferred_and_not_answered_here(client, settings):
    code = code_of(raise_item(client, category="assistance", body="我家低保停发了三个月。"))
    item = item_of(settings.database_path, code)
    assert (item["state"], item["level"], item["department_code"]) == (
        "transferred",
        "county",
        "civil",
    )
    login(client, STAFF)
    page = client.get(f"/staff/feedback/{item['id']}")
    assert f"/staff/feedback/{item['id']}/act" not in page.text


def test_staff_answer_the_resident_is_texted_rates_and_may_reopen_once(client, settings):
    code = code_of(raise_item(client, phone=PHONE, name="李四"))
    item_id = item_of(settings.database_path, code)["id"]
    login(client, STAFF)
    assert item_id in client.get("/staff/feedback").text
    path = f"/staff/feedback/{item_id}/act"
    assert _staff_post(client, path, {"action": "handling"}).status_code == 303
    refused = _staff_post(client, path, {"action": "answered", "note": ""})
    assert refused.status_code == 400 and "请填写答复内容" in refused.text
    answered = _staff_post(
        client, path, {"action": "answered", "note": "已安排电工11月25日前修好路灯。"}
    )
    assert answered.status_code == 303
    assert item_of(settings.database_path, code)["state"] == "answered"
    texts = [r["body"] for r in rows(settings.database_path, "SELECT body FROM sms_outbox")]
    assert any("已答复" in t for t in texts)
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/staff/feedback").text)})
    public = client.get(f"/feedback/{item_id}")
    assert "已安排电工" in public.text and "官方答复" in public.text
    mine = f"/feedback/track/{code}"
    client.get(mine)
    wrong = client.post(f"{mine}/rate", data={"rating": "dissatisfied", "last4": "0000"})
    assert wrong.status_code == 400 and "后四位不对" in wrong.text
    rated = client.post(
        f"{mine}/rate", data={"rating": "dissatisfied", "last4": "3456"}, follow_redirects=False
    )
    assert rated.status_code == 303
    assert item_of(settings.database_path, code)["rating_level"] == 4  # 不满意 (levels.py)
    again = client.post(
        f"{mine}/reopen",
        data={"reason": "路灯还是不亮。", "last4": "3456"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    reopened = item_of(settings.database_path, code)
    assert (reopened["state"], reopened["reopened"]) == ("handling", 1)
    assert reopened["due_on"] > item_of(settings.database_path, code)["received_on"]
    twice = client.post(f"{mine}/reopen", data={"reason": "还是不行。", "last4": "3456"})
    assert twice.status_code == 400


def test_staff_hide_the_name_and_the_photo_before_publishing_the_original_is_kept(client, settings):
    files = {"photo": ("p.jpg", photo(), "image/jpeg")}
    code = code_of(raise_item(client, name="赵六", body="垃圾堆在河边，臭气熏天。", files=files))
    item = item_of(settings.database_path, code)
    assert item["photo_sha256"]
    assert client.get(f"/feedback/{item['id']}/photo").status_code == 200
    login(client, STAFF)
    saved = _staff_post(
        client,
        f"/staff/feedback/{item['id']}/public",
        {"public_body": "河边有垃圾堆放。", "name_hidden": "1", "photo_hidden": "1"},
    )
    assert saved.status_code == 303
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/staff/feedback").text)})
    public = client.get(f"/feedback/{item['id']}")
    assert "河边有垃圾堆放" in public.text and "臭气熏天" not in public.text
    assert "赵*" not in public.text and "匿名" in public.text
    assert client.get(f"/feedback/{item['id']}/photo").status_code == 404
    assert item_of(settings.database_path, code)["body"] == "垃圾堆在河边，臭气熏天。"
    audit = rows(settings.database_path, "SELECT action FROM audit_log")
    assert "feedback_public" in [a["action"] for a in audit]
    with connect_sync(settings.database_path) as conn:
        assert verify_chain(conn) == []


def test_a_supervisor_urges_and_the_staff_are_texted(client, settings):
    code = code_of(raise_item(client))
    item_id = item_of(settings.database_path, code)["id"]
    login(client, SUPERVISOR)
    assert _staff_post(client, f"/staff/feedback/{item_id}/urge", {}).status_code == 303
    texts = rows(settings.database_path, "SELECT phone, body FROM sms_outbox")
    assert (STAFF, texts[0]["body"]) == (texts[0]["phone"], texts[0]["body"])
    assert "催办" in texts[0]["body"]
    assert item_of(settings.database_path, code)["urge_count"] == 1


def test_an_address_that_floods_the_form_is_told_to_wait(client, settings):
    for n in range(10):
        assert raise_item(client, body=f"第{n}条：村里的水管又漏水了。").status_code == 303
    flood = raise_item(client, body="第十一条：村里的水管又漏水了。")
    assert flood.status_code == 429 and "一小时后" in flood.text
    assert flood.headers["Retry-After"] == "3600"


def test_the_staff_list_shows_cards_from_the_working_day_clock(client, clock, settings):
    raise_item(client, kind="consultation", body="请问新农合今年交多少钱？")
    login(client, STAFF)
    assert "黄牌" not in client.get("/staff/feedback").text
    clock.advance(days=2)  # Wed: due Thu (3 working days from Mon) -> yellow
    login(client, STAFF)
    assert "黄牌" in client.get("/staff/feedback").text
    clock.advance(days=2)  # Fri: overdue -> red
    login(client, STAFF)
    assert "红牌" in client.get("/staff/feedback").text


def test_an_sms_starting_with_a_kind_word_becomes_an_item_of_the_named_village(client, settings):
    from tests.sms_inbound import deliver

    answer = deliver(client, PHONE, "投诉：乾江村的垃圾站好久没人清运了", id="gw-fb-1")
    assert answer.status_code == 200
    deliver(client, PHONE, "投诉：乾江村的垃圾站好久没人清运了", id="gw-fb-1")  # a repeat
    items = rows(settings.database_path, "SELECT * FROM feedback")
    assert len(items) == 1
    item = items[0]
    assert (item["channel"], item["kind"], item["village_code"]) == ("sms", "complaint", QIANJIANG)
    assert item["body"] == "乾江村的垃圾站好久没人清运了"
    reply = rows(settings.database_path, "SELECT body FROM sms_outbox WHERE phone = ?", PHONE)
    assert len(reply) == 1  # the reply is the acknowledgement: no second SMS
    assert "查询码" in reply[0]["body"] and len(reply[0]["body"]) <= 70
    code = item["tracking_code"]
    assert f"{code[:4]}-{code[4:8]}-{code[8:]}" in reply[0]["body"]
    assert "垃圾站" in client.get(f"/feedback/{item['id']}").text
    deliver(client, PHONE, "你好")  # not a message for 我有话说: the node's help reply
    assert len(rows(settings.database_path, "SELECT * FROM feedback")) == 1


def test_an_agent_raises_an_item_for_a_resident_of_their_village_once(client, settings):
    from tests.conftest import AGENT_QIANJIANG

    login(client, AGENT_QIANJIANG)
    assert "/agent/feedback/new" in client.get("/agent/").text
    page = client.get("/agent/feedback/new")
    data = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY.search(page.text).group(1),
        "village": "450521100202",  # another village: ignored, the agent raises for theirs
        "kind": "help",
        "category": "water_power",
        "body": "五保户韦大爷家的电线老化，想请人来看看。",
        "phone": "",
    }
    first = client.post("/agent/feedback/new", data=data, follow_redirects=False)
    again = client.post("/agent/feedback/new", data=data, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == again.headers["location"]
    items = rows(settings.database_path, "SELECT * FROM feedback")
    assert len(items) == 1
    assert (items[0]["channel"], items[0]["village_code"]) == ("agent", QIANJIANG)
    assert items[0]["agent_id"] is not None


def test_the_scan_texts_staff_on_each_card_and_escalates_an_item_red_for_three_days(
    client, settings, clock
):
    import asyncio

    from edge.feedback.jobs import feedback_scan

    code = code_of(raise_item(client, kind="consultation", body="请问新农合今年交多少钱？"))
    scan = lambda: asyncio.run(feedback_scan(settings, clock.now))  # noqa: E731
    assert scan() == 0  # Mon, due Thu: green
    clock.advance(days=2)  # Wed: yellow
    assert scan() == 1 and scan() == 0  # once per card
    clock.advance(days=2)  # Fri: red
    assert scan() == 1
    assert item_of(settings.database_path, code)["escalated_at"] is None
    clock.advance(days=4)  # Tue: red for 3 working days (Fri, Mon, Tue)
    assert scan() == 1  # the supervisor
    item = item_of(settings.database_path, code)
    assert item["escalated_at"] is not None
    texts = rows(settings.database_path, "SELECT phone, body FROM sms_outbox ORDER BY created_at")
    assert [t["phone"] for t in texts] == [STAFF, STAFF, SUPERVISOR]
    assert "黄牌" in texts[0]["body"] and "红牌" in texts[2]["body"]
    login(client, SUPERVISOR)
    assert "已上报" in client.get("/staff/feedback").text


def test_the_dashboard_interface_gives_cards_and_counts_per_unit(client, settings, clock):
    import asyncio
    from datetime import date

    from edge.feedback import queries
    from edge.feedback.cards import open_cards
    from edge.kernel.db import Database

    raise_item(client, kind="consultation", body="请问新农合今年交多少钱？")
    raise_item(client, category="assistance", body="我家低保停发了三个月。")

    async def read(today: date) -> tuple[list, list]:
        db = Database(settings.database_path)
        await db.open()
        try:
            async with db.read() as conn:
                cards = await open_cards(conn, today, "450521100")
                counts = await queries.counts(conn, "450521100", "2026-11-01", "2026-12-01")
                return cards, counts
        finally:
            await db.close()

    cards, counts = asyncio.run(read(date(2026, 11, 27)))  # Fri: the consultation is red
    assert [(c.kind, c.card) for c in cards] == [("consultation", "red")]
    assert {(c["department_code"], c["state"], c["items"]) for c in counts} == {
        ("township", "accepted", 1),
        ("civil", "transferred", 1),
    }
    assert asyncio.run(read(date(2026, 11, 27)))[0][0].days_overdue == 1
    assert asyncio.run(read(date(2026, 11, 23)))[0] == []
