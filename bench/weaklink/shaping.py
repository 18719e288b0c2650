"""A profile applied to the rig: tbf on each sender's egress (bandwidth), iptables' statistic
match (random loss) and an NFQUEUE delayer (half the round trip) on each receiver's INPUT.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field

from bench.weaklink.profiles import Profile
from bench.weaklink.rig import Rig, RigError, Side

QUEUE = 0
BURST_BYTES = 1600  # about one full frame: the link sends no faster than its rate
MIN_LIMIT_BYTES = 32_000


@dataclass
class Shaped:
    """The delayer processes a profile runs on (stopped when the profile is removed)."""

    profile: Profile
    delayers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def healthy(self) -> bool:
        """Both delayers still run (without them the queued packets are dropped)."""
        return all(delayer.poll() is None for delayer in self.delayers)


def queue_limit_bytes(rate_kbit: int, rtt_ms: int) -> int:
    """tbf's queue: two bandwidth-delay products, so one TCP flow can keep the link busy."""
    return max(MIN_LIMIT_BYTES, 2 * rate_kbit * rtt_ms // 8)


def _bandwidth(side: Side, rate_kbit: int, rtt_ms: int) -> None:
    limit = queue_limit_bytes(rate_kbit, rtt_ms)
    side.run(
        [
            *("tc", "qdisc", "replace", "dev", side.device, "root", "tbf"),
            *("rate", f"{rate_kbit}kbit", "burst", str(BURST_BYTES), "limit", str(limit)),
        ]
    )


def _start_delayer(rig: Rig, side: Side, delay_ms: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.weaklink.delayer", "--queue", str(QUEUE)]
    delayer = rig.spawn(side, [*command, "--delay-ms", f"{delay_ms:g}"])
    assert delayer.stdout is not None
    if delayer.stdout.readline().strip() != b"ready":
        rig.stop(delayer)
        raise RigError(f"the delayer in {side.namespace} did not start")
    return delayer


def _filter(side: Side, loss: float) -> None:
    """Loss first, then the queue: a dropped packet is never delayed."""
    rule = ["iptables", "-w", "-A", "INPUT", "-i", side.device]
    if loss:
        random = ["-m", "statistic", "--mode", "random", "--probability", f"{loss:g}"]
        side.run([*rule, *random, "-j", "DROP"])
    side.run([*rule, "-j", "NFQUEUE", "--queue-num", str(QUEUE)])


def apply(rig: Rig, profile: Profile) -> Shaped:
    """Shape both directions of the veth pair as `profile` says."""
    shaped = Shaped(profile)
    _bandwidth(rig.server, profile.down_kbit, profile.rtt_ms)
    _bandwidth(rig.client, profile.up_kbit, profile.rtt_ms)
    for side in (rig.server, rig.client):
        shaped.delayers.append(_start_delayer(rig, side, profile.one_way_ms))
        _filter(side, profile.loss)
    return shaped


def remove(rig: Rig, shaped: Shaped) -> None:
    """Back to a plain veth pair: rules flushed, delayers stopped, qdiscs deleted."""
    for side in (rig.server, rig.client):
        side.run(["iptables", "-w", "-F", "INPUT"])
        side.run(["tc", "qdisc", "del", "dev", side.device, "root"])
    for delayer in shaped.delayers:
        rig.stop(delayer)


def describe(rig: Rig, profile: Profile) -> str:
    """The commands' own view of the shaping, for the log: qdiscs and INPUT rules."""
    lines = []
    for side in (rig.server, rig.client):
        lines.append(side.run(["tc", "qdisc", "show", "dev", side.device]).strip())
        lines.append(side.run(["iptables", "-w", "-S", "INPUT"]).strip())
    return f"{profile.label}:\n" + "\n".join(lines)
