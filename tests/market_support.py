"""Market helpers for tests: an agent checks a seller and posts a listing through the real
forms; the management token is read back from the seller's SMS."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import AGENT_QIANJIANG, QIANJIANG, csrf_of, login
from tests.intake_support import resident_id, rows

KEY_FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')
SELLER_PHONE = "13907710088"
SELLER_NAME = "韦秀兰"


def form_of(client: Any, path: str) -> dict[str, str]:
    """The CSRF token and idempotency key of a signed-in form."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return {"csrf_token": csrf_of(page.text), "idempotency_key": KEY_FIELD.search(page.text)[1]}


def register_seller(
    client: Any, agent: str = AGENT_QIANJIANG, village: str = QIANJIANG, **fields: str
) -> str:
    """The agent of `village` (乾江村) checks a seller in person; the seller's id."""
    login(client, agent)
    data = {
        "kind": "person",
        "name": SELLER_NAME,
        "id_number": resident_id(birth="19700101", serial="456"),
        "phone": SELLER_PHONE,
        "village_code": village,
        "id_seen": "yes",
        "farms_here": "yes",
        **fields,
    } | form_of(client, "/agent/market/sellers/new")
    answer = client.post("/agent/market/sellers/new", data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[1]


def post_listing(client: Any, seller_id: str, files: Any = None, **fields: str) -> str:
    """The agent posts a listing for the seller (with `files`, photos); its id."""
    path = f"/agent/market/sellers/{seller_id}/listings/new"
    data = {
        "side": "supply",
        "category": "livestock",
        "product": "黑山羊",
        "variety": "努比亚",
        "quantity": "20",
        "unit": "head",
        "price": "1800",
        "delivery_note": "村口自提",
        "description": "放山散养",
        **fields,
    } | form_of(client, path)
    answer = client.post(path, data=data, files=files, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[1]


def manage_token(settings: Any, listing_id: str) -> str:
    """The management token from the seller's 'posted' SMS (the node keeps only its hash)."""
    body = rows(
        settings, "SELECT body FROM sms_outbox WHERE dedupe_key = ?", f"market-posted:{listing_id}"
    )[0]["body"]
    return body.rsplit("/", 1)[1]
