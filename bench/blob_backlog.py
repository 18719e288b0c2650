"""Photo backlog under sustained intake: how far the store's photos lag the edge database.

Run `.venv/bin/python -m bench.blob_backlog --help`. Prints a markdown section to stdout and
puts it in docs/performance.md under its own heading (`--label` names the code measured).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from bench.performance_doc import replace_section
from tests.cluster import ROOT, Cluster, wait_for
from tests.conftest import AGENT_QIANJIANG, login
from tests.intake_support import intake_data, open_form

SECTION = "## Photo backlog (bench/blob_backlog.py)"
DOC = ROOT / "docs" / "performance.md"
NODE = "lianzhou"
ITEM = "CW-004"  # two required photos (ID card, hukou book) and the signed form: 3 photos
MATERIALS = ("id_card", "hukou_book")
SAMPLE_SECONDS = 0.5


@dataclass
class Run:
    """What one run saw: backlog samples (age of the oldest photo not uploaded, s), intakes."""

    label: str
    ages: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    accepted: int = 0
    refused: int = 0
    photo_bytes: list[int] = field(default_factory=list)
    drained_after: float | None = None
    left: int = 0
    seconds: float = 0.0


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def photo(rnd: random.Random) -> bytes:
    """A unique 1600x1200 JPEG whose re-encoded form is about 190-290 KB (smooth noise)."""
    width = rnd.randrange(50, 111)
    small = (width, width * 3 // 4)
    image = Image.frombytes("RGB", small, os.urandom(small[0] * small[1] * 3))
    buffer = io.BytesIO()
    image.resize((1600, 1200), Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class Agent(requests.Session):
    """A browser of the node at `base`: paths as the tests write them, no redirects followed."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["allow_redirects"] = kwargs.pop("follow_redirects", False)
        kwargs.setdefault("timeout", 60)
        return super().request(method, f"{self.base}{url!s}", *args, **kwargs)


def agent(url: str) -> Agent:
    client = Agent(url)
    response = login(client, AGENT_QIANJIANG)
    assert response.status_code == 303, response.text
    return client


def intake(client: Agent, rnd: random.Random, run: Run) -> None:
    """One intake through the real form: two material photos and a photographed signed form."""
    token, key = open_form(client, ITEM)
    photos = [photo(rnd) for _ in range(3)]
    files = [
        (f"material_{key}", (f"{key}.jpg", data, "image/jpeg"))
        for key, data in zip(MATERIALS, photos, strict=False)
    ]
    files.append(("signature_photo", ("signed.jpg", photos[2], "image/jpeg")))
    data = intake_data(ITEM) | {"csrf_token": token, "idempotency_key": key}
    response = client.post(f"/agent/apply/{ITEM}", data=data, files=files)
    if response.status_code == 303:
        run.accepted += 1
    else:
        run.refused += 1


def backlog(database: Path) -> tuple[int, float]:
    """(photos not uploaded, age in s of the oldest of them) as central's /nodes computes it."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        count, oldest = conn.execute(
            "SELECT count(*), min(created_at) FROM blobs WHERE uploaded_at IS NULL"
        ).fetchone()
    finally:
        conn.close()
    if oldest is None:
        return 0, 0.0
    return count, max(0.0, time.time() - datetime.fromisoformat(oldest).timestamp())


def sample(database: Path, run: Run, stop: threading.Event) -> None:
    while not stop.wait(SAMPLE_SECONDS):
        count, age = backlog(database)
        run.counts.append(count)
        run.ages.append(age)


def drive(url: str, rate: float, seconds: float, run: Run) -> None:
    """Start an intake every 1/rate s (on schedule, from a few agents at once) for `seconds`."""
    clients = [agent(url) for _ in range(4)]
    free = list(clients)
    lock = threading.Lock()

    def one(n: int) -> None:
        with lock:
            client = free.pop()
        try:
            intake(client, random.Random(n), run)
        finally:
            with lock:
                free.append(client)

    started = time.monotonic()
    with ThreadPoolExecutor(len(clients)) as pool:
        n = 0
        while (due := started + n / rate) < started + seconds:
            time.sleep(max(0.0, due - time.monotonic()))
            pool.submit(one, n)
            n += 1
    run.seconds = time.monotonic() - started
    for client in clients:
        client.close()


def measure(label: str, rate: float, seconds: float, settle: float, root: Path) -> Run:
    cluster = Cluster(root, tuning={})
    run = Run(label)
    try:
        cluster.start_store()
        edge = cluster.add_edge(NODE)
        cluster.start_edge(NODE, parts=("web", "worker"))
        database = edge.data_dir / "edge.db"
        wait_for(lambda: database.exists(), 60, "the edge database")
        wait_for(lambda: backlog(database)[0] == 0, 120, "the demo's photos in the store")
        stop = threading.Event()
        sampler = threading.Thread(target=sample, args=(database, run, stop), daemon=True)
        sampler.start()
        note(f"{label}: {rate} intakes/s for {seconds:.0f} s")
        drive(edge.url, rate, seconds, run)
        ended = time.monotonic()
        while time.monotonic() < ended + settle and backlog(database)[0]:
            time.sleep(0.2)
        stop.set()
        sampler.join()
        run.left = backlog(database)[0]
        run.drained_after = None if run.left else time.monotonic() - ended
        with sqlite3.connect(database) as conn:
            run.photo_bytes = [
                row[0] for row in conn.execute("SELECT bytes FROM blobs WHERE bytes > 20000")
            ]
    finally:
        cluster.stop()
    return run


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)] if ordered else 0.0


def row(run: Run, rate: float) -> str:
    drained = f"{run.drained_after:.1f} s" if run.drained_after is not None else "not drained"
    return (
        f"| {run.label} | {run.accepted} ({run.accepted / run.seconds:.2f}/s) | "
        f"{statistics.median(run.photo_bytes) / 1000:.0f} KB | {p95(run.ages):.1f} s | "
        f"{max(run.ages, default=0):.1f} s | {max(run.counts, default=0)} | {drained} "
        f"({run.left} left) |"
    )


def render(rows: Sequence[str], args: argparse.Namespace) -> str:
    return "\n".join(
        [
            SECTION,
            "",
            f"Measured {date.today().isoformat()}, {os.cpu_count()} CPUs (`nproc`, shared with "
            "other work), SeaweedFS (S3 on loopback, `python -m replication.store`). One edge "
            "(`python -m edge serve` and `python -m edge worker`, real processes from "
            "tests/cluster.py); four agents post complete intakes of "
            f"{ITEM} (two material photos and a photographed signed form, each a unique "
            "1600x1200 JPEG the node re-encodes) through the real form on a fixed schedule of "
            f"{args.rate} intakes/s for {args.seconds:.0f} s. Command: "
            f"`.venv/bin/python -m bench.blob_backlog --seconds {args.seconds:.0f}`.",
            "",
            "| Code | Intakes accepted | Median photo | Backlog p95 | Backlog max | "
            "Most photos waiting | Drained after the load |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "- Backlog: sampled every 0.5 s as /nodes computes it, the age of the oldest blob "
            "(photos and their thumbnails) whose `uploaded_at` is not set; `created_at` has "
            "second precision, so each figure is within 1 s.",
            f"- Drained: time after the last intake until nothing waits (given up after "
            f"{args.settle:.0f} s).",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.blob_backlog", description=__doc__)
    parser.add_argument("--rate", type=float, default=2.0, help="intakes per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to post")
    parser.add_argument("--settle", type=float, default=60.0, help="wait for the drain (s)")
    parser.add_argument("--label", default="this branch", help="the code measured")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    parser.add_argument("--save", type=Path, help="also write this run's table row here")
    parser.add_argument(
        "--baseline", type=Path, help="a row saved by a run of other code, shown first"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cunban-blobs-") as folder:
        run = measure(args.label, args.rate, args.seconds, args.settle, Path(folder))
    mine = row(run, args.rate)
    if args.save:
        args.save.write_text(mine + "\n", encoding="utf-8")
    rows = [args.baseline.read_text(encoding="utf-8").strip()] if args.baseline else []
    section = render([*rows, mine], args)
    print(section)
    if not args.no_doc:
        replace_section(DOC, SECTION, section)
    note(f"measured at {datetime.now(UTC):%H:%M:%S}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
