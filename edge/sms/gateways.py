"""Where SMS go: the log (demo, development) or an SMS provider over HTTP. Each message carries
its id, an idempotency key: the gateway takes one id once and answers whether it took it.

The HTTP provider gets a JSON POST signed with HMAC-SHA256 and dedupes on the message id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
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
    """Something that hands one SMS to a carrier, once per message id."""

    def send(self, phone: str, body: str, message_id: str) -> None:
        """Send `body` to `phone`, or raise GatewayError."""

    def accepted(self, message_id: str) -> bool | None:
        """Whether the gateway took message `message_id`; None when it cannot tell."""


class LogGateway:
    """Writes each SMS to the log, with the phone number masked; with a `record` file, takes
    each message id once and remembers it across a kill (the id is on disk before the log)."""

    def __init__(self, record: Path | None = None) -> None:
        self.record = record

    def send(self, phone: str, body: str, message_id: str) -> None:
        """Log the message instead of sending it (once per id, with a record)."""
        if self.record is not None:
            if self.accepted(message_id):
                return
            _append_line(self.record, message_id)
        log.info("sms to %s: %s", mask_phone(phone), body)

    def accepted(self, message_id: str) -> bool | None:
        """Whether the record holds `message_id`; None without a record."""
        if self.record is None:
            return None
        if not self.record.exists():
            return False
        return message_id in self.record.read_text().split()


def _append_line(path: Path, line: str) -> None:
    """Append `line` and wait until it is on disk."""
    with path.open("a") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


def sign(secret: str, payload: bytes) -> str:
    """The signature header value of `payload`: sha256=<hex HMAC>."""
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class HttpGateway:
    """POSTs {"id", "phone", "body"} as JSON to a provider, signed with a shared secret; asks
    GET {url}/messages/{id} (the id signed) whether the provider took a message: 200 yes, 404 no.
    """

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

    def accepted(self, message_id: str) -> bool | None:
        """Ask the provider: 200 took it, 404 did not; anything else, or no answer, is None."""
        headers = {
            SIGNATURE_HEADER: sign(self.secret, message_id.encode()),
            MESSAGE_ID_HEADER: message_id,
        }
        url = f"{self.url.rstrip('/')}/messages/{message_id}"
        try:
            response = httpx2.get(url, headers=headers, timeout=self.timeout)
        except httpx2.HTTPError as exc:
            log.warning("sms %s: cannot ask the provider: %s", message_id, type(exc).__name__)
            return None
        return {200: True, 404: False}.get(response.status_code)


def gateway_from(settings: Settings) -> Gateway:
    """The gateway `settings.sms_gateway` names."""
    if settings.sms_gateway == "http":
        return HttpGateway(settings.sms_http_url, settings.sms_http_secret)
    return LogGateway(settings.data_dir / "sms-log-gateway.ids")
