"""我的集市 at the edge (issue 15): only sellers an agent checked can post; the public pages show
them masked; buyers' contacts text the seller once, limited; reports and staff hide/restore;
the management link from the seller's SMS; expiry reminders and renewal by SMS reply."""

from __future__ import annotations

import sqlite3

from edge.kernel.db import Database
from edge.market.jobs import remind
from tests.conftest import ADMIN, AGENT_HUANZHU, STAFF, csrf_of, login
from tests.intake_support import resident_id, rows
from tests.market_support import (
    SELLER_NAME,
    SELLER_PHONE,
    form_of,
    manage_token,
    post_listing,
    register_seller,
)
from tests.sms_inbound import deliver

BUYER = "13612345678"


def _sms(settings, template: str) -> list:
    return rows(settings, "SELECT phone, body FROM sms_outbox WHERE template = ?", template)


def test_a_seller_is_checked_by_id_before_anything_is_posted(client, settings):
    login(client, "13807710011")
    data = {
        "kind": "person",
        "name": SELLER_NAME,
        "id_number": "450521197001014561",  # wrong check digit
        "phone": SELLER_PHONE,
        "village_code": "450521100201",
        "farms_here": "yes",
    } | form_of(client, "/agent/market/sellers/new")
    refused = client.post("/agent/market/sellers/new", data=data)
    assert refused.status_code == 400
    assert "身份证" in refused.text and "请当面核对身份证原件后再勾选" in refused.text
    assert SELLER_PHONE in refused.text  # what was typed is kept
    assert rows(settings, "SELECT count(*) FROM market_sellers")[0][0] == 0
    # there is no way to post without a checked seller
    assert (
        client.get("/agent/market/sellers/01JZZZZZZZZZZZZZZZZZZZZZZZ/listings/new").status_code
        == 404
    )


def test_an_agent_posts_and_the_seller_is_texted_a_management_link(client, settings):
    seller_id = register_seller(client)
    audit = rows(settings, "SELECT action, result FROM audit_log WHERE action LIKE 'market_%'")
    assert audit[0]["action"] == "market_seller_checked"
    assert resident_id(birth="19700101", serial="456") not in audit[0]["result"]
    listing_id = post_listing(client, seller_id)
    posted = _sms(settings, "market_posted")
    assert posted[0]["phone"] == SELLER_PHONE and "/market/m/" in posted[0]["body"]
    row = rows(settings, "SELECT * FROM market_listings WHERE id = ?", listing_id)[0]
    assert row["state"] == "active" and row["price_fen"] == 180_000
    assert row["available_until"] == "2026-12-23"  # 30 days by default
    assert manage_token(settings, listing_id) not in row["manage_token_hash"]


def test_the_same_post_sent_twice_is_one_listing(client, settings):
    seller_id = register_seller(client)
    path = f"/agent/market/sellers/{seller_id}/listings/new"
    data = {
        "side": "supply",
        "category": "vegetables",
        "product": "豆角",
        "quantity": "500",
        "unit": "jin",
        "negotiable": "yes",
    } | form_of(client, path)
    first = client.post(path, data=data, follow_redirects=False)
    again = client.post(path, data=data, follow_redirects=False)
    assert first.headers["location"] == again.headers["location"]
    assert rows(settings, "SELECT count(*) FROM market_listings")[0][0] == 1
    assert len(_sms(settings, "market_posted")) == 1


def test_bad_listing_input_is_named_and_kept(client, settings):
    seller_id = register_seller(client)
    path = f"/agent/market/sellers/{seller_id}/listings/new"
    data = {
        "category": "livestock",
        "product": "黑山羊",
        "quantity": "abc",
        "unit": "head",
        "price": "12.345",
        "available_until": "2027-06-01",
    } | form_of(client, path)
    answer = client.post(path, data=data)
    assert answer.status_code == 400
    assert "请填写数量" in answer.text and "最多两位小数" in answer.text
    assert "最长挂 90 天" in answer.text and 'value="黑山羊"' in answer.text


def test_a_resident_or_another_village_cannot_post(client, settings):
    seller_id = register_seller(client)
    client.get("/logout")
    login(client, AGENT_HUANZHU)
    assert client.get(f"/agent/market/sellers/{seller_id}").status_code == 404
    client.cookies.clear()
    signed_out = client.get(
        f"/agent/market/sellers/{seller_id}/listings/new", follow_redirects=False
    )
    assert signed_out.status_code in (302, 303, 401)
    login(client, "13807710021")  # the demo resident
    assert client.get(f"/agent/market/sellers/{seller_id}/listings/new").status_code == 403


def test_the_public_pages_show_the_seller_masked(client, settings):
    seller_id = register_seller(client)
    listing_id = post_listing(client, seller_id, description="电话13907710088随时联系")
    client.cookies.clear()
    search = client.get("/market", params={"q": "山羊"})
    page = client.get(f"/market/{listing_id}")
    card = client.get(f"/market/{listing_id}/card")
    for answer in (search, page, card):
        assert answer.status_code == 200
        assert "韦**" in answer.text and "乾江村" in answer.text
        assert SELLER_NAME not in answer.text and SELLER_PHONE not in answer.text
        assert "19700101" not in answer.text
    assert "139****0088" in page.text  # free text is masked too
    assert "<svg" in card.text  # the QR code


def test_search_finds_by_short_and_long_words_and_filters(client, settings):
    seller_id = register_seller(client)
    post_listing(client, seller_id)
    post_listing(
        client,
        seller_id,
        category="vegetables",
        product="豆角",
        variety="长豆角",
        unit="jin",
        price="3.5",
        quantity="800",
    )
    post_listing(client, seller_id, category="processed", product="豆腐", unit="jin", price="4")
    client.cookies.clear()

    def found(**params: str) -> set[str]:
        text = client.get("/market", params=params, headers={"HX-Request": "true"}).text
        return {p for p in ("黑山羊", "长豆角", "豆腐") if p in text}

    assert found(q="豆角") == {"长豆角"}
    assert found(q="黑山羊") == {"黑山羊"}
    assert found(q="豆") == {"长豆角", "豆腐"}
    assert found(category="livestock") == {"黑山羊"}
    assert found(max_price="5") == {"长豆角", "豆腐"}
    assert found(q="豆", min_price="3.9") == {"豆腐"}
    assert found(side="demand") == set()
    assert found(q="哈密瓜") == set()
    fragment = client.get("/market", params={"q": "豆角"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "长豆角" in fragment.text


def test_a_contact_texts_the_seller_once_and_counts_this_week(client, settings):
    seller_id = register_seller(client)
    listing_id = post_listing(client, seller_id)
    client.cookies.clear()
    client.get(f"/market/{listing_id}")  # the visitor cookie
    data = {"phone": "136 1234 5678", "message": "要10头，能送到镇上吗"}
    first = client.post(f"/market/{listing_id}/contact", data=data)
    again = client.post(f"/market/{listing_id}/contact", data=data)
    assert first.status_code == again.status_code == 200
    assert "已发短信告诉卖家" in first.text
    sent = _sms(settings, "market_contact")
    assert len(sent) == 1 and sent[0]["phone"] == SELLER_PHONE
    assert BUYER in sent[0]["body"] and "要10头" in sent[0]["body"] and len(sent[0]["body"]) <= 70
    assert "1 位买家" in client.get(f"/market/{listing_id}").text
    audit = rows(settings, "SELECT result FROM audit_log WHERE action = 'market_contact'")
    assert [a["result"] for a in audit] == ["edge:136****5678"]


def test_a_bad_number_is_named_and_contacts_are_limited(client, settings):
    seller_id = register_seller(client)
    listing_id = post_listing(client, seller_id)
    client.cookies.clear()
    client.get(f"/market/{listing_id}")
    bad = client.post(f"/market/{listing_id}/contact", data={"phone": "12345", "message": "在吗"})
    assert bad.status_code == 400 and "11位手机号码" in bad.text and "在吗" in bad.text
    for n in range(10):
        ok = client.post(
            f"/market/{listing_id}/contact", data={"phone": BUYER, "message": f"第{n}次"}
        )
        assert ok.status_code == 200
    limited = client.post(f"/market/{listing_id}/contact", data={"phone": BUYER, "message": "再问"})
    assert limited.status_code == 429 and "明天再试" in limited.text
    assert len(_sms(settings, "market_contact")) == 10
    refused = rows(settings, "SELECT count(*) FROM audit_log WHERE result = 'refused:rate_limit'")
    assert refused[0][0] == 1


def test_a_report_is_reviewed_and_hidden_then_restored(client, settings):
    seller_id = register_seller(client)
    listing_id = post_listing(client, seller_id)
    client.cookies.clear()
    client.get(f"/market/{listing_id}/report")
    sent = client.post(f"/market/{listing_id}/report", data={"reason": "fraud", "note": "骗定金"})
    assert sent.status_code == 200 and "谢谢" in sent.text
    assert client.post(f"/market/{listing_id}/report", data={"reason": "x"}).status_code == 400
    login(client, STAFF)
    queue = client.get("/staff/market")
    assert "黑山羊" in queue.text and "1 条待处理举报" in queue.text
    review = client.get(f"/staff/market/listings/{listing_id}")
    data = {"csrf_token": csrf_of(review.text), "idempotency_key": "k" * 26, "action": "hide"}
    assert client.post(f"/staff/market/listings/{listing_id}", data=data).status_code == 400
    hidden = client.post(
        f"/staff/market/listings/{listing_id}",
        data=data | {"reason": "核实为诈骗"},
        follow_redirects=False,
    )
    assert hidden.status_code == 303
    assert "黑山羊" not in client.get("/market", headers={"HX-Request": "true"}).text
    assert client.get(f"/market/{listing_id}").status_code == 404
    audit = rows(settings, "SELECT result FROM audit_log WHERE action = 'market_hide'")
    assert audit[0]["result"] == "核实为诈骗"
    restore = {
        "csrf_token": data["csrf_token"],
        "idempotency_key": "r" * 26,
        "action": "restore",
        "reason": "误报",
    }
    client.post(f"/staff/market/listings/{listing_id}", data=restore)
    assert "黑山羊" in client.get("/market", headers={"HX-Request": "true"}).text


def test_a_seller_hidden_three_times_is_suspended(client, settings):
    seller_id = register_seller(client)
    ids = [post_listing(client, seller_id, product=f"黑山羊{n}") for n in range(4)]
    login(client, STAFF)
    for n, listing_id in enumerate(ids[:3]):
        page = client.get(f"/staff/market/listings/{listing_id}")
        client.post(
            f"/staff/market/listings/{listing_id}",
            data={
                "csrf_token": csrf_of(page.text),
                "idempotency_key": f"hide{n}" * 5,
                "action": "hide",
                "reason": "重复刷屏",
            },
        )
    seller = rows(settings, "SELECT * FROM market_sellers WHERE id = ?", seller_id)[0]
    assert seller["suspended_at"] is not None
    assert (
        rows(settings, "SELECT state FROM market_listings WHERE id = ?", ids[3])[0][0] == "hidden"
    )
    login(client, "13807710011")
    assert client.get(f"/agent/market/sellers/{seller_id}/listings/new").status_code == 403


def test_the_management_link_renews_sells_out_and_withdraws(client, settings, clock):
    seller_id = register_seller(client)
    listing_id = post_listing(client, seller_id)
    token = manage_token(settings, listing_id)
    client.cookies.clear()
    assert client.get("/market/m/AAAAAAAAAAAA").status_code == 404
    page = client.get(f"/market/m/{token.lower()}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    client.post(f"/market/m/{token}", data={"action": "renew"})
    until = rows(settings, "SELECT available_until FROM market_listings")[0][0]
    assert until == "2027-01-22"  # 30 days more from the current end (at most 90 from today)
    client.post(f"/market/m/{token}", data={"action": "price", "price": "1700"})
    client.post(f"/market/m/{token}", data={"action": "sold_out"})
    row = rows(settings, "SELECT state, price_fen FROM market_listings")[0]
    assert (row["state"], row["price_fen"]) == ("sold_out", 170_000)
    closed = client.get(f"/market/{listing_id}")
    assert "已售完或已下架" in closed.text and 'name="phone"' not in closed.text
    refused = client.post(f"/market/{listing_id}/contact", data={"phone": BUYER})
    assert refused.status_code == 409


def test_expiry_reminder_once_and_renewal_by_sms_reply(client, settings, clock):
    seller_id = register_seller(client)
    listing_id = post_listing(client, seller_id, available_until="2026-11-30")

    def run_job() -> int:
        import asyncio

        async def go() -> int:
            db = Database(settings.database_path)
            await db.open()
            try:
                async with db.write() as conn:
                    return await remind(conn, clock(), "Asia/Shanghai")
            finally:
                await db.close()

        return asyncio.run(go())

    assert run_job() == 0  # 7 days left
    clock.advance(days=5)  # the worker was stopped for days: the next run catches up
    assert run_job() == 1
    assert run_job() == 0  # queued once
    reminder = _sms(settings, "market_expiring")
    assert reminder[0]["phone"] == SELLER_PHONE and "XQ" in reminder[0]["body"]
    assert deliver(client, "13900000000", "XQ").status_code == 200  # not a seller: not renewed
    answer = deliver(client, SELLER_PHONE, " xq ")
    assert answer.status_code == 200
    until = rows(settings, "SELECT available_until FROM market_listings WHERE id = ?", listing_id)
    assert until[0][0] == "2026-12-30"  # 30 days more from its end (30 Nov)
    reply = rows(
        settings, "SELECT body FROM sms_outbox WHERE template = 'reply' AND phone = ?", SELLER_PHONE
    )
    assert "已续期1条" in reply[0]["body"]
    clock.advance(days=40)
    gone = client.get(f"/market/{listing_id}")
    assert "已过期" in gone.text and 'name="phone"' not in gone.text
    assert "黑山羊" not in client.get("/market", headers={"HX-Request": "true"}).text


def test_the_admin_cannot_moderate(client, settings):
    login(client, ADMIN)
    assert client.get("/staff/market").status_code == 403


def _crawl(client, start: str, pattern: str, limit: int = 200) -> dict[str, str]:
    """Every page reachable from `start` by links matching `pattern`: path -> HTML."""
    import re

    seen: dict[str, str] = {}
    queue = [start]
    while queue and len(seen) < limit:
        path = queue.pop()
        if path in seen:
            continue
        page = client.get(path)
        assert page.status_code == 200, path
        seen[path] = page.text
        for link in re.findall(r'href="([^"#]+)"', page.text):
            link = link.replace("&amp;", "&")
            if link.startswith("?"):
                link = path.split("?")[0] + link
            if re.match(pattern, link) and link not in seen:
                queue.append(link)
    return seen


def test_no_public_market_page_shows_a_sellers_name_phone_or_id(client, settings):
    from tests.test_budgets import _demo_market

    _demo_market(settings)
    seller_id = register_seller(client)
    post_listing(client, seller_id, description="电话13907710088，身份证450521197001014563")
    sellers = rows(settings, "SELECT name, phone, id_number FROM market_sellers")
    secrets = {v for s in sellers for v in (s["name"], s["phone"], s["id_number"])}
    client.cookies.clear()
    pages = _crawl(client, "/market?q=&near=450521100202", r"^/market(\?|/)")
    pages |= _crawl(client, "/market?lang=en", r"^/market(\?|/)")
    assert len([p for p in pages if p.endswith("/card")]) >= 15  # every listing's card
    for path, html in pages.items():
        shown = [value for value in secrets if value in html]
        assert shown == [], (path, shown)


def test_photos_are_reencoded_and_shown_only_on_request(client, settings):
    from tests.intake_support import photo

    seller_id = register_seller(client)
    files = [("photos", (f"goat{n}.jpg", photo((40 * n, 90, 60)), "image/jpeg")) for n in (1, 2)]
    listing_id = post_listing(client, seller_id, files=files)
    stored = rows(settings, "SELECT * FROM market_photos WHERE listing_id = ?", listing_id)
    assert [p["position"] for p in stored] == [1, 2]
    blobs = rows(settings, "SELECT count(*) FROM blobs WHERE sha256 = ?", stored[0]["sha256"])
    assert blobs[0][0] == 1  # due for upload to the store
    client.cookies.clear()
    page = client.get(f"/market/{listing_id}")
    assert "照片1" in page.text and "<img" not in page.text  # no image unless asked
    asked = client.get(f"/market/{listing_id}?photos=1")
    assert asked.text.count("<img") == 2
    saving = client.get(f"/market/{listing_id}?photos=1", headers={"Save-Data": "on"})
    assert "<img" not in saving.text and "照片2" in saving.text
    full = client.get(f"/market/{listing_id}/photos/1")
    thumb = client.get(f"/market/{listing_id}/photos/1/thumb")
    assert full.headers["content-type"] == "image/jpeg" and len(thumb.content) <= 15_000
    assert client.get(f"/market/{listing_id}/photos/3").status_code == 404


def test_more_than_three_photos_or_a_non_photo_is_refused(client, settings):
    from tests.intake_support import photo

    seller_id = register_seller(client)
    path = f"/agent/market/sellers/{seller_id}/listings/new"
    data = {"category": "livestock", "product": "黑山羊", "quantity": "3", "unit": "head"}
    four = [("photos", (f"{n}.jpg", photo(), "image/jpeg")) for n in range(4)]
    answer = client.post(path, data=data | form_of(client, path), files=four)
    assert answer.status_code == 400 and "最多 3 张照片" in answer.text
    text = [("photos", ("a.jpg", b"not a photo at all", "image/jpeg"))]
    answer = client.post(path, data=data | form_of(client, path), files=text)
    assert answer.status_code == 400
    assert rows(settings, "SELECT count(*) FROM market_listings")[0][0] == 0


def test_the_origin_card_verifies_the_listing_and_its_village_by_seal(client, settings):
    seller_id = register_seller(client)
    listing_id = post_listing(client, seller_id)
    seal_id = rows(settings, "SELECT origin_seal_id FROM market_listings")[0][0]
    payload = rows(settings, "SELECT payload FROM market_seals WHERE id = ?", seal_id)[0][0]
    assert SELLER_NAME not in payload and SELLER_PHONE not in payload and "乾江村" in payload
    client.cookies.clear()
    card = client.get(f"/market/{listing_id}/card")
    assert f"/verify/{seal_id}" in card.text
    verify = client.get(f"/verify/{seal_id}")
    assert verify.status_code == 200 and "签章有效" in verify.text
    assert "农产品产地证明" in verify.text and "黑山羊" in verify.text and "乾江村" in verify.text
    with sqlite3.connect(settings.database_path) as conn:  # an altered village is caught
        conn.execute(
            "UPDATE market_seals SET payload = replace(payload, '乾江村', '环珠村') WHERE id = ?",
            (seal_id,),
        )
    assert "签章无效" in client.get(f"/verify/{seal_id}").text


def test_nearest_first_puts_the_buyers_village_then_township_first(client, settings):
    from tests.conftest import AGENT_HUANZHU, HUANZHU

    here = register_seller(client, AGENT_HUANZHU, HUANZHU, phone="13907710099")
    near_id = post_listing(client, here, product="豆角", unit="jin")
    far = register_seller(client, id_number=resident_id(birth="19800101", serial="789"))
    newer_id = post_listing(client, far, product="豆角", unit="jin")
    client.cookies.clear()
    newest = client.get("/market", params={"q": "豆角"}, headers={"HX-Request": "true"}).text
    assert newest.index(newer_id) < newest.index(near_id)
    nearest = client.get(
        "/market", params={"q": "豆角", "near": HUANZHU}, headers={"HX-Request": "true"}
    ).text
    assert nearest.index(near_id) < nearest.index(newer_id)
    page2 = client.get("/market", params={"near": HUANZHU, "page": "2"})
    assert page2.status_code == 200


def test_another_villages_agent_cannot_take_over_a_seller(client, settings):
    from tests.conftest import AGENT_HUANZHU, HUANZHU

    register_seller(client)
    login(client, AGENT_HUANZHU)
    data = {
        "kind": "person",
        "name": SELLER_NAME,
        "id_number": resident_id(birth="19700101", serial="456"),
        "phone": "13900001111",
        "village_code": HUANZHU,
        "id_seen": "yes",
        "farms_here": "yes",
    } | form_of(client, "/agent/market/sellers/new")
    taken = client.post("/agent/market/sellers/new", data=data)
    assert taken.status_code == 409 and "已在别的村登记" in taken.text
    seller = rows(settings, "SELECT phone, village_code FROM market_sellers")
    assert [tuple(s) for s in seller] == [(SELLER_PHONE, "450521100201")]
