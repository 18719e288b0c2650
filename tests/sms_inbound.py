"""Deliver an SMS a resident sent to a node, as the SMS provider does: signed JSON to
/sms/inbound (the node's CUNBAN_SMS_INBOUND_SECRET; tests/conftest.py's settings carry one)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from starlette.testclient import TestClient
from ulid import ULID

from edge.sms.gateways import SIGNATURE_HEADER, sign

TEST_INBOUND_SECRET = "test-inbound-secret"


def signed(
    phone: str, text: str, message_id: str | None, secret: str
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery."""
    payload = {"id": message_id or str(ULID()), "phone": phone, "text": text}
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
    return body, headers


def deliver(
    target: TestClient | str,
    phone: str,
    text: str,
    id: str | None = None,
    secret: str = TEST_INBOUND_SECRET,
) -> Any:
    """POST one inbound SMS to a test client or a running node's base URL; the response."""
    body, headers = signed(phone, text, id, secret)
    if isinstance(target, str):
        return httpx2.post(f"{target.rstrip('/')}/sms/inbound", content=body, headers=headers)
    return target.post("/sms/inbound", content=body, headers=headers)
