"""A raw HTTP/1.1 client for limit tests: any head, a body streamed until the server answers."""

from __future__ import annotations

import http.cookiejar
import select
import socket
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from edge.accounts.demo_people import DEMO_PASSWORD
from tests.conftest import csrf_of

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """The status the server gave and how many body bytes it took before answering."""

    status: int
    body_sent: int


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        got = sock.recv(4096)
        if not got:
            raise ConnectionError("closed without an answer")
        head += got
    return int(head.split(b" ", 2)[1])


def _stream(sock: socket.socket, size: int, data: bytes = b"") -> int:
    """Send `data` (or `size` bytes of filler), stopping as soon as the server answers."""
    sent, chunk = 0, b"a" * CHUNK
    while sent < size:
        if select.select([sock], [], [], 0)[0]:
            break
        try:
            sent += sock.send(data[sent : sent + CHUNK] if data else chunk[: size - sent])
        except (BrokenPipeError, ConnectionResetError):
            break
    return sent


def request(
    url: str, method: str, path: str, headers: dict[str, str], body_size: int = 0
) -> Answer:
    """Send one request with `body_size` bytes of body (by Content-Length unless the headers
    say chunked: then one chunk per send); the answer's status and the bytes it took."""
    parts = urlsplit(url)
    head = f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
    chunked = headers.get("Transfer-Encoding") == "chunked"
    if body_size and not chunked:
        headers = {**headers, "Content-Length": str(body_size)}
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        encoded = head.encode("utf-8")
        if _stream(sock, len(encoded), encoded) < len(encoded):
            return Answer(_status(sock), 0)  # answered before the head was whole
        sent = _chunked(sock, body_size) if chunked else _stream(sock, body_size)
        return Answer(_status(sock), sent)


def _chunked(sock: socket.socket, size: int) -> int:
    sent = 0
    while sent < size:
        if select.select([sock], [], [], 0)[0]:
            break
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (CHUNK, b"a" * CHUNK))
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += CHUNK
    if sent >= size:
        sock.sendall(b"0\r\n\r\n")
    return sent


def signed_in(url: str, phone: str) -> dict[str, str]:
    """Cookie and X-CSRF-Token headers of a demo account signed in through the real form
    (the token of its session, as /login's next page carries it)."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with browser.open(f"{url}/login") as page:  # signed out: it sets the visitor cookie
        page.read()
    form = {"phone": phone, "password": DEMO_PASSWORD, "next": ""}
    with browser.open(f"{url}/login", urlencode(form).encode()) as home:
        csrf = csrf_of(home.read().decode())
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return {"Cookie": cookie, "X-CSRF-Token": csrf}
