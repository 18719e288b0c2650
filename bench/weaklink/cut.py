"""One cut of the node's TCP connections in the middle of an upload: once the client's veth end
has sent a given number of bytes, each namespace answers the other's segments to or from the
node's port with a TCP reset for a moment (iptables REJECT), then the rules go again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from bench.weaklink.profiles import FRAME_BYTES, SEGMENT_BYTES
from bench.weaklink.rig import Rig, RigError, Side

SAMPLE_S = 0.005
HEADERS_BYTES = 3_000  # the session and photos GETs and the PUT's head before the photo body
MIN_HOLD_S = 1.0
RESET_WAIT_S = 10.0


def cut_point(photos: list[int]) -> int:
    """Bytes the client sends (frames) up to the middle of the second photo's body."""
    body = photos[0] + photos[1] // 2
    return round(body * FRAME_BYTES / SEGMENT_BYTES) + HEADERS_BYTES


def tx_bytes(pid: int, device: str) -> int:
    """tx_bytes of `device` in the network namespace of process `pid`."""
    for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines():
        name, _, numbers = line.partition(":")
        if name.strip() == device:
            return int(numbers.split()[8])
    raise RigError(f"no {device} in the namespace of process {pid}")


def _rule(side: Side, port: int, direction: str) -> list[str]:
    """REJECT every TCP segment of the node's connections but resets (which must get
    through to end the connection on this side too)."""
    return [
        *("INPUT", "-i", side.device, "-p", "tcp", direction, str(port)),
        *("!", "--tcp-flags", "RST", "RST", "-j", "REJECT", "--reject-with", "tcp-reset"),
    ]


class Cutter:
    """Watches the client's tx counter in a thread; cuts once when it reaches `at_bytes`."""

    def __init__(self, rig: Rig, pid: int, port: int, at_bytes: int, hold_s: float) -> None:
        self.rig, self.pid, self.port = rig, pid, port
        self.at_bytes = at_bytes
        self.hold_s = max(MIN_HOLD_S, hold_s)
        self.sent_at_cut: int | None = None
        self.cut_at: float | None = None  # time.monotonic() when the rules went in
        self.error: BaseException | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.base = tx_bytes(pid, rig.client.device)

    def start(self) -> None:
        """Begin watching (call just before the client goes online)."""
        self.thread.start()

    def stop(self) -> None:
        """Stop watching; the rules are gone once this returns."""
        self.stopped.set()
        self.thread.join()
        if self.error:
            raise RigError(f"the cut failed: {self.error}")

    def _watch(self) -> None:
        try:
            while not self.stopped.is_set():
                sent = tx_bytes(self.pid, self.rig.client.device) - self.base
                if sent >= self.at_bytes:
                    self.sent_at_cut = sent
                    self._cut()
                    return
                time.sleep(SAMPLE_S)
        except BaseException as error:  # reported by stop()
            self.error = error

    def _rules(self) -> list[tuple[Side, list[str]]]:
        return [
            (self.rig.server, _rule(self.rig.server, self.port, "--dport")),
            (self.rig.client, _rule(self.rig.client, self.port, "--sport")),
        ]

    def _cut(self) -> None:
        rules = self._rules()
        try:
            for side, rule in rules:
                side.run(["iptables", "-w", "-I", *rule[:1], "1", *rule[1:]])
            self.cut_at = time.monotonic()
            self._wait_for_reset()
            time.sleep(self.hold_s)
        finally:
            for side, rule in rules:
                with contextlib.suppress(RigError):
                    side.run(["iptables", "-w", "-D", *rule])

    def _wait_for_reset(self) -> None:
        """Until the server side has rejected a segment (and so sent its reset)."""
        deadline = time.monotonic() + RESET_WAIT_S
        while rejected(self.rig.server) == 0 and time.monotonic() < deadline:
            time.sleep(SAMPLE_S)


def rejected(side: Side) -> int:
    """Packets the REJECT rules on `side`'s INPUT have answered."""
    listing = side.run(["iptables", "-w", "-L", "INPUT", "-n", "-v", "-x"])
    counts = [line.split() for line in listing.splitlines()]
    return sum(int(f[0]) for f in counts if len(f) > 2 and f[2] == "REJECT" and f[0].isdigit())
