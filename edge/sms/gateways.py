"""Where SMS go: the log (demo, development) or an SMS provider over HTTP.

The HTTP provider gets a JSON POST signed with HMAC-SHA256 and dedupes on the message id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Protocol

import httpx2

from edge.kernel.masking import mask_phone, mask_text
from edge.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Cunban-Signature"
MESSAGE_ID_HEADER = "X-Cunban-Message-Id"


class GatewayError(RuntimeError):
    """The gateway did not accept the message; the text never holds a full phone number."""


class Gateway(Protocol):
    """Something that hands one SMS to a carrier."""

    def send(self, phone: str, body: str, message_id: str) -> None:
        """Send `body` to `phone`, or raise GatewayError."""


class LogGateway:
    """Writes each SMS to the log, with the phone number masked."""

    def send(self, phone: str, body: str, message_id: str) -> None:
        """Log the message instead of sending it."""
        log.info("sms to %s: %s", mask_phone(phone), body)


def sign(secret: str, payload: bytes) -> str:
    """The signature header value of `payload`: sha256=<hex HMAC>."""
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class HttpGateway:
    """POSTs {"id", "phone", "body"} as JSON to a provider, signed with a shared secret."""

    def __init__(self, url: str, secret: str, timeout: float = 10) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def send(self, phone: str, body: str, message_id: str) -> None:
        """Deliver to the provider; a network error or a non-2xx answer raises GatewayError."""
        payload = json.dumps(
            {"id": message_id, "phone": phone, "body": body}, ensure_ascii=False
        ).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.secret, payload),
            MESSAGE_ID_HEADER: message_id,
        }
        try:
            response = httpx2.post(self.url, content=payload, headers=headers, timeout=self.timeout)
        except httpx2.HTTPError as exc:
            raise GatewayError(mask_text(f"{type(exc).__name__}: {exc}")) from None
        if not response.is_success:
            detail = mask_text(response.text[:200])
            raise GatewayError(f"provider answered {response.status_code}: {detail}")


def gateway_from(settings: Settings) -> Gateway:
    """The gateway `settings.sms_gateway` names."""
    if settings.sms_gateway == "http":
        return HttpGateway(settings.sms_http_url, settings.sms_http_secret)
    return LogGateway()
