"""Time of an edge's public pages at realistic sizes (issue 14): `/`, `/disclosure/...`,
`/feedback`, `/news`, after two years of a busy township, rendered and kept (issue 17).

Loads the demo township (`make run`'s content) into a temp folder, then copies its rows
(new ids, dates spread over two years) up to the sizes below, and times requests in process
(HTML, SQL, Python, compression; no network) through the real app, as an anonymous resident
who chose a village: for each page, in the same run, the first request after a write (the page
cache misses: a full render) and the next one (served from memory). Prints p50/p95 and puts a
markdown section in docs/performance.md.

    .venv/bin/python -m bench.public_pages                    # sizes below, 30 renders a page
    .venv/bin/python -m bench.public_pages --scale 0.2 --runs 10 --no-doc
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient
from ulid import ULID

from bench.performance_doc import replace_section
from edge.app import create_app
from edge.kernel.page_cache import PUBLIC_PAGE
from edge.settings import Settings
from tests.bulletin_support import seed_demo
from tests.conftest import MovableClock

HEADING = "## Public pages of an edge (`bench/public_pages.py`)"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TOWNSHIP = "450521100000"
VILLAGE = "450521100202"
# rows of each table after two years of a busy township (about 20,000 residents)
SIZES = {"applications": 8000, "feedback": 2500, "news": 600, "affairs": 900, "policies": 80}
UNIQUE = {"applications": ("tracking_code",), "feedback": ("tracking_code",)}
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}  # as a phone's browser asks (brotli)
DATES = ("created_at", "updated_at", "finished_at", "published_at", "received_on")


def _spread(value: str | None, days: int) -> str | None:
    """A stored date or time moved `days` back, same format."""
    if not value:
        return value
    if len(value) == 10:
        return (datetime.fromisoformat(value) - timedelta(days=days)).date().isoformat()
    return (datetime.fromisoformat(value) - timedelta(days=days)).isoformat(timespec="seconds")


def _grow(conn: sqlite3.Connection, table: str, size: int, rng: random.Random) -> int:
    """Copy the table's demo rows until it holds `size` (an affair with its lines)."""
    conn.row_factory = sqlite3.Row
    demo = [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]
    if not demo:
        return 0
    columns = [c for c in demo[0] if c != "rev"]
    marks = ", ".join("?" * len(columns))
    added = 0
    while len(demo) + added < size:
        source = rng.choice(demo)
        row = dict(source, id=str(ULID()))
        back = rng.randrange(0, 730)
        for name in DATES:
            if name in row:
                row[name] = _spread(row[name], back)
        for name in UNIQUE.get(table, ()):
            row[name] = f"{row[name][:4]}{rng.randrange(10**7):07d}"
        try:
            conn.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                [row[c] for c in columns],
            )
        except sqlite3.IntegrityError:
            continue  # a tracking code drawn twice
        if table == "affairs":
            lines = conn.execute(
                "SELECT position, direction, label, amount_fen FROM affair_lines "
                "WHERE affair_id = ?",
                (source["id"],),
            ).fetchall()
            conn.executemany(
                "INSERT INTO affair_lines (id, affair_id, position, direction, label, amount_fen) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(str(ULID()), row["id"], *line) for line in lines],
            )
        added += 1
    return added


def _fill(settings: Settings, scale: float) -> dict[str, int]:
    rng = random.Random(14)
    with sqlite3.connect(settings.database_path) as conn:
        for table, size in SIZES.items():
            _grow(conn, table, int(size * scale), rng)
        conn.execute("ANALYZE")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SIZES}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _pages(settings: Settings) -> dict[str, str]:
    with sqlite3.connect(settings.database_path) as conn:
        one = conn.execute
        policy = one("SELECT id FROM policies LIMIT 1").fetchone()[0]
        finance = "SELECT id FROM affairs WHERE status = 'published' AND kind = 'finance'"
        affair = one(finance).fetchone()
        item = one("SELECT id FROM feedback WHERE private = 0 LIMIT 1").fetchone()[0]
        month = one("SELECT max(substr(finished_at, 1, 7)) FROM applications").fetchone()[0]
    return {
        "/ (my village)": "/",
        "/disclosure/": "/disclosure/",
        "/disclosure/powers": "/disclosure/powers",
        "/disclosure/powers/JC-01": "/disclosure/powers/JC-01",
        "/disclosure/results": "/disclosure/results",
        f"/disclosure/results?village=…&month={month}": f"/disclosure/results?village={VILLAGE}"
        f"&month={month}",
        "/disclosure/policies": "/disclosure/policies",
        "/disclosure/policies/{id}": f"/disclosure/policies/{policy}",
        "/disclosure/affairs?village=…": f"/disclosure/affairs?village={VILLAGE}",
        "/disclosure/affairs/{id} (finance)": f"/disclosure/affairs/{affair[0]}",
        "/disclosure/affairs/{id}/sheet": f"/disclosure/affairs/{affair[0]}/sheet",
        "/disclosure/elections": "/disclosure/elections",
        "/feedback": "/feedback",
        "/feedback?page=50": "/feedback?page=50",
        "/feedback?kind=complaint&state=answered": "/feedback?kind=complaint&state=answered",
        "/feedback/{id}": f"/feedback/{item}",
        "/news": "/news",
    }


Figures = dict[str, tuple[float, float, float, float]]  # render p50, p95; kept p50, p95


def _write(settings: Settings, run: int) -> None:
    """A commit by another connection, as any write of the node makes: the kept pages' content
    version moves, so the next request of each renders again."""
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_writes (run INTEGER)")
        conn.execute("INSERT INTO bench_writes (run) VALUES (?)", (run,))


def _timed(client: TestClient, path: str) -> tuple[float, bool]:
    """The request's time in ms, and whether the page is one the node keeps (PUBLIC_PAGE)."""
    start = time.perf_counter()
    response = client.get(path, headers=BROWSER)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, path
    return elapsed, response.headers.get("cache-control") == PUBLIC_PAGE


def measure(scale: float, runs: int) -> tuple[Figures, dict[str, int]]:
    """(page -> (render p50, p95, kept p50, p95 ms)), and the rows of each table."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings("lianzhou", TOWNSHIP, data_dir=Path(tmp))
        seed_demo(settings, NOW)
        sizes = _fill(settings, scale)
        print("loaded", sizes, flush=True)
        with TestClient(create_app(settings, MovableClock()), base_url="https://testserver") as c:
            c.get("/")
            c.post("/village", data={"village": VILLAGE})
            figures = {}
            for name, path in _pages(settings).items():
                _timed(c, path)  # warm (and seals a first print)
                rendered, kept = [], []
                for run in range(runs):
                    _write(settings, run)
                    rendered.append(_timed(c, path)[0])
                    elapsed, is_kept = _timed(c, path)
                    kept.append(elapsed)
                name = name if is_kept else f"{name} (not kept: both render)"
                figures[name] = (
                    _percentile(rendered, 0.5),
                    _percentile(rendered, 0.95),
                    _percentile(kept, 0.5),
                    _percentile(kept, 0.95),
                )
                print(name, " / ".join(f"{v:.1f}" for v in figures[name]), "ms", flush=True)
    return figures, sizes


def report(figures: Figures, sizes: dict[str, int], runs: int) -> str:
    load = os.getloadavg()[0]
    lines = [
        HEADING,
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared, load "
        f"average {load:.1f} at the end), Python {platform.python_version()}; "
        f"{datetime.now(UTC):%Y-%m-%d}. The demo township grown to "
        + ", ".join(f"{n:,} {k}" for k, n in sizes.items())
        + f" (copies of the demo rows spread over two years); {runs} pairs of requests per "
        "page after one warm-up, in process through the real app and Starlette's test client "
        "(HTML, SQL, templates, brotli; no network), as a resident who chose a village. Each "
        "pair, in the same run: *render* is the first request after a write by another "
        "connection (the page cache misses: the page is rendered, compressed and kept), "
        "*kept* the next request (served from memory; what a resident gets until the next "
        "write or the next minute). Command: `.venv/bin/python -m bench.public_pages`.",
        "",
        "| page | render p50 ms | render p95 ms | kept p50 ms | kept p95 ms | render / kept |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| `{name}` | {r50:.1f} | {r95:.1f} | {k50:.1f} | {k95:.1f} | {r50 / k50:.0f}x |"
            for name, (r50, r95, k50, k95) in figures.items()
        ],
        "",
        "On a shared machine the p95 is noisy (see the load average). A kept page costs the",
        "same whatever the history (most of it is the test client's own overhead; wrk against",
        "a served node is in bench/page_rate.py). A render is what the first visitor after a",
        "write waits for; every list is paged or limited in SQL (tests/test_budgets.py",
        "enforces the sizes and statement counts), so most renders cost the same whatever the",
        "history; the one that grows with it is the unfiltered `/disclosure/results`, whose",
        "count and newest-first sort run over every decided case (with the catalog and village",
        "joins): an index on `applications (finished_at)` covering the filter, or a kept count,",
        "is the next step if a township's history grows far beyond this.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    figures, sizes = measure(args.scale, args.runs)
    text = report(figures, sizes, args.runs)
    print(text)
    if not args.no_doc:
        doc = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
        replace_section(doc, HEADING, text)


if __name__ == "__main__":
    main()
