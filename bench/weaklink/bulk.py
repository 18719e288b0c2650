"""Bulk transfers through the rig, to check its bandwidth: a tiny HTTP server (serve) in the
server namespace, and a client (download, upload, probe) in the client namespace.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from bench.weaklink.link_meter import LinkMeter

CHUNK = 16_384


@dataclass
class Transfer:
    """One timed body: its size, when its first and last bytes reached the reader (s after
    the request was sent, or after the headers for an upload), the data rate the reader saw
    from first to last byte, and the link's rate (LinkMeter) over the same transfer."""

    bytes: int
    first_byte_s: float
    last_byte_s: float
    data_kbit: float
    link_kbit: float


class Clock:
    """Arrival times of a body read chunk by chunk."""

    def __init__(self, start: float | None = None) -> None:
        self.start = start or time.monotonic()
        self.received = 0
        self.first: tuple[float, int] | None = None

    def count(self, length: int) -> None:
        """Note `length` more bytes arrived now."""
        self.first = self.first or (time.monotonic(), length)
        self.received += length

    def transfer(self, meter: LinkMeter) -> Transfer:
        """The figures once the whole body is in."""
        now = time.monotonic()
        since, length = self.first or (now, 0)
        rate = (self.received - length) * 8 / 1000 / (now - since) if now > since else 0.0
        first = since - self.start
        return Transfer(self.received, first, now - self.start, rate, meter.rate_kbit())


class Handler(BaseHTTPRequestHandler):
    """GET /bytes/<n>: n bytes. POST /sink: reads the body, answers its Transfer as JSON."""

    protocol_version = "HTTP/1.1"
    device = ""  # this namespace's veth end, set by serve()

    def do_GET(self) -> None:
        """Send the asked number of bytes."""
        size = int(self.path.rsplit("/", 1)[-1])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        block = bytes(CHUNK)
        for start in range(0, size, CHUNK):
            self.wfile.write(block[: min(CHUNK, size - start)])

    def do_POST(self) -> None:
        """Read the body, timing it from the headers' arrival."""
        size = int(self.headers["Content-Length"])
        clock = Clock()
        with LinkMeter(self.device) as meter:
            while clock.received < size:
                chunk = self.rfile.read1(min(CHUNK, size - clock.received))
                if not chunk:
                    break
                clock.count(len(chunk))
        body = json.dumps(asdict(clock.transfer(meter))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the runner prints the figures."""


def serve(host: str, port: int, device: str) -> None:
    """Answer bulk requests until stopped; uploads are metered on `device`."""
    Handler.device = device
    with ThreadingHTTPServer((host, port), Handler) as server:
        print("ready", flush=True)
        server.serve_forever()


def download(url: str, device: str) -> Transfer:
    """GET `url` on a fresh connection, timed from the request to the last byte; the link
    metered on `device`."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=300)
    connection.connect()
    with LinkMeter(device) as meter:
        clock = Clock()
        connection.request("GET", parts.path)
        response = connection.getresponse()
        while chunk := response.read1(CHUNK):
            clock.count(len(chunk))
    connection.close()
    return clock.transfer(meter)


def upload(url: str, size: int) -> Transfer:
    """POST `size` bytes to `url` on a fresh connection; the server's timing of the body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=300)
    connection.connect()
    connection.request("POST", parts.path, body=bytes(size))
    answer = json.loads(connection.getresponse().read())
    connection.close()
    return Transfer(**answer)


def probe(url: str, timeout: float) -> bool:
    """Whether `url` answers 200 within `timeout` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """`serve HOST PORT --device D`, `download URL --device D`, `upload URL BYTES` (JSON
    out), `probe URL`."""
    parser = argparse.ArgumentParser(prog="python -m bench.weaklink.bulk")
    parser.add_argument("action", choices=["serve", "download", "upload", "probe"])
    parser.add_argument("target", help="HOST for serve, else URL")
    parser.add_argument("value", nargs="?", type=int, default=0, help="PORT or BYTES")
    parser.add_argument("--timeout", type=float, default=60, help="probe: seconds to wait")
    parser.add_argument("--device", default="", help="the veth end a transfer is metered on")
    args = parser.parse_args(argv)
    if args.action == "serve":
        serve(args.target, args.value, args.device)
    elif args.action == "probe":
        return 0 if probe(args.target, args.timeout) else 1
    elif args.action == "download":
        print(json.dumps(asdict(download(args.target, args.device))))
    else:
        print(json.dumps(asdict(upload(args.target, args.value))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
