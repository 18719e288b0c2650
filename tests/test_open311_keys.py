"""Open311 API keys at central: a central admin makes one (shown once, kept as its sha256),
revokes it, each audited; a key POSTs at most its limit of requests an hour (429 and
Retry-After past it, a GeoReport v2 error body)."""

from __future__ import annotations

import hashlib
import re

from starlette.testclient import TestClient

from central.demo import ADMIN_PHONE
from tests.central_support import central_rows
from tests.conftest import QIANJIANG, MovableClock, csrf_of, login
from tests.test_central_officer import CIVIL_HEPU

SHOWN = re.compile(r"<code>([A-Za-z0-9_-]{40,})</code>")
KEY_FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')
REQUEST = {
    "service_code": "roads",
    "address_id": QIANJIANG,
    "description": "乾江村桥头的护栏被车撞坏了，很危险。",
    "attribute[kind]": "problem",
}


def _make(central: TestClient, name: str, per_hour: str) -> tuple[str, object]:
    page = central.get("/open311/keys")
    form = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),  # type: ignore[union-attr]
        "name": name,
        "per_hour": per_hour,
    }
    return page.text, (central.post("/open311/keys", data=form), form)


def _audit(central: TestClient) -> list[str]:
    rows = central_rows(
        central, "SELECT action FROM audit_log WHERE object_type = 'open311_keys' ORDER BY seq"
    )
    return [r["action"] for r in rows]


def test_only_a_central_admin_manages_keys(central):
    assert central.get("/open311/keys", follow_redirects=False).status_code in (302, 303, 401)
    login(central, CIVIL_HEPU)
    assert central.get("/open311/keys").status_code == 403


def test_a_key_is_shown_once_stored_hashed_audited_and_a_retry_makes_no_second(central):
    login(central, ADMIN_PHONE)
    assert "/open311/keys" in central.get("/nodes").text  # from the admin's home
    _page, (made, form) = _make(central, "城市运行管理中心大屏", "30")
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    raw = SHOWN.search(made.text).group(1)  # type: ignore[union-attr]
    stored = central_rows(central, "SELECT name, key_hash, per_hour, active FROM open311_keys")
    assert [tuple(r) for r in stored] == [
        ("城市运行管理中心大屏", hashlib.sha256(raw.encode()).hexdigest(), 30, 1)
    ]
    assert _audit(central) == ["open311_key"]
    again = central.post("/open311/keys", data=form)
    assert again.status_code == 200 and raw not in again.text and "只显示一次" in again.text
    assert len(central_rows(central, "SELECT id FROM open311_keys")) == 1
    listing = central.get("/open311/keys").text
    assert raw not in listing and "城市运行管理中心大屏" in listing and "0 / 30" in listing


def test_a_bad_form_says_what_is_wrong_and_keeps_what_was_typed(central):
    login(central, ADMIN_PHONE)
    _page, (refused, _form) = _make(central, "区应急指挥平台", "0")
    assert refused.status_code == 400 and "1到3600" in refused.text
    assert 'value="区应急指挥平台"' in refused.text
    _page, (unnamed, _form) = _make(central, "  ", "10")
    assert unnamed.status_code == 400 and "请填写使用这个密钥的单位" in unnamed.text
    assert central_rows(central, "SELECT count(*) FROM open311_keys")[0][0] == 0


def test_a_key_posts_its_limit_an_hour_then_429_with_retry_after(central, clock: MovableClock):
    login(central, ADMIN_PHONE)
    _page, (made, _form) = _make(central, "城市运行管理中心大屏", "2")
    raw = SHOWN.search(made.text).group(1)  # type: ignore[union-attr]
    _page, (other, _form) = _make(central, "12345热线", "2")
    second_key = SHOWN.search(other.text).group(1)  # type: ignore[union-attr]
    central.cookies.clear()
    post = {**REQUEST, "api_key": raw}
    assert central.post("/open311/v2/requests.json", data=post).status_code == 200
    clock.advance(minutes=10)
    assert central.post("/open311/v2/requests.json", data=post).status_code == 200
    refused = central.post("/open311/v2/requests.json", data=post)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == 50 * 60 + 1  # the first leaves the hour
    error = refused.json()[0]
    assert error["code"] == 429 and "2 requests an hour" in error["description"]
    xml = central.post("/open311/v2/requests.xml", data=post)
    assert xml.status_code == 429 and "<code>429</code>" in xml.text
    assert (
        central.post("/open311/v2/requests.json", data={**post, "api_key": second_key}).status_code
        == 200
    )  # each key has its own hour
    sent = central_rows(central, "SELECT count(*) FROM commands WHERE kind = 'feedback_request'")
    assert sent[0][0] == 3
    clock.advance(minutes=51)
    assert central.post("/open311/v2/requests.json", data=post).status_code == 200
    assert central.post("/open311/v2/requests.json", data=post).status_code == 429


def test_a_revoked_key_is_refused_at_once_and_the_revocation_is_audited(central):
    login(central, ADMIN_PHONE)
    _page, (made, _form) = _make(central, "城市运行管理中心大屏", "60")
    raw = SHOWN.search(made.text).group(1)  # type: ignore[union-attr]
    key_id = central_rows(central, "SELECT id FROM open311_keys")[0]["id"]
    revoke = {"csrf_token": csrf_of(made.text)}
    done = central.post(f"/open311/keys/{key_id}/revoke", data=revoke, follow_redirects=False)
    assert done.status_code == 303
    retried = central.post(f"/open311/keys/{key_id}/revoke", data=revoke, follow_redirects=False)
    assert retried.status_code == 303  # a retry lands on the list, audited once
    assert _audit(central) == ["open311_key", "revoke_open311_key"]
    assert "已撤销" in central.get("/open311/keys").text
    assert central.post("/open311/keys/NOSUCHKEY/revoke", data=revoke).status_code == 404
    refused = central.post("/open311/v2/requests.json", data={**REQUEST, "api_key": raw})
    assert refused.status_code == 403
