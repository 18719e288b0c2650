"""Where an outbox photo PUT's time goes on the node, phase by phase, in this process: the
answer after the re-encode (decode, re-encode, thumbnail, two blob writes, commit) against the
early answer (`Prefer: respond-async`: header check, one durable write of the bytes as sent,
commit). Run `.venv/bin/python -m bench.outbox_put [--repeats N] [--no-doc]`; prints a markdown
section and puts it in docs/performance.md under its own heading.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from PIL import Image

from bench.performance_doc import replace_section
from edge.blobs import images
from edge.kernel.blobstore import BlobStore
from edge.kernel.db import connect_sync

DEVICE_MAX_BYTES = 300_000  # what static/js/photo.js sends, long side 1600 px
SECTION = "## Outbox photo PUT on the node (bench/outbox_put.py)"
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def device_photo(seed: int) -> bytes:
    """A photo as the app sends it: 1600 x 1200 JPEG of smoothed noise, at most 300 KB."""
    noise = random.Random(seed).randbytes(300 * 225 * 3)
    image = Image.frombytes("RGB", (300, 225), noise).resize((1600, 1200), Image.BILINEAR)
    for quality in range(90, 10, -5):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= DEVICE_MAX_BYTES:
            return buffer.getvalue()
    raise RuntimeError("cannot fit the photo")


Phases = dict[str, list[float]]


@contextmanager
def _timed(phases: Phases, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    phases.setdefault(name, []).append((time.perf_counter() - started) * 1000)


def _commit(conn: sqlite3.Connection, sent: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO put_rows VALUES (?, ?)", (sent, time.time()))
    conn.execute("COMMIT")


def _after_reencode(raw: bytes, blobs: BlobStore, conn: sqlite3.Connection, at: Phases) -> None:
    with _timed(at, "sha256 of the body"):
        sent = hashlib.sha256(raw).hexdigest()
    with _timed(at, "decode (draft) and shrink"):
        image = images._decode(raw, 15_000_000, images.PHOTO_LONG_SIDE)
    with _timed(at, "re-encode (quality 80, progressive)"):
        data = images._jpeg(image, images.PHOTO_QUALITY)
    with _timed(at, "thumbnail"):
        thumb = images._thumbnail(image)
    with _timed(at, "two blob writes + fsync"):
        blobs.put(data)
        blobs.put(thumb)
    with _timed(at, "commit (WAL, synchronous=FULL)"):
        _commit(conn, sent)


def _early(raw: bytes, received: BlobStore, conn: sqlite3.Connection, at: Phases) -> None:
    with _timed(at, "sha256 of the body"):
        sent = hashlib.sha256(raw).hexdigest()
    with _timed(at, "header check"):
        images.check_photo(raw)
    with _timed(at, "one write of the bytes as sent + fsync"):
        received.put(raw)
    with _timed(at, "commit (WAL, synchronous=FULL)"):
        _commit(conn, sent)


def measure(repeats: int, folder: Path) -> dict[str, Phases]:
    """Both paths, `repeats` photos each, phases in ms."""
    conn = connect_sync(folder / "edge.db")
    conn.execute("CREATE TABLE put_rows (sha TEXT, at REAL)")
    blobs, received = BlobStore(folder / "blobs"), BlobStore(folder / "received")
    after: Phases = {}
    early: Phases = {}
    for n in range(repeats):
        _after_reencode(device_photo(n), blobs, conn, after)
        _early(device_photo(repeats + n), received, conn, early)
    conn.close()
    return {"answer after the re-encode": after, "early answer (respond-async)": early}


def render(runs: dict[str, Phases], repeats: int) -> str:
    """Medians per phase and the total per path."""
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        SECTION,
        "",
        f"Measured {date.today().isoformat()}, {os.cpu_count()} CPUs, in one process (no HTTP): "
        f"{repeats} device-sized photos per path (1600 x 1200 JPEG, <= 300 KB), medians in ms, "
        f"load average {load}:",
        "",
        "| Path | Phase | Median |",
        "|---|---|---:|",
    ]
    for path, phases in runs.items():
        for phase, values in phases.items():
            lines.append(f"| {path} | {phase} | {statistics.median(values):.1f} |")
        totals = [sum(values[i] for values in phases.values()) for i in range(repeats)]
        lines.append(f"| {path} | **total** | **{statistics.median(totals):.1f}** |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(prog="python -m bench.outbox_put", description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-doc", action="store_true", help="do not update the doc")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cunban-outbox-put-") as folder:
        markdown = render(measure(args.repeats, Path(folder)), args.repeats)
    print(markdown)
    if not args.no_doc:
        replace_section(DOC, SECTION, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
