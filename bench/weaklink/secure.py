"""Resident pages through Caddy on the weak-link rig: per profile, cold and warm visits over
plain HTTP to the node, HTTPS over TCP (TLS 1.3, HTTP/2) and over QUIC (HTTP/3), in one run,
each cold visit against its round trips plus its bytes at the link's rate.
`python -m bench.weaklink.secure` (as root); puts its section in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.performance_doc import replace_section
from bench.weaklink import packages, shaping
from bench.weaklink.__main__ import built_rig, note
from bench.weaklink.caddy import CADDY, Proxy, start_caddy, trust
from bench.weaklink.edge_node import EDGE_PORT, start_edge
from bench.weaklink.profiles import BY_KEY, Profile
from bench.weaklink.rig import ROOT, Rig, RigError, remove_stale
from bench.weaklink.secure_browse import MODES, SecureLoad
from bench.weaklink.validation import Validation, start_bulk_server, validate

DOC = ROOT / "docs" / "performance.md"
SECTION = "## Weak links through Caddy (TLS 1.3, HTTP/3)"
PAGES = ["/", "/services", "/services/MZ-002", "/track"]
PROFILES = ["2g", "3g"]
REPEATS = 3
BULK_SECONDS = 5.0
LABELS = {
    "plain": "HTTP/1.1, plain",
    "tls": "TLS 1.3 over TCP",
    "h3": "HTTP/3 (QUIC)",
    "alt-svc": "Alt-Svc learned",
}


@dataclass
class Measured:
    """One profile's validation and every load of every mode."""

    profile: Profile
    checked: Validation
    loads: list[SecureLoad]

    def of(self, mode: str, path: str, visit: str) -> list[SecureLoad]:
        """The loads of one mode, page and visit."""
        return [x for x in self.loads if (x.mode, x.path, x.visit) == (mode, path, visit)]


def browse(
    rig: Rig, mode: str, urls: dict[str, str], proxy: Proxy, args: argparse.Namespace
) -> list[SecureLoad]:
    """Chromium in the client namespace, one mode; every load it measured."""
    base = urls["plain"] if mode == "plain" else proxy.url
    command = [sys.executable, "-m", "bench.weaklink.secure_browse", base, *args.pages]
    command += ["--mode", mode, "--device", rig.client.device, "--repeats", str(args.repeats)]
    command += ["--home", str(proxy.home), "--spki", *proxy.spki_hashes]
    process = rig.spawn(rig.client, command)
    assert process.stdout is not None
    loads = []
    for line in process.stdout:
        found = json.loads(line)
        if "chromium" in found:
            continue
        load = SecureLoad(**found)
        loads.append(load)
        note(
            f"  {mode} {load.visit} {load.path}: {load.protocol} {load.tls or '-'}, "
            f"FCP {(load.fcp_ms or 0) / 1000:.2f} s, connect {load.connect_ms:.0f} ms, "
            f"{load.link_bytes:,} B on the link"
        )
    process.stdout.close()
    if process.wait() != 0:
        raise RigError(f"the browser run ({mode}) exited {process.returncode}")
    rig.stop(process)
    return loads


def run_profile(
    rig: Rig, profile: Profile, urls: dict[str, str], proxy: Proxy, args: argparse.Namespace
) -> Measured:
    """Shape the link, validate it, browse in every mode, unshape."""
    shaped = shaping.apply(rig, profile)
    try:
        checked = validate(rig, profile, urls["bulk"], args.bulk_seconds)
        note(
            f"{profile.label}: ping {checked.ping.median_ms:.0f} ms, TCP data down "
            f"{checked.down.data_kbit:.0f} kbit/s"
        )
        loads = [load for mode in args.modes for load in browse(rig, mode, urls, proxy, args)]
        if not shaped.healthy():
            raise RigError("a delayer died during the run")
        return Measured(profile, checked, loads)
    finally:
        shaping.remove(rig, shaped)


def round_trips(load: SecureLoad) -> int:
    """Round trips before the document can have arrived on a new connection: TCP's handshake
    and the request (plain); TLS 1.3 over TCP adds one; QUIC's handshake is one, then the
    request."""
    return 3 if load.tls == "TLS 1.3" else 2


def limit_s(run: Measured, cold: Sequence[SecureLoad], chain_bytes: int) -> float:
    """The least time for a cold document: its round trips and its bytes (and the certificate
    chain's, over TLS) at the link's measured TCP data rate."""
    extra = chain_bytes if cold[0].tls else 0
    document = _median([x.document_bytes for x in cold])
    transfer = (document + extra) * 8 / (run.checked.down.data_kbit * 1000)
    return round_trips(cold[0]) * run.profile.rtt_ms / 1000 + transfer


def _median(values: Sequence[float | None]) -> float:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else float("nan")


def _protocols(loads: Sequence[SecureLoad]) -> str:
    seen = sorted({f"{x.protocol} {x.tls}".strip() for x in loads})
    return ", ".join(seen)


def render_profile(run: Measured, modes: Sequence[str], pages: Sequence[str], chain: int) -> str:
    """One profile's table: each mode's cold FCP against its limit, then warm."""
    rows = [
        f"**{run.profile.label}** (RTT {run.profile.rtt_ms} ms, `ping -U` median "
        f"{run.checked.ping.median_ms:.0f} ms; TCP data down {run.checked.down.data_kbit:.0f} "
        "kbit/s)",
        "",
        "| Page | Mode | Protocol | Cold FCP | Limit | FCP / limit | Handshake | Cold load "
        "| Link bytes cold | Warm FCP | Warm protocol |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for path in pages:
        for mode in modes:
            cold, warm = run.of(mode, path, "cold"), run.of(mode, path, "warm")
            if not cold:
                continue
            fcp = _median([x.fcp_ms for x in cold]) / 1000
            limit = limit_s(run, cold, chain)
            rows.append(
                f"| `{path}` | {LABELS[mode]} | {_protocols(cold)} | {fcp:.2f} s "
                f"| {limit:.2f} s | {fcp / limit:.2f} "
                f"| {_median([x.connect_ms for x in cold]):.0f} ms "
                f"| {_median([x.load_ms for x in cold]) / 1000:.2f} s "
                f"| {_median([x.link_bytes for x in cold]):,.0f} B "
                f"| {_median([x.fcp_ms for x in warm]) / 1000:.2f} s | {_protocols(warm)} |"
            )
    return "\n".join(rows)


def render_difference(run: Measured, pages: Sequence[str]) -> str:
    """Cold FCP: TLS over TCP against plain HTTP and against HTTP/3, per page."""
    rows = [
        f"| {run.profile.label} | `{path}` | "
        + " | ".join(
            f"{_median([x.fcp_ms for x in run.of(mode, path, 'cold')]) / 1000:.2f} s"
            for mode in ("plain", "tls", "h3")
        )
        + f" | {_gap(run, path, 'tls', 'plain')} | {_gap(run, path, 'tls', 'h3')} |"
        for path in pages
    ]
    return "\n".join(rows)


def _gap(run: Measured, path: str, slower: str, faster: str) -> str:
    gap = _median([x.fcp_ms for x in run.of(slower, path, "cold")]) - _median(
        [x.fcp_ms for x in run.of(faster, path, "cold")]
    )
    return f"{gap:+.0f} ms ({gap / run.profile.rtt_ms:+.2f} RTT)"


def render(
    runs: Sequence[Measured], args: argparse.Namespace, facts: dict[str, str], chain: int
) -> str:
    """The doc section."""
    parts = [
        SECTION,
        "",
        f"Measured {facts['date']}, {facts['machine']}, Chromium {facts['chromium']}, "
        f"Caddy {facts['caddy']} (Debian). Command: `{facts['command']}`; the run took "
        f"{facts['minutes']} min; load average {facts['load_before']} at the start, "
        f"{facts['load_after']} at the end (1, 5, 15 min).",
        "",
        "| Profile | Page | Cold FCP plain | TLS 1.3 (h2) | HTTP/3 | TLS - plain | TLS - HTTP/3 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    if all(mode in args.modes for mode in ("plain", "tls", "h3")):
        parts += [render_difference(run, args.pages) for run in runs]
    for run in runs:
        parts += ["", render_profile(run, args.modes, args.pages, chain)]
    parts += ["", NOTES.format(chain=chain, repeats=args.repeats)]
    return "\n".join(parts) + "\n"


NOTES = """- Rig: bench/weaklink's namespaces and shaping ("Weak links" above): tbf on each sender's
  egress and the NFQUEUE delayer and loss rules on each receiver's INPUT match every IP packet,
  UDP (QUIC) as well as TCP. Caddy runs in the server namespace (ports 80/443 of its address)
  with the Caddyfile deploy/install writes (`protocols h1 h2 h3`, `tls internal`, zstd/gzip,
  HSTS) and proxies to the node (`python -m edge serve`, demo data) on the same namespace.
- Modes: *plain* is Chromium straight to the node (HTTP/1.1, no TLS, origin treated as
  secure); *TLS 1.3 over TCP* goes through Caddy with QUIC off (`--disable-quic`), trusting
  Caddy's root through an NSS database, as a phone that has the township's root installed;
  *HTTP/3* forces QUIC on Caddy's origin (`--origin-to-force-quic-on`), the served chain's keys
  in `--ignore-certificate-errors-spki-list` (Chromium accepts a locally-trusted root for
  QUIC only that way); *Alt-Svc learned* is QUIC allowed but not forced: the first visit of a
  fresh context goes over TCP and learns Caddy's `Alt-Svc: h3`, the warm visit shows whether
  Chromium switches.
- *Limit*: the round trips before the document can have arrived on a new connection (plain:
  TCP handshake and request, 2 RTT; TLS 1.3 over TCP: 3 RTT; QUIC: 1 RTT handshake and the
  request, 2 RTT) plus the document's bytes (Chromium's `encodedDataLength`, headers and
  compressed body) and, over TLS, the served certificate chain ({chain:,} B of DER) at the
  link's measured TCP data rate. *Handshake*: the document's `connectEnd - connectStart`
  (TCP and TLS, or QUIC). *Link bytes cold*: the client's veth `rx_bytes` over the visit, all
  frames down (handshakes, the script bundle). Median of {repeats} cold (fresh context) and
  warm (second tab of that context: connection reused, HTTP cache) visits each.
"""


def _loadavg() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _caddy_version() -> str:
    done = subprocess.run([str(CADDY), "version"], capture_output=True, text=True, check=False)
    return done.stdout.split()[0] if done.stdout else "?"


def _command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python -m bench.weaklink.secure"]
    if args.profiles != PROFILES:
        parts.append("--profiles " + " ".join(args.profiles))
    if args.pages != PAGES:
        parts.append("--pages " + " ".join(args.pages))
    if args.repeats != REPEATS:
        parts.append(f"--repeats {args.repeats}")
    if args.modes != MODES:
        parts.append("--modes " + " ".join(args.modes))
    return " ".join(parts)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.weaklink.secure", description=__doc__)
    parser.add_argument("--profiles", nargs="+", choices=list(BY_KEY), default=PROFILES)
    parser.add_argument("--pages", nargs="+", default=PAGES, help="paths to load")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="visits per page (median)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=MODES)
    parser.add_argument("--bulk-seconds", type=float, default=BULK_SECONDS)
    parser.add_argument("--no-doc", action="store_true", help="do not update the doc")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, folder: Path) -> tuple[list[Measured], Proxy]:
    """Every chosen profile on one rig, one node and one Caddy."""
    with built_rig() as rig:
        edge_url = start_edge(rig, folder)
        urls = {"plain": edge_url, "bulk": start_bulk_server(rig)}
        proxy = start_caddy(rig, folder, f"{rig.server.address}:{EDGE_PORT}")
        trust(proxy)
        note(f"edge node at {edge_url}, Caddy at {proxy.url}")
        runs = [run_profile(rig, BY_KEY[key], urls, proxy, args) for key in args.profiles]
    return runs, proxy


def main(argv: Sequence[str] | None = None) -> int:
    """Check the machine, measure, print the markdown, update docs/performance.md."""
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench.weaklink.secure builds network namespaces: run it as root", file=sys.stderr)
        return 2
    packages.ensure(note)
    for name in remove_stale():
        note(f"removed {name}, left by an earlier run that died")
    load_before = _loadavg()
    folder = Path(tempfile.mkdtemp(prefix="cunban-weaklink-tls-"))
    started = time.monotonic()
    try:
        runs, proxy = measure(args, folder)
    finally:
        if args.keep:
            note(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    facts = {
        "date": date.today().isoformat(),
        "machine": f"{len(os.sched_getaffinity(0))} CPUs (`nproc`)",
        "chromium": _chromium_version(),
        "caddy": _caddy_version(),
        "command": _command(args),
        "minutes": f"{(time.monotonic() - started) / 60:.0f}",
        "load_before": load_before,
        "load_after": _loadavg(),
    }
    markdown = render(runs, args, facts, proxy.chain_der_bytes)
    print(markdown)
    if not args.no_doc:
        replace_section(DOC, SECTION, markdown)
        note(f"updated {DOC}")
    return 0


def _chromium_version() -> str:
    done = subprocess.run(["chromium", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split()[1] if done.stdout else "?"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RigError, packages.MissingPackage) as error:
        print(f"bench.weaklink.secure: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench.weaklink.secure: interrupted; the rig was removed", file=sys.stderr)
        sys.exit(130)
