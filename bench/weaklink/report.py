"""The markdown section of docs/performance.md: how the link was made, whether it matched its
profile (validation), the page loads per profile and, under its own heading, the outbox.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.weaklink.browse import Load
from bench.weaklink.measured import Median, ProfileRun, UploadMedian, upload_median
from bench.weaklink.profiles import goodput_kbit
from bench.weaklink.shaping import BURST_BYTES
from bench.weaklink.validation import PINGS, Counted

SECTION = "## Weak links: edge pages in Chromium over 2G and 3G (bench/weaklink)"
OUTBOX = "### Outbox: an intake taken in offline, sent when the link returns"


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
        "- Cold visits phase by phase (ms, medians, from the navigation's entry): *browser "
        "start* is `connectStart`; *handshake* `connectEnd - connectStart`; *node* "
        "`responseStart - requestStart` less the ping's RTT (the node's time, and any queueing "
        "on the link); *transfer* the HTML's first to last byte; *render* the first paint less "
        "the HTML's last byte (the browser's own work, on the machine's shared CPUs). *Limit*: "
        "2 RTT (ping) plus the HTML's bytes (`transferSize`, headers and encoded body) at the "
        "profile's TCP data rate. *Requests before load*: resource entries started before "
        "`loadEventStart`.",
        "- Agent pages (`/agent/...`): the demo agent signs in before each repeat through the "
        "login form's POST sent by Playwright's request API, outside the timing and the "
        "browser's cache. Service workers are blocked, as in tests/test_pwa_browser.py: these "
        "are the figures of a first visit before the app shell is installed. The origin is "
        "treated as secure (`--unsafely-treat-insecure-origin-as-secure`) as an HTTPS node "
        "would be, but no TLS handshake is made: over HTTPS a cold visit costs one more round "
        "trip (TLS 1.3).",
    ]


def _critical_row(run: ProfileRun, path: str) -> str | None:
    """One page's cold visit on one profile, phase by phase (medians), against the limit."""
    cold = [load for load in run.loads if (load.path, load.visit) == (path, "cold")]
    if not cold or not all(load.phases for load in cold):
        return None
    rtt = run.validation.ping.median_ms

    def median(figure: Callable[[Load], float]) -> float:
        return statistics.median(figure(load) for load in cold)

    def span(start: str, end: str) -> float:
        return median(lambda load: load.phases[end] - load.phases[start])

    fcp = median(lambda load: load.fcp_ms or math.nan)
    last_byte = median(lambda load: load.phases["response_end"])
    html_bytes = median(lambda load: load.phases["html_bytes"])
    limit = 2 * rtt + html_bytes * 8 / run.validation.down.data_kbit
    render = median(lambda load: (load.fcp_ms or math.nan) - load.phases["response_end"])
    cells = [
        run.profile.label,
        f"`{path}`",
        f"{median(lambda load: load.phases['connect_start']):.0f}",
        f"{span('connect_start', 'connect_end'):.0f}",
        f"{span('request_start', 'response_start') - rtt:.0f}",
        f"{span('response_start', 'response_end'):.0f}",
        f"{render:.0f}",
        f"{html_bytes:,.0f} B",
        seconds(limit),
        seconds(last_byte),
        f"{last_byte / limit:.2f}",
        seconds(fcp),
        f"{fcp / limit:.2f}",
        seconds(median(lambda load: load.load_ms)),
        f"{median(lambda load: len(load.before_load)):.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


def critical_path_table(runs: Sequence[ProfileRun]) -> list[str]:
    """Cold visits phase by phase (ms, medians): when the browser began to connect, the
    handshake, the node's time (request to first byte less the ping RTT), the HTML's transfer,
    the browser's time from the last byte to the first paint; the limit (2 RTT + the HTML's
    bytes at the TCP data rate) and first paint against it; requests started before `load`."""
    header = (
        "| Profile | Page | Browser start | Handshake | Node | Transfer | Render | HTML "
        "| Limit | Last byte | / limit | FCP | / limit | Load | Requests before load |"
    )
    rows = [
        row for run in runs for path in run.paths() if (row := _critical_row(run, path)) is not None
    ]
    return [header, "|---|---|" + "---:|" * 13, *rows] if rows else []


def pages_block(runs: Sequence[ProfileRun], note: RunNote) -> list[str]:
    """The page loads: intro, validation, the tables, how they were measured."""
    return [
        *_intro(note),
        *validation_table(runs),
        "",
        *summary_table(runs),
        "",
        *critical_path_table(runs),
        "",
        *pages_table(runs),
        "",
        *_notes(note),
    ]


def _kb(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value / 1000:,.0f} KB"


def _outbox_row(run: ProfileRun, mode: str, median: UploadMedian) -> str:
    floor_ms = median.up_bytes * 8 / run.profile.up_kbit
    what = "clean"
    if mode == "cut":
        what = (
            f"cut after {_kb(median.cut_after_bytes)}, next request "
            f"{seconds(median.retry_after_ms)} later"
        )
    return (
        f"| {run.profile.label} | {what} | {seconds(median.accepted_ms)} | {seconds(floor_ms)} "
        f"| {_kb(median.up_bytes)} ({median.up_packets:,.0f}) | {_kb(median.down_bytes)} "
        f"| {median.requests:g} ({median.photo_puts:g}) | {_kb(median.chromium_up_bytes)} "
        f"| {_kb(median.photo_bytes)} + {_kb(median.post_bytes)} |"
    )


def outbox_table(runs: Sequence[ProfileRun]) -> list[str]:
    """Per profile and mode: time to accepted, bytes each way, requests."""
    rows = []
    for run in runs:
        for mode in ("clean", "cut"):
            median = upload_median(run.uploads, mode)
            if median:
                rows.append(_outbox_row(run, mode, median))
    return [
        "| Profile | Link | Online to accepted | Up frames / up rate | Up: frames (packets) "
        "| Down: frames | Requests (photo PUTs) | Chromium: request bytes "
        "| Photos + form POST |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]


def _outbox_intro(note: RunNote) -> list[str]:
    return [
        OUTBOX,
        "",
        f"Measured {note.when}, {note.machine}, Chromium {note.chromium}, same rig and profiles "
        f"as above. Command: `{note.command}`; the run took {note.minutes:.0f} min. One CW-004 "
        "intake at a time: two camera photos (3000 x 2250 px JPEGs of smoothed noise, as in "
        "tests/test_outbox_browser.py), shrunk on the device to at most 1600 px and 300 KB, "
        "and a signature drawn on the pad (a PNG data URL in the form). Median of "
        f"{note.repeats} intakes per profile and link (clean, cut), each figure its own median.",
        "",
    ]


def _outbox_notes() -> list[str]:
    return [
        "- Device: one persistent Chromium profile per profile, service workers allowed (the "
        "outbox and Background Sync need them). The demo agent signs in through the login page, "
        "then the bench waits until the worker controls the page and keeps the intake forms. "
        "Each intake: `context.set_offline(True)`, the form filled as the browser test does "
        "(photos with `set_input_files`, the signature drawn with the mouse), submitted into "
        "the outbox (IndexedDB, shrinking done before it is kept); then "
        "`context.set_offline(False)` starts the clock, which stops when the entry's card on "
        "/agent/outbox shows `data-state=accepted`; the entry is then removed from the device. "
        "Every intake has new photos (the node keeps photos by sha256 and would not take them "
        "again). Sending is the app's own round: who is signed in and which photos the node "
        "has (one request), one PUT per photo, the form POST with the photos' tokens.",
        "- *Up frames / up rate*: the frames sent over the profile's up rate, the least time "
        "the link allows for them. *Up: frames* and *Down: frames*: the client's veth end's "
        "`tx_bytes` / `tx_packets` and `rx_bytes` from going online to accepted: Ethernet "
        "frames as tbf counts them, so TCP/IP headers, ACKs and retransmissions are in, and "
        "anything else the browser sent meanwhile. *Requests*: every request the pages and the "
        "worker made in that time (Playwright's `request` events, the worker's included). "
        "*Chromium: request bytes*: headers and bodies of those that got an answer (the cut one "
        "is not in), as Chromium counted them: `request.sizes()` for the headers, the "
        "Content-Length for the body (CDP leaves blob bodies out). *Photos + form POST*: the two "
        "shrunk photos as kept on the device and the form POST's body (fields and the "
        "signature).",
        "- *Cut*: once the client's veth has sent the first photo and half the second (photo "
        "sizes x 1514 / 1448 for full frames, plus 3 KB for the requests before and the PUT's "
        "head), each namespace's INPUT gets an `iptables -j REJECT --reject-with tcp-reset` "
        "rule for TCP to or from the node's port (resets themselves let through), so both ends "
        "see their connection reset, as when a mobile network drops a flow. The rules go after "
        "the server side has rejected a segment and then twice the round trip (at least 1 s). "
        "*cut after* is the client's bytes sent when the rules went in, *next request* the time "
        "from then to the app's next request. The round fails, the entry waits its backoff "
        "(0.25 s when no answer came at all, as here, else 5 s, doubling with each failed try "
        "while the device is online; a try that failed offline, or whose request was refused "
        "within 150 ms, does not count) and the page's next round (every 0.25 s) or a "
        "Background Sync sends it again: the node says it has the first photo, so only the "
        "second one goes again (the extra PUT), then the form.",
        "- Each intake's requests and their start times go to stderr, with the page's trace "
        "(`online` events, `navigator.onLine`, rounds, fetch and XHR) and the times of the "
        "first frames the client's veth sent.",
    ]


def outbox_block(runs: Sequence[ProfileRun], note: RunNote) -> list[str]:
    """The outbox subsection."""
    return [*_outbox_intro(note), *outbox_table(runs), "", *_outbox_notes()]


def render(runs: Sequence[ProfileRun], note: RunNote, parts: Sequence[str]) -> str:
    """The section with the parts measured in this run."""
    lines = pages_block(runs, note) if "pages" in parts else [SECTION]
    if "outbox" in parts:
        lines += ["", *outbox_block(runs, note)]
    return "\n".join(lines) + "\n"


def _blocks(section: list[str]) -> tuple[list[str], list[str]]:
    """A section's lines split at the outbox heading: (pages part, outbox part)."""
    if OUTBOX not in section:
        return section, []
    split = section.index(OUTBOX)
    return section[:split], section[split:]


def _section(doc: str) -> list[str]:
    lines = doc.splitlines()
    if SECTION not in lines:
        return []
    start = lines.index(SECTION)
    ends = [i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")]
    return lines[start : ends[0] if ends else len(lines)]


def merge(doc: str, markdown: str, parts: Sequence[str]) -> str:
    """The section for the doc: the parts measured now, the others as the doc has them."""
    old_pages, old_outbox = _blocks(_section(doc))
    new_pages, new_outbox = _blocks(markdown.splitlines())
    pages = new_pages if "pages" in parts or not old_pages else old_pages
    outbox = new_outbox if "outbox" in parts else old_outbox
    lines = [*_trimmed(pages), *(["", *_trimmed(outbox)] if outbox else [])]
    return "\n".join(lines) + "\n"


def _trimmed(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines
