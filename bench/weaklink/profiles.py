"""The link profiles (WebPageTest's 2G, 3G Slow, 3G, each with and without 1 % loss) and
the TCP throughput theory expects of a link rate.
"""

from __future__ import annotations

from dataclasses import dataclass

FRAME_BYTES = 1514  # a full-size frame as tbf counts it: Ethernet 14 + IP 20 + TCP 32 + data
SEGMENT_BYTES = 1448  # the data in it (MSS with TCP timestamps on a 1500-byte MTU)


@dataclass(frozen=True)
class Profile:
    """One link: rates in kbit/s each way, round trip in ms, random loss per packet each way."""

    name: str
    down_kbit: int
    up_kbit: int
    rtt_ms: int
    loss: float

    @property
    def label(self) -> str:
        """The profile as the tables show it, e.g. `2G, 1 % loss`."""
        return f"{self.name}, {self.loss * 100:g} % loss"

    @property
    def key(self) -> str:
        """The name used on the command line, e.g. `2g-loss`."""
        base = self.name.lower().replace(" ", "-")
        return f"{base}-loss" if self.loss else base

    @property
    def one_way_ms(self) -> float:
        """The delay each receiver adds: half the round trip."""
        return self.rtt_ms / 2


def goodput_kbit(rate_kbit: int) -> float:
    """TCP data throughput a link of `rate_kbit` allows once full-size segments fill it."""
    return rate_kbit * SEGMENT_BYTES / FRAME_BYTES


def _pair(name: str, down_kbit: int, up_kbit: int, rtt_ms: int) -> list[Profile]:
    return [Profile(name, down_kbit, up_kbit, rtt_ms, loss) for loss in (0.0, 0.01)]


PROFILES = [
    *_pair("2G", 280, 256, 800),
    *_pair("3G Slow", 400, 400, 400),
    *_pair("3G", 1600, 768, 300),
]
BY_KEY = {profile.key: profile for profile in PROFILES}
