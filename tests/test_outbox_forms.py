"""The node's side of the agent app's outbox for 村务公开, 我有话说 and market listings: a form
kept on the device is sent in JSON with its photos sent ahead by hash; the same key gives the
same answer and no second row, even days later; what does not pass comes back by field."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from typing import Any

from tests.conftest import AGENT_HUANZHU, AGENT_QIANJIANG, QIANJIANG, login
from tests.intake_support import photo, rows
from tests.market_support import register_seller
from tests.test_affairs import FINANCE

JSON = {"Accept": "application/json"}


def _csrf(client: Any) -> str:
    return client.get("/agent/outbox/session", headers=JSON).json()["csrf"]


def _sent_ahead(client: Any, csrf: str, *colours: tuple[int, int, int]) -> list[str]:
    """Photos PUT as the outbox does, by the sha256 of their bytes; their tokens."""
    tokens = []
    for colour in colours:
        data = photo(colour, (1200, 900))
        sha = hashlib.sha256(data).hexdigest()
        headers = {**JSON, "Content-Type": "image/jpeg", "X-CSRF-Token": csrf}
        answer = client.put(f"/agent/outbox/photos/{sha}", content=data, headers=headers)
        assert answer.status_code == 200, answer.text
        tokens.append(answer.json()["token"])
    return tokens


def _send(client: Any, path: str, fields: dict[str, str], key: str) -> Any:
    """One sending of a kept form, as static/js/outbox.js posts it."""
    data = {**fields, "csrf_token": _csrf(client), "idempotency_key": key}
    return client.post(path, data=data, headers=JSON, follow_redirects=False)


def _count(settings: Any, sql: str, *params: Any) -> int:
    return int(rows(settings, sql, *params)[0][0])


# --- 村务公开 ---------------------------------------------------------------------------------


def test_a_kept_disclosure_lands_once_and_its_resend_gets_the_same_answer(client, settings, clock):
    login(client, AGENT_QIANJIANG)
    key = str(uuid.uuid4())
    first = _send(client, "/agent/affairs/new", FINANCE, key)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    shown = first.json()["url"]
    assert shown.startswith("/disclosure/affairs/")
    clock.advance(days=3)  # the answer was lost; the device sends again days later
    login(client, AGENT_QIANJIANG)  # in a new session
    again = _send(client, "/agent/affairs/new", FINANCE, key)
    assert again.status_code == 200 and again.json()["url"] == shown
    assert _count(settings, "SELECT count(*) FROM affairs") == 1
    assert _count(settings, "SELECT count(*) FROM affairs WHERE status = 'pending'") == 1
    assert "乾江村 2026年10月 财务收支公开" in client.get(shown).text


def test_a_disclosure_that_does_not_add_up_comes_back_by_field(client, settings):
    login(client, AGENT_QIANJIANG)
    wrong = {**FINANCE, "spending_total": "5234.52"}
    answer = _send(client, "/agent/affairs/new", wrong, str(uuid.uuid4()))
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert "各行加起来是 5,234.25 元" in errors["spending_total"]
    assert _count(settings, "SELECT count(*) FROM affairs") == 0


def test_a_draft_kept_offline_stays_a_draft(client, settings):
    login(client, AGENT_QIANJIANG)
    answer = _send(client, "/agent/affairs/new", {**FINANCE, "save": "draft"}, str(uuid.uuid4()))
    assert answer.status_code == 200
    assert _count(settings, "SELECT count(*) FROM affairs WHERE status = 'draft'") == 1


# --- 我有话说 ---------------------------------------------------------------------------------

FEEDBACK = {
    "kind": "help",
    "category": "water_power",
    "body": "五保户韦大爷家的电线老化，想请人来看看。",
    "name": "韦大爷",
    "phone": "",
}


def test_a_kept_feedback_item_lands_once_with_its_photo_even_the_next_day(client, settings, clock):
    login(client, AGENT_QIANJIANG)
    [token] = _sent_ahead(client, _csrf(client), (30, 90, 160))
    key = str(uuid.uuid4())
    first = _send(client, "/agent/feedback/new", {**FEEDBACK, "kept_photo": token}, key)
    assert first.status_code == 200, first.text
    code = first.json()["tracking_code"]
    assert first.json()["url"] == f"/feedback/track/{code}"
    clock.advance(days=1)  # sent again after midnight: still the same item
    login(client, AGENT_QIANJIANG)
    again = _send(client, "/agent/feedback/new", {**FEEDBACK, "kept_photo": token}, key)
    assert again.status_code == 200 and again.json()["tracking_code"] == code
    [item] = rows(settings, "SELECT * FROM feedback")
    assert (item["channel"], item["village_code"]) == ("agent", QIANJIANG)
    assert item["photo_sha256"] == token.split(":")[0]
    raised = "SELECT count(*) FROM audit_log WHERE action = 'feedback_raised'"
    assert _count(settings, raised) == 1  # the resend is not audited twice


def test_feedback_without_a_body_comes_back_and_another_agents_photo_is_not_attached(
    client, settings
):
    login(client, AGENT_HUANZHU)
    [theirs] = _sent_ahead(client, _csrf(client), (160, 30, 90))
    login(client, AGENT_QIANJIANG)
    fields = {**FEEDBACK, "body": "", "kept_photo": theirs}
    answer = _send(client, "/agent/feedback/new", fields, str(uuid.uuid4()))
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert errors["body"] and errors["photo"] == "照片没有收到，请重新选择照片。"
    assert _count(settings, "SELECT count(*) FROM feedback") == 0


# --- 我的集市 ---------------------------------------------------------------------------------

LISTING = {
    "side": "supply",
    "category": "livestock",
    "product": "黑山羊",
    "variety": "努比亚",
    "quantity": "20",
    "unit": "head",
    "price": "1800",
    "delivery_note": "村口自提",
    "description": "放山散养",
}


def test_a_kept_listing_lands_once_with_its_three_photos_and_one_sms(client, settings):
    seller = register_seller(client)
    tokens = _sent_ahead(client, _csrf(client), (200, 40, 40), (40, 200, 40), (40, 40, 200))
    kept = {f"kept_photos_{n}": token for n, token in enumerate(tokens, start=1)}
    path = f"/agent/market/sellers/{seller}/listings/new"
    key = str(uuid.uuid4())
    first = _send(client, path, {**LISTING, **kept}, key)
    assert first.status_code == 200, first.text
    shown = first.json()["url"]
    again = _send(client, path, {**LISTING, **kept}, key)
    assert again.status_code == 200 and again.json()["url"] == shown
    [listing] = rows(settings, "SELECT id, product FROM market_listings")
    assert shown == f"/agent/market/listings/{listing['id']}" and listing["product"] == "黑山羊"
    stored = rows(
        settings,
        "SELECT sha256 FROM market_photos WHERE listing_id = ? ORDER BY position",
        listing["id"],
    )
    assert [row["sha256"] for row in stored] == [token.split(":")[0] for token in tokens]
    posted = "SELECT count(*) FROM sms_outbox WHERE dedupe_key LIKE 'market-posted:%'"
    assert _count(settings, posted) == 1
    assert client.get(f"/market/{listing['id']}/photos/3").status_code == 200


def test_a_listing_with_a_bad_quantity_or_a_suspended_seller_comes_back_with_a_reason(
    client, settings
):
    seller = register_seller(client)
    path = f"/agent/market/sellers/{seller}/listings/new"
    answer = _send(client, path, {**LISTING, "quantity": "很多"}, str(uuid.uuid4()))
    assert answer.status_code == 400 and answer.json()["errors"]["quantity"]
    with_stranger = {**LISTING, "kept_photos_1": "0" * 64 + ":" + "1" * 64 + ":8:8:image/jpeg:x"}
    answer = _send(client, path, with_stranger, str(uuid.uuid4()))
    assert answer.status_code == 400 and answer.json()["errors"]["photos"]
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute("UPDATE market_sellers SET suspended_at = '2026-11-20T00:00:00Z'")
    answer = _send(client, path, LISTING, str(uuid.uuid4()))
    assert answer.status_code == 400
    assert answer.json()["error"] == "这位卖家因多次违规已被暂停发布。"
    assert _count(settings, "SELECT count(*) FROM market_listings") == 0


def test_the_three_forms_are_kept_for_offline_use(client):
    login(client, AGENT_QIANJIANG)
    shell = client.get("/sw.js").text
    for path in ("/agent/affairs/new", "/agent/feedback/new", "/agent/market"):
        assert f'"{path}"' in shell
    assert "/agent/market/sellers/[^/]+/listings/new" in shell
    seller = register_seller(client)
    listing_form = f"/agent/market/sellers/{seller}/listings/new"
    for path in ("/agent/affairs/new", "/agent/feedback/new", listing_form):
        page = client.get(path).text
        assert "data-outbox " in page and "js/outbox-form." in page
    assert f'href="{listing_form}" data-keep-offline' in client.get("/agent/market").text
