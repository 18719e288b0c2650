"""Run the weak-link bench: build the rig, start the edge node, and per profile validate the
link, load the pages and send offline intakes from the outbox in Chromium; print the markdown
and put it in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType

from bench.performance_doc import replace_section
from bench.weaklink import packages, shaping
from bench.weaklink.browse import Load
from bench.weaklink.edge_node import start_edge
from bench.weaklink.measured import ProfileRun
from bench.weaklink.outbox_runner import MODES, send_intakes
from bench.weaklink.profiles import BY_KEY, PROFILES, Profile
from bench.weaklink.report import SECTION, RunNote, merge, render
from bench.weaklink.rig import ROOT, Rig, RigError, namespaces, remove_stale
from bench.weaklink.validation import count_loss, start_bulk_server, validate

DOC = ROOT / "docs" / "performance.md"
PARTS = ["pages", "outbox"]
PAGES = ["/", "/services", "/services/MZ-002", "/track", "/agent/", "/agent/apply/MZ-002"]
REPEATS = 3
BULK_SECONDS = 5.0
STARTED = time.monotonic()


def note(message: str) -> None:
    """Progress on stderr, with the seconds since start."""
    print(f"[weaklink {time.monotonic() - STARTED:6.0f} s] {message}", file=sys.stderr, flush=True)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def built_rig() -> Iterator[Rig]:
    """The rig for this run; torn down however the run ends (Ctrl-C, SIGTERM and SIGHUP too,
    even where the shell started this runner with SIGINT ignored)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupted)
    rig = Rig.named_for(os.getpid())
    try:
        note(f"namespaces {rig.server.namespace} and {rig.client.namespace}")
        rig.build()
        yield rig
    finally:
        with _uninterrupted():
            rig.destroy()
        mine = {rig.server.namespace, rig.client.namespace}
        note(f"rig removed; namespaces of this run left: {sorted(mine & set(namespaces()))}")


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP while the teardown runs."""
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {signum: signal.signal(signum, signal.SIG_IGN) for signum in stops}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def browse(rig: Rig, url: str, paths: Sequence[str], repeats: int) -> tuple[str, list[Load]]:
    """Chromium in the client namespace; its version and every load it measured."""
    command = [sys.executable, "-m", "bench.weaklink.browse", url, *paths]
    process = rig.spawn(rig.client, [*command, "--repeats", str(repeats)])
    assert process.stdout is not None
    version, loads = "", []
    for line in process.stdout:
        found = json.loads(line)
        if "chromium" in found:
            version = found["chromium"]
            continue
        loads.append(Load(**found))
        note(
            f"  {found['visit']} {found['path']}: load {found['load_ms'] / 1000:.2f} s, "
            f"{found['wire_bytes']:,} B; {critical_path(loads[-1])}"
        )
    if process.wait() != 0:
        raise RigError(f"the browser run exited {process.returncode}")
    rig.stop(process)
    return version, loads


def critical_path(load: Load) -> str:
    """One load's timeline in ms: handshake, request to first byte, last byte, first paint,
    load, and each subresource that started before `load` (start-end)."""
    at = load.phases
    if not at:
        return ""
    early = " ".join(f"{path}@{start:.0f}-{end:.0f}" for path, start, end in load.before_load)
    fcp = f"{load.fcp_ms:.0f}" if load.fcp_ms is not None else "-"
    return (
        f"connect {at['connect_start']:.0f}-{at['connect_end']:.0f}, "
        f"request {at['request_start']:.0f}, first byte {at['response_start']:.0f}, "
        f"last byte {at['response_end']:.0f}, FCP {fcp}, load {load.load_ms:.0f}; "
        f"before load: {early or 'none'}"
    )


def run_profile(
    rig: Rig, profile: Profile, urls: tuple[str, str], args: argparse.Namespace
) -> tuple[str, ProfileRun]:
    """Shape the link, validate it, load the pages, send the intakes, count the loss, unshape."""
    edge_url, bulk_url = urls
    shaped = shaping.apply(rig, profile)
    try:
        note(shaping.describe(rig, profile))
        checked = validate(rig, profile, bulk_url, args.bulk_seconds)
        note(
            f"{profile.label}: ping {checked.ping.median_ms:.0f} ms, link down "
            f"{checked.down.link_kbit:.0f} kbit/s, up {checked.up.link_kbit:.0f} kbit/s"
        )
        version, loads, uploads = "", [], []
        if "pages" in args.parts:
            version, loads = browse(rig, edge_url, args.pages, args.repeats)
        if "outbox" in args.parts:
            seed = 1000 * PROFILES.index(profile)  # new photos: the node keeps those it has
            version, uploads = send_intakes(
                rig, profile, edge_url, args.repeats, seed, note, args.outbox_modes
            )
        if not shaped.healthy():
            raise RigError("a delayer died during the run")
        down, up = count_loss(rig.client), count_loss(rig.server)
        return version, ProfileRun(profile, checked, down, up, loads, uploads)
    finally:
        shaping.remove(rig, shaped)


def measure(args: argparse.Namespace, folder: Path) -> tuple[str, list[ProfileRun]]:
    """Every chosen profile on one rig and one edge node."""
    runs, version = [], ""
    with built_rig() as rig:
        urls = (start_edge(rig, folder), start_bulk_server(rig))
        note(f"edge node at {urls[0]}, bulk server at {urls[1]}")
        for key in args.profiles:
            version, run = run_profile(rig, BY_KEY[key], urls, args)
            runs.append(run)
    return version, runs


def _command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python -m bench.weaklink"]
    if args.repeats != REPEATS:
        parts.append(f"--repeats {args.repeats}")
    if args.bulk_seconds != BULK_SECONDS:
        parts.append(f"--bulk-seconds {args.bulk_seconds:g}")
    if args.profiles != [profile.key for profile in PROFILES]:
        parts.append("--profiles " + " ".join(args.profiles))
    if args.pages != PAGES and "pages" in args.parts:
        parts.append("--pages " + " ".join(args.pages))
    if args.parts != PARTS:
        parts.append("--only " + " ".join(args.parts))
    return " ".join(parts)


def run_note(args: argparse.Namespace, chromium: str) -> RunNote:
    """Date, machine, browser and command of this run."""
    machine = (
        f"{len(os.sched_getaffinity(0))} CPUs (`nproc`), Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )
    minutes = (time.monotonic() - STARTED) / 60
    return RunNote(
        date.today().isoformat(),
        machine,
        chromium,
        _command(args),
        minutes,
        args.repeats,
        args.bulk_seconds,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.weaklink", description=__doc__)
    parser.add_argument("--repeats", type=int, default=REPEATS, help="loads per page (median)")
    parser.add_argument(
        "--profiles", nargs="+", choices=list(BY_KEY), default=[p.key for p in PROFILES]
    )
    parser.add_argument("--pages", nargs="+", default=PAGES, help="paths to load")
    parser.add_argument(
        "--only",
        dest="parts",
        nargs="+",
        choices=PARTS,
        default=PARTS,
        help="measure only these (the doc keeps the other's figures)",
    )
    parser.add_argument(
        "--bulk-seconds", type=float, default=BULK_SECONDS, help="length of each bulk transfer"
    )
    parser.add_argument(
        "--outbox-modes",
        nargs="+",
        choices=MODES,
        default=MODES,
        help="outbox intakes: clean, cut mid second photo, or both",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update the doc")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (edge log)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Check the machine, measure, print the markdown, update docs/performance.md."""
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench.weaklink builds network namespaces: run it as root", file=sys.stderr)
        return 2
    packages.ensure(note)
    for name in remove_stale():
        note(f"removed {name}, left by an earlier run that died")
    folder = Path(tempfile.mkdtemp(prefix="cunban-weaklink-"))
    try:
        chromium, runs = measure(args, folder)
    finally:
        if args.keep:
            note(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    markdown = render(runs, run_note(args, chromium), args.parts)
    print(markdown)
    if not args.no_doc:
        text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        replace_section(DOC, SECTION, merge(text, markdown, args.parts))
        note(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RigError, packages.MissingPackage) as error:
        print(f"bench.weaklink: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench.weaklink: interrupted; the rig was removed", file=sys.stderr)
        sys.exit(130)
