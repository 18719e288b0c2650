"""Is the rig what the profile says? Round trip by `ping -U`, bulk throughput each way by a
timed transfer from/to a tiny server in the server namespace, loss by iptables' counters.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass

from bench.weaklink.bulk import Transfer
from bench.weaklink.profiles import Profile
from bench.weaklink.rig import Rig, RigError, Side

BULK_PORT = 9000
PINGS = 20
PING_INTERVAL_S = 0.2
PING_TIME = re.compile(r"time=([\d.]+) ms")
BULK = [sys.executable, "-m", "bench.weaklink.bulk"]


@dataclass
class Pinged:
    """Replies' round trips in ms (user space to user space) and how many were sent."""

    rtts_ms: list[float]
    sent: int

    @property
    def median_ms(self) -> float:
        """The median round trip."""
        return statistics.median(self.rtts_ms) if self.rtts_ms else float("nan")


@dataclass
class Counted:
    """Packets one receiver's INPUT dropped at random and let through (to the delayer)."""

    dropped: int
    passed: int

    @property
    def share(self) -> float:
        """Dropped over all packets that arrived."""
        total = self.dropped + self.passed
        return self.dropped / total if total else 0.0


@dataclass
class Validation:
    """The rig's own figures under one profile."""

    ping: Pinged
    down: Transfer
    up: Transfer


def start_bulk_server(rig: Rig) -> str:
    """The bulk server in the server namespace; its base URL."""
    command = [*BULK, "serve", rig.server.address, str(BULK_PORT), "--device", rig.server.device]
    server = rig.spawn(rig.server, command)
    assert server.stdout is not None
    if server.stdout.readline().strip() != b"ready":
        raise RigError("the bulk server did not start")
    return f"http://{rig.server.address}:{BULK_PORT}"


def ping(rig: Rig) -> Pinged:
    """`ping -U` from the client to the server: -U times replies as the program reads them,
    after the receiver's delay (the kernel's receive stamp would come before it)."""
    command = ["ping", "-U", "-n", "-c", str(PINGS), "-i", str(PING_INTERVAL_S), "-W", "10"]
    done = subprocess.run(
        rig.client.argv([*command, rig.server.address]), capture_output=True, text=True, check=False
    )
    return Pinged([float(ms) for ms in PING_TIME.findall(done.stdout)], PINGS)


def _transfer(side: Side, command: list[str]) -> Transfer:
    return Transfer(**json.loads(side.run([*BULK, *command])))


def validate(rig: Rig, profile: Profile, bulk_url: str, seconds: float) -> Validation:
    """Ping, then a download and an upload each sized to last `seconds` at the profile's rate."""
    down_bytes = int(profile.down_kbit * 1000 / 8 * seconds)
    up_bytes = int(profile.up_kbit * 1000 / 8 * seconds)
    return Validation(
        ping(rig),
        _transfer(
            rig.client,
            ["download", f"{bulk_url}/bytes/{down_bytes}", "--device", rig.client.device],
        ),
        _transfer(rig.client, ["upload", f"{bulk_url}/sink", str(up_bytes)]),
    )


def count_loss(side: Side) -> Counted:
    """The DROP and NFQUEUE rules' packet counters on `side`'s INPUT."""
    listing = side.run(["iptables", "-w", "-L", "INPUT", "-n", "-v", "-x"])
    counts = {"DROP": 0, "NFQUEUE": 0}
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] in counts and fields[0].isdigit():
            counts[fields[2]] += int(fields[0])
    return Counted(counts["DROP"], counts["NFQUEUE"])
