"""Login bursts: N browsers post the same phone's login at once to a real edge web process;
how long each waits, and what a burst of wrong passwords gets."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx2

from bench.performance_doc import replace_section
from edge.accounts.demo_people import DEMO_PASSWORD
from edge.kernel.auth.lockout import WAIT_SECONDS
from edge.kernel.auth.passwords import _hasher, hash_password, verify_password
from tests.cluster import ROOT, Cluster
from tests.conftest import AGENT_QIANJIANG, STAFF

DOC = ROOT / "docs" / "performance.md"
SECTION = "## Login bursts (bench/login_burst.py)"
WRONG = "wrong-password"


@dataclass(frozen=True)
class Burst:
    """One burst's outcome: each request's status and seconds, and the burst's wall time."""

    statuses: list[int]
    seconds: list[float]
    wall: float


async def _browser(url: str) -> httpx2.AsyncClient:
    client = httpx2.AsyncClient(base_url=url, timeout=60)
    await client.get("/login")  # signed out, the form has no token: its visitor cookie counts
    return client


async def _timed_post(client: httpx2.AsyncClient, phone: str, password: str) -> tuple[int, float]:
    start = time.perf_counter()
    data = {"phone": phone, "password": password}
    response = await client.post("/login", data=data, follow_redirects=False)
    return response.status_code, time.perf_counter() - start


async def burst(url: str, phone: str, password: str, size: int) -> Burst:
    """`size` browsers, each with its own cookies and form, post at the same moment."""
    browsers = [await _browser(url) for _ in range(size)]
    try:
        start = time.perf_counter()
        answers = await asyncio.gather(
            *(_timed_post(client, phone, password) for client in browsers)
        )
        wall = time.perf_counter() - start
    finally:
        for client in browsers:
            await client.aclose()
    return Burst([status for status, _ in answers], [seconds for _, seconds in answers], wall)


def verify_seconds(rounds: int = 10) -> float:
    """The median time of one Argon2id verify with the project's parameters, in this process."""
    stored = hash_password(DEMO_PASSWORD)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        verify_password(stored, DEMO_PASSWORD)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _statuses(bursts: Sequence[Burst]) -> str:
    counted = Counter(status for one in bursts for status in one.statuses)
    return ", ".join(f"{count}× {status}" for status, count in sorted(counted.items()))


def _row(label: str, bursts: Sequence[Burst]) -> str:
    seconds = [s for one in bursts for s in one.seconds]
    return (
        f"| {label} | {len(bursts)} | {_statuses(bursts)} | {statistics.median(seconds):.2f} s "
        f"| {max(seconds):.2f} s | {statistics.median(one.wall for one in bursts):.2f} s |"
    )


async def measure(url: str, sizes: Sequence[int], wrong: int, repeats: int) -> list[str]:
    """The table rows: right-password bursts of each size, then one wrong-password burst."""
    rows = []
    for size in sizes:
        bursts = [await burst(url, STAFF, DEMO_PASSWORD, size) for _ in range(repeats)]
        rows.append(_row(f"{size} right passwords", bursts))
    wrong_burst = await burst(url, AGENT_QIANJIANG, WRONG, wrong)
    rows.append(_row(f"{wrong} wrong passwords", [wrong_burst]))
    return rows


def render(rows: list[str], verify: float, load: float, args: argparse.Namespace) -> str:
    """The markdown section; `load` is the 1-minute load average when the bursts began."""
    cpus = os.cpu_count()
    return "\n".join(
        [
            SECTION,
            "",
            f"Measured {date.today().isoformat()}, {cpus} CPUs (`nproc`), Python "
            f"{platform.python_version()}, load average {load:.1f} at the start (the machine is "
            "shared). One edge web process (`python -m edge serve`, demo "
            "data, uvicorn on loopback); each request from its own client (cookies), "
            f"all of a burst posted at once. Command: `.venv/bin/python -m bench.login_burst "
            f"--repeats {args.repeats}`.",
            "",
            "| Burst (same phone) | Bursts | Answers | Latency p50 | Latency max | Burst wall "
            "(median) |",
            "|---|---:|---|---:|---:|---:|",
            *rows,
            "",
            f"- One Argon2id verify (time cost {_hasher.time_cost}, memory "
            f"{_hasher.memory_cost // 1024} MiB, parallelism {_hasher.parallelism}): "
            f"{verify * 1000:.0f} ms median in one process.",
            "- At most 5 checks of a phone run or have failed at once (the attempt limit), so a "
            "burst of right passwords runs in waves of 5; a request waits for a free check, first "
            f"come first served, up to {WAIT_SECONDS:.0f} s, then gets 503 with `Retry-After`. "
            "Wrong passwords: 5 checks, then the lock (401 for the first four, 429 for the rest).",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.login_burst", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--wrong", type=int, default=20, help="size of the wrong-password burst")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-doc", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start an edge, run the bursts, print the section and write it into the doc."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cunban-login-") as root:
        cluster = Cluster(Path(root), store="file")
        edge = cluster.add_edge("lianzhou")
        try:
            cluster.start_edge("lianzhou", ("web",))
            load = os.getloadavg()[0]
            rows = asyncio.run(measure(edge.url, args.sizes, args.wrong, args.repeats))
        finally:
            cluster.stop()
    markdown = render(rows, verify_seconds(), load, args)
    print(markdown)
    if not args.no_doc:
        replace_section(DOC, SECTION, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
