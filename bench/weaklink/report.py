"""The markdown section of docs/performance.md: how the link was made, whether it matched its
profile (validation), and the page loads per profile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.weaklink.measured import Median, ProfileRun
from bench.weaklink.profiles import goodput_kbit
from bench.weaklink.shaping import BURST_BYTES
from bench.weaklink.validation import PINGS, Counted

SECTION = "## Weak links: edge pages in Chromium over 2G and 3G (bench/weaklink)"


@dataclass
class RunNote:
    """Where and how the figures were taken."""

    when: str
    machine: str
    chromium: str
    command: str
    minutes: float
    repeats: int
    bulk_seconds: float


def seconds(ms: float) -> str:
    """Milliseconds shown as seconds."""
    return "n/a" if math.isnan(ms) else f"{ms / 1000:.2f} s"


def share(counted: Counted) -> str:
    """Dropped share and counts, e.g. `1.1 % (23 / 2,104)`."""
    total = counted.dropped + counted.passed
    return f"{counted.share * 100:.1f} % ({counted.dropped} / {total:,})"


def _validation_row(run: ProfileRun) -> str:
    profile, checked = run.profile, run.validation
    lost = checked.ping.sent - len(checked.ping.rtts_ms)
    return (
        f"| {profile.label} | {profile.rtt_ms} ms | {checked.ping.median_ms:.0f} ms ({lost} lost) "
        f"| {profile.down_kbit:,} | {checked.down.link_kbit:,.0f} | {checked.down.data_kbit:,.0f} "
        f"| {profile.up_kbit:,} | {checked.up.link_kbit:,.0f} | {checked.up.data_kbit:,.0f} "
        f"| {share(run.loss_down)} | {share(run.loss_up)} |"
    )


def validation_table(runs: Sequence[ProfileRun]) -> list[str]:
    """One row per profile: theory next to what ping, the bulk transfers and iptables saw."""
    return [
        "| Profile | RTT | `ping -U` median | Down tbf kbit/s | link | TCP data | Up tbf kbit/s "
        "| link | TCP data | Loss down | Loss up |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(_validation_row(run) for run in runs),
    ]


def _bytes(median: Median) -> str:
    return f"{median.wire_bytes:,.0f} B ({median.requests:g})"


def _page_row(run: ProfileRun, path: str) -> str:
    cold, warm = run.median(path, "cold"), run.median(path, "warm")
    return (
        f"| {run.profile.label} | `{path}` | {seconds(cold.fcp_ms)} | {seconds(cold.load_ms)} "
        f"| {_bytes(cold)} | {seconds(warm.fcp_ms)} | {seconds(warm.load_ms)} | {_bytes(warm)} |"
    )


def pages_table(runs: Sequence[ProfileRun]) -> list[str]:
    """Every page under every profile: cold and warm paint, load, bytes (requests)."""
    return [
        "| Profile | Page | Cold FCP | Cold load | Cold bytes (requests) | Warm FCP | Warm load "
        "| Warm bytes (requests) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *(_page_row(run, path) for run in runs for path in run.paths()),
    ]


def summary_table(runs: Sequence[ProfileRun]) -> list[str]:
    """Cold first visits at a glance: load event (FCP) per page and profile."""
    paths = list(dict.fromkeys(path for run in runs for path in run.paths()))
    header = "| Cold visit: load (FCP) | " + " | ".join(run.profile.label for run in runs) + " |"
    rows = []
    for path in paths:
        cells = []
        for run in runs:
            cold = run.median(path, "cold")
            cells.append(f"{seconds(cold.load_ms)} ({seconds(cold.fcp_ms)})")
        rows.append(f"| `{path}` | " + " | ".join(cells) + " |")
    return [header, "|---|" + "---:|" * len(runs), *rows]


def _intro(note: RunNote) -> list[str]:
    return [
        SECTION,
        "",
        f"Measured {note.when}, {note.machine}, Chromium {note.chromium} (Debian, headless, "
        "Playwright). The edge node (`python -m edge serve`, demo data, plain HTTP) runs in one "
        "network namespace and Chromium in another, joined by a veth pair shaped as DESIGN.md "
        f"§6c says. Command: `{note.command}`; the run took {note.minutes:.0f} min.",
        "",
    ]


def _notes(note: RunNote) -> list[str]:
    return [
        f"- Link: `tc qdisc tbf` (burst {BURST_BYTES} B, queue two bandwidth-delay products, at "
        "least 32 kB) on each sender's egress; half the round trip added on each receiver's "
        "INPUT by an NFQUEUE delayer (bench/weaklink/delayer.py, netfilterqueue, nice -10); "
        "loss by `iptables -m statistic --mode random` on each receiver's INPUT, so 1 % means "
        "1 % of the packets each way. The kernel has no netem.",
        f"- Validation: `ping -U` ({PINGS} pings, user-space times: the kernel's receive stamp "
        "comes before the receiver's delay); a download and an upload each sized to last "
        f"{note.bulk_seconds:g} s at the profile's rate, on a fresh TCP connection to a tiny "
        "server in the server namespace. *link*: the receiving veth end's `rx_bytes` (frames "
        "as tbf counts them, dropped ones included), sampled every 5 ms, from a quarter of the "
        "bytes to the last (after slow start); it equals the tbf rate while TCP keeps the link "
        "busy. *TCP data*: the body as the reader got it, first byte to last, slow start "
        "included; at most rate x 1448 / 1514 (full frames), e.g. "
        f"{goodput_kbit(280):.0f} kbit/s of 280. Under loss one flow leaves the link idle "
        "at times (recovery, a smaller window), so both fall below. *Loss*: what the DROP "
        "rules counted over the profile's whole run (dropped / arrived), each way.",
        f"- Pages: median of {note.repeats} repeats, each figure's own median. *Cold*: a fresh "
        "browser context (empty cache, no connection yet); *warm*: a second tab in the same "
        "context right after (HTTP cache, the connection kept alive). FCP is the "
        "`first-contentful-paint` entry and *load* the navigation's `loadEventStart`, both from "
        "the navigation's start (so they include the TCP handshake). Bytes are Chromium's "
        "`encodedDataLength` (headers and compressed bodies, not TCP/IP overhead or "
        "retransmissions); requests are those that reached the network (a 304 counts, a cache "
        "hit does not).",
        "- Agent pages (`/agent/...`): the demo agent signs in before each repeat through the "
        "login form's POST sent by Playwright's request API, outside the timing and the "
        "browser's cache. Service workers are blocked, as in tests/test_pwa_browser.py: these "
        "are the figures of a first visit before the app shell is installed. The origin is "
        "treated as secure (`--unsafely-treat-insecure-origin-as-secure`) as an HTTPS node "
        "would be, but no TLS handshake is made: over HTTPS a cold visit costs one more round "
        "trip (TLS 1.3).",
    ]


def render(runs: Sequence[ProfileRun], note: RunNote) -> str:
    """The whole section."""
    return (
        "\n".join(
            [
                *_intro(note),
                *validation_table(runs),
                "",
                *summary_table(runs),
                "",
                *pages_table(runs),
                "",
                *_notes(note),
            ]
        )
        + "\n"
    )
