"""A fake SMS provider for the tests: a real HTTP server on loopback that checks signatures,
takes each message id once, answers GET .../messages/{id}, and can stall after taking one."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STALL_SECONDS = 120


class Provider(ThreadingHTTPServer):
    """Answers with the next status of `plan` (then 200), records what it accepted (each id
    once: a repeated id is answered 200 and only counted in `posts`). With `stall_at` = n it
    takes the n-th new message (from 0), sets `stalled` and holds the answer until `release`;
    with `answers` False it cannot tell whether it took a message (GET answers 501)."""

    daemon_threads = True

    def __init__(self, secret: str) -> None:
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.secret = secret
        self.plan: list[int] = []
        self.received: list[dict[str, str]] = []
        self.posts: list[str] = []
        self.bad_signatures = 0
        self.id_headers: list[bool] = []
        self.answers = True
        self.stall_at: int | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"

    def signed(self, payload: bytes, signature: str) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), payload, "sha256").hexdigest()
        return hmac.compare_digest(signature, expected)

    def taken(self, message_id: str) -> bool:
        return any(message["id"] == message_id for message in self.received)


class ProviderHandler(BaseHTTPRequestHandler):
    server: Provider

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if not self.server.signed(raw, self.headers.get("X-Cunban-Signature", "")):
            self.server.bad_signatures += 1
            self._answer(401, b"bad signature")
            return
        message = json.loads(raw)
        self.server.posts.append(message["id"])
        self.server.id_headers.append(self.headers["X-Cunban-Message-Id"] == message["id"])
        if self.server.taken(message["id"]):
            self._answer(200, b'{"ok": true, "again": true}')
            return
        status = self.server.plan.pop(0) if self.server.plan else 200
        if status != 200:
            self._answer(status, f"cannot deliver to {message['phone']}".encode())
            return
        self.server.received.append(message)
        if self.server.stall_at == len(self.server.received) - 1:
            self.server.stalled.set()
            self.server.release.wait(STALL_SECONDS)
        self._answer(200, b'{"ok": true}')

    def do_GET(self) -> None:
        prefix = "/sms/messages/"
        message_id = self.path.removeprefix(prefix)
        if not self.path.startswith(prefix) or not self.server.signed(
            message_id.encode(), self.headers.get("X-Cunban-Signature", "")
        ):
            self._answer(401, b"bad signature")
        elif not self.server.answers:
            self._answer(501, b"not implemented")
        else:
            self._answer(200 if self.server.taken(message_id) else 404, b"")

    def _answer(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the sender is gone (killed mid-send)
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_provider(secret: str) -> Iterator[Provider]:
    """A provider serving on a thread until the block ends."""
    server = Provider(secret)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
