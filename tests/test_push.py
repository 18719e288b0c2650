"""Web push against a local push service that checks VAPID and decrypts like a browser would."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from edge.kernel.db import connect_sync
from edge.push.sender import push_tick
from edge.settings import Settings
from edge.supervision.jobs import deadline_scan
from tests.conftest import AGENT_QIANJIANG, LIANZHOU, STAFF, csrf_of, login
from tests.intake_support import KEY_FIELD, rows, submit

RECEIPT = re.compile(r"/agent/applications/([0-9A-Z]{26})/receipt")
SECRET_NAME = "潘桂兰"
RESIDENT_PHONE = "13807710021"  # the demo resident


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """A browser's push subscription: its own P-256 key pair and auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        self.json = {
            "endpoint": endpoint,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }


class PushService:
    """A push service on 127.0.0.1: verifies VAPID, decrypts, records; answers as told."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.statuses: list[int] = []  # answers to give, first first; 201 when empty
        self.devices: dict[str, Device] = {}
        self.node_key = ""
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.receive(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                status = service.statuses.pop(0) if service.statuses else 201
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def device(self, name: str) -> Device:
        device = Device(f"{self.origin}/push/{name}")
        self.devices[f"/push/{name}"] = device
        return device

    def check_vapid(self, authorization: str) -> dict:
        match = re.fullmatch(r"vapid t=([^,\s]+),\s*k=(\S+)", authorization)
        assert match, authorization
        token, key = match.groups()
        assert key == self.node_key
        header, claims, signature = token.split(".")
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        decoded = json.loads(unb64url(claims))
        assert decoded["aud"] == self.origin
        assert decoded["exp"] > time.time()
        assert decoded["sub"].startswith("mailto:")
        return decoded

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.check_vapid(headers["authorization"])
        device = self.devices[path]
        assert headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm"
        )
        self.received.append(
            {"path": path, "ttl": int(headers["ttl"]), "message": json.loads(plain)}
        )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = Settings(node_id="lianzhou", township_code=LIANZHOU, data_dir=tmp_path / "edge")
    return dataclasses.replace(base, push_allow_http=True)


@pytest.fixture
def service() -> Iterator[PushService]:
    push = PushService()
    yield push
    push.server.shutdown()
    push.server.server_close()


def subscribe(client, service: PushService, phone: str, name: str, home: str) -> Device:
    login(client, phone)
    token = csrf_of(client.get(home).text)
    service.node_key = client.get("/push/key").json()["key"]
    device = service.device(name)
    response = client.post("/push/subscriptions", json=device.json, headers={"X-CSRF-Token": token})
    assert response.status_code == 204, response.text
    return device


def accept(client) -> str:
    login(client, AGENT_QIANJIANG)
    response = submit(client, "MZ-002", name=SECRET_NAME)
    assert response.status_code == 303, response.text
    return RECEIPT.match(response.headers["location"]).group(1)


def return_it(client, settings, application_id: str) -> None:
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}")
    step = rows(
        settings,
        "SELECT id FROM steps WHERE application_id = ? AND status = 'active'",
        application_id,
    )[0]["id"]
    data = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),
        "action": "return",
        "opinion": "户口簿照片不清楚",
        "materials": ["household_ids"],
    }
    response = client.post(f"/staff/steps/{step}/decide", data=data, follow_redirects=False)
    assert response.status_code == 303


def outbox(settings) -> list:
    return rows(settings, "SELECT * FROM push_outbox ORDER BY id")


def returned_with_one_device(client, settings, service) -> str:
    application_id = accept(client)
    subscribe(client, service, AGENT_QIANJIANG, "agent-phone", "/agent/")
    return_it(client, settings, application_id)
    return application_id


def test_a_returned_application_reaches_the_agents_device(client, settings, clock, service):
    application_id = returned_with_one_device(client, settings, service)
    assert [r["state"] for r in outbox(settings)] == ["queued"]  # written with the return
    assert push_tick(settings, clock()) == 1
    (got,) = service.received
    assert got["path"] == "/push/agent-phone"
    assert got["ttl"] >= 86400
    message = got["message"]
    assert message["url"] == f"/agent/applications/{application_id}"
    assert "潘**" in message["body"] and SECRET_NAME not in json.dumps(message)
    assert "13800138000" not in json.dumps(message) and message["title"]
    assert [r["state"] for r in outbox(settings)] == ["sent"]
    assert push_tick(settings, clock()) == 0  # sent once


def test_a_410_deletes_the_subscription(client, settings, clock, service):
    returned_with_one_device(client, settings, service)
    service.statuses = [410]
    assert push_tick(settings, clock()) == 0
    (row,) = outbox(settings)
    assert row["state"] == "gone" and row["last_error"] == "HTTP 410"
    assert rows(settings, "SELECT * FROM push_subscriptions") == []


def test_a_500_backs_off_and_is_retried_later(client, settings, clock, service, caplog):
    returned_with_one_device(client, settings, service)
    service.statuses = [500]
    assert push_tick(settings, clock()) == 0
    (row,) = outbox(settings)
    assert (row["state"], row["attempts"], row["last_error"]) == ("queued", 1, "HTTP 500")
    assert push_tick(settings, clock()) == 0  # not due yet
    assert len(service.received) == 1
    clock.advance(minutes=2)
    assert push_tick(settings, clock()) == 1
    assert len(service.received) == 2 and outbox(settings)[0]["state"] == "sent"
    assert SECRET_NAME not in caplog.text and "agent-phone" not in caplog.text


def test_a_row_stuck_in_sending_is_reaped(client, settings, clock, service):
    returned_with_one_device(client, settings, service)
    (row,) = outbox(settings)
    conn = connect_sync(settings.database_path)
    conn.execute(
        "UPDATE push_outbox SET state = 'sending', claimed_at = '2026-01-01T00:00:00Z' "
        "WHERE id = ?",
        (row["id"],),
    )
    conn.close()
    assert push_tick(settings, clock()) == 1


def test_a_yellow_card_reaches_the_responsible_staff(client, settings, clock, service):
    clock.now = datetime(2026, 9, 29, 2, tzinfo=UTC)
    application_id = accept(client)
    subscribe(client, service, STAFF, "staff-phone", "/staff/")
    clock.now = datetime(2026, 10, 16, 2, tzinfo=UTC)
    assert asyncio.run(deadline_scan(settings, clock())) == 1
    assert asyncio.run(deadline_scan(settings, clock())) == 0  # no second push either
    assert push_tick(settings, clock()) == 1
    (got,) = service.received
    assert got["path"] == "/push/staff-phone"
    assert got["message"]["url"] == f"/staff/applications/{application_id}"
    assert got["message"]["title"] == "办理即将到期"
    assert "潘**" in got["message"]["body"]


def test_posts_need_the_csrf_token(client, service):
    login(client, AGENT_QIANJIANG)
    device = service.device("x")
    assert client.post("/push/subscriptions", json=device.json).status_code == 403
    assert (
        client.post("/push/subscriptions/delete", json={"endpoint": device.endpoint}).status_code
        == 403
    )
    assert (
        client.post(
            "/push/subscriptions", json=device.json, headers={"X-CSRF-Token": "no"}
        ).status_code
        == 403
    )


def test_residents_and_visitors_cannot_subscribe(client, service):
    device = service.device("x")
    client.get("/login")
    anonymous = client.post("/push/subscriptions", json=device.json, follow_redirects=False)
    assert anonymous.status_code == 303
    assert client.get("/push/key", follow_redirects=False).status_code == 303
    login(client, RESIDENT_PHONE)
    token = csrf_of(client.get("/login").text)
    resident = client.post("/push/subscriptions", json=device.json, headers={"X-CSRF-Token": token})
    assert resident.status_code == 403


def test_unsubscribe_and_bad_subscriptions(client, settings, service):
    device = subscribe(client, service, AGENT_QIANJIANG, "agent-phone", "/agent/")
    token = csrf_of(client.get("/agent/").text)
    bad = dict(device.json, keys={"p256dh": "short", "auth": "x"})
    headers = {"X-CSRF-Token": token}
    assert client.post("/push/subscriptions", json=bad, headers=headers).status_code == 400
    gone = client.post(
        "/push/subscriptions/delete", json={"endpoint": device.endpoint}, headers=headers
    )
    assert gone.status_code == 204
    assert rows(settings, "SELECT * FROM push_subscriptions") == []


def test_the_agent_home_offers_the_button_hidden_without_js(client):
    login(client, AGENT_QIANJIANG)
    page = client.get("/agent/").text
    assert re.search(r'<button type="button" id="push-enable"[^>]* hidden', page)
    assert "开启通知" in page


def test_an_endpoint_posted_by_another_account_does_not_move(client, settings, clock, service):
    application_id = accept(client)
    device = subscribe(client, service, AGENT_QIANJIANG, "agent-phone", "/agent/")
    login(client, STAFF)  # another account posts the agent's endpoint with its own keys
    token = csrf_of(client.get("/staff/").text)
    thief = Device(device.endpoint)
    moved = client.post("/push/subscriptions", json=thief.json, headers={"X-CSRF-Token": token})
    assert moved.status_code == 409
    assert "这台设备已为另一个账号接收推送" in moved.text
    (kept,) = rows(settings, "SELECT account_id, p256dh FROM push_subscriptions")
    assert kept["p256dh"] == device.json["keys"]["p256dh"]
    assert (
        kept["account_id"]
        == rows(settings, "SELECT id FROM accounts WHERE phone = ?", AGENT_QIANJIANG)[0]["id"]
    )
    return_it(client, settings, application_id)
    assert push_tick(settings, clock()) == 1  # the agent's notice, decrypted with its own keys
    assert [got["path"] for got in service.received] == ["/push/agent-phone"]


def test_a_notice_goes_only_to_a_subscription_of_its_account(client, settings, clock, service):
    application_id = accept(client)
    subscribe(client, service, AGENT_QIANJIANG, "agent-phone", "/agent/")
    return_it(client, settings, application_id)
    staff = rows(settings, "SELECT id FROM accounts WHERE phone = ?", STAFF)[0]["id"]
    with connect_sync(settings.database_path) as conn:  # a row queued for another account
        conn.execute("UPDATE push_outbox SET account_id = ?", (staff,))
    assert push_tick(settings, clock()) == 0
    assert service.received == []
    assert [r["state"] for r in outbox(settings)] == ["gone"]
