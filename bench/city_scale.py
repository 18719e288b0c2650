"""City scale: N simulated townships replicated by real Litestream to SeaweedFS, and central's
follow process(es); replication lag p50/p95, central RSS and CPU, the store's CPU, ingest rate.

Each township is a real edge database (a copy of one migrated demo node, its own store identity
and replica prefix); one `litestream replicate` process replicates them all (in a city each
township runs its own), and a writer process commits each node's heartbeat every `--beat` s and
an application (with steps, attachments and a chained audit row) every `--app-every` s, phases
spread at random. Central is `python -m central follow` (one per `--shards`) on a central.db
where the N nodes are registered. Run `.venv/bin/python -m bench.city_scale --help`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.edge_rows import copy_application, load_template
from bench.performance_doc import replace_section
from central.settings import CentralSettings
from edge.kernel.db import connect_sync
from edge.settings import Settings
from replication.generations import replica_prefix
from replication.litestream import child_environ, die_with_parent, litestream_binary
from replication.objectstore import ObjectStore, open_store
from tests.cluster import PYTHON, ROOT, Cluster, store_port_block, wait_for, wait_for_port

SECTION = "## City scale (bench/city_scale.py)"
DOC = ROOT / "docs" / "performance.md"
SAMPLE_SECONDS = 2.0
TICK = os.sysconf("SC_CLK_TCK")


def note(message: str) -> None:
    """Progress on stderr (stdout is the markdown)."""
    print(f"[city {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def node_ids(count: int) -> list[str]:
    """The simulated townships' node ids."""
    return [f"t{number:03d}" for number in range(1, count + 1)]


@dataclass
class City(Cluster):
    """The store with one identity per simulated township, their Litestream, writer, central."""

    nodes: list[str] = field(default_factory=list)

    def start_store(self) -> None:
        """SeaweedFS with an identity per township plus central."""
        self.store_port = self.store_port or store_port_block()
        identities = [f"--identity={n}={n}:{self.secret(n)}" for n in ["central", *self.nodes]]
        argv = [PYTHON, "-m", "replication.store", f"--dir={self.root / 'store'}"]
        self.spawn("store", [*argv, f"--port={self.store_port}", *identities], {})
        wait_for_port(self.store_port, 60)
        time.sleep(0.5)

    def spawn(self, name: str, argv: list[str], environ: dict[str, str]) -> None:
        """As the cluster does, without AWS_CA_BUNDLE (Litestream's S3 client breaks on it)."""
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / f"{name}.log").open("ab") as out:
            self.processes[name] = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=child_environ() | environ,
                stdout=out,
                stderr=out,
                preexec_fn=die_with_parent,
            )

    def alive(self) -> bool:
        """True, or fail at once when a process of the city died."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited: {self.log(name)[-1500:]}")
        return True

    def edge_db(self, node_id: str) -> Path:
        """A township's database."""
        return self.root / "edges" / node_id / "edge.db"

    def litestream_config(self, monitor_ms: int, sync_ms: int) -> Path:
        """One Litestream config replicating every township, each with its own keys."""
        endpoint = f"http://127.0.0.1:{self.store_port}"
        dbs = [
            {
                "path": str(self.edge_db(n)),
                "monitor-interval": f"{monitor_ms}ms",
                "replica": {
                    "type": "s3",
                    "bucket": "cunban",
                    "path": replica_prefix(n, 1),
                    "endpoint": endpoint,
                    "region": "us-east-1",
                    "force-path-style": True,
                    "sync-interval": f"{sync_ms}ms",
                    "access-key-id": n,
                    "secret-access-key": self.secret(n),
                },
            }
            for n in self.nodes
        ]
        path = self.root / "litestream.yml"
        path.write_text(json.dumps({"dbs": dbs}), encoding="utf-8")
        return path

    def follow_environ(self, profile: Profile) -> dict[str, str]:
        """Central's settings for the follow process(es)."""
        return {
            "CUNBAN_CENTRAL_DATA_DIR": str(self.root / "central"),
            "CUNBAN_CENTRAL_NODES": "",
            "CUNBAN_CENTRAL_LOG_LEVEL": "info",  # the turn phases, once a minute
            "CUNBAN_CENTRAL_FOLLOW_MODE": profile.mode,
            "CUNBAN_CENTRAL_FOLLOW_RESTORE": profile.restore,
            "CUNBAN_CENTRAL_FOLLOW_INTERVAL_MS": str(profile.follow_ms),
            "CUNBAN_CENTRAL_INGEST_MS": str(profile.follow_ms),
            "CUNBAN_CENTRAL_STORE": "s3",
            "CUNBAN_CENTRAL_S3_ENDPOINT": f"http://127.0.0.1:{self.store_port}",
            "CUNBAN_CENTRAL_S3_ACCESS_KEY": "central",
            "CUNBAN_CENTRAL_S3_SECRET_KEY": self.secret("central"),
        }


@dataclass(frozen=True)
class Profile:
    """One configuration measured: the follow design, shards and the intervals."""

    mode: str
    shards: int
    monitor_ms: int
    sync_ms: int
    follow_ms: int
    restore: str = "ltx"

    @property
    def label(self) -> str:
        """How the doc names it."""
        shards = f", {self.shards} shards" if self.shards > 1 else ""
        restore = f", restore {self.restore}" if self.mode == "poll" else ""
        return (
            f"{self.mode}{shards}{restore}; monitor {self.monitor_ms} / sync {self.sync_ms} / "
            f"follow {self.follow_ms} ms"
        )


def make_edges(city: City, template: Path) -> None:
    """A demo edge database, copied for every township."""
    settings = Settings(node_id="t000", township_code="450521100000", data_dir=template)
    if not settings.database_path.exists():
        import asyncio

        from edge.demo import load_demo_node

        asyncio.run(load_demo_node(settings, datetime.now(UTC), applications=True))
        with closing(connect_sync(settings.database_path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for node_id in city.nodes:
        target = city.edge_db(node_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(settings.database_path, target)


def register(city: City, environ: dict[str, str]) -> None:
    """central.db migrated, with every simulated township registered."""
    subprocess.run(
        [PYTHON, "-m", "central", "migrate"],
        cwd=ROOT,
        env={**os.environ, **environ},
        check=True,
        capture_output=True,
    )
    with closing(sqlite3.connect(city.root / "central" / "central.db")) as conn:
        conn.executemany(
            "INSERT INTO nodes (node_id, township_code, township_zh, township_en, county_zh, "
            "county_en, base_url, registered_at) VALUES (?, ?, ?, ?, '合浦县', 'Hepu', ?, ?) "
            "ON CONFLICT DO NOTHING",
            [
                (n, f"45099{i:07d}", f"模拟镇{i}", f"Town {i}", f"http://127.0.0.1/{n}", "2026")
                for i, n in enumerate(city.nodes, start=1)
            ],
        )
        conn.commit()


def write_loop(root: Path, nodes: list[str], beat: float, app_every: float) -> None:
    """The townships' writes until killed: a heartbeat every `beat` s, an application every
    `app_every` s per node, each at a random phase."""
    conns = {n: connect_sync(root / "edges" / n / "edge.db") for n in nodes}
    template = load_template(conns[nodes[0]])
    now = time.monotonic()
    next_beat = {n: now + random.uniform(0, beat) for n in nodes}
    next_app = {n: now + random.uniform(0, app_every) for n in nodes}
    while True:
        now = time.monotonic()
        for n, conn in conns.items():
            if now >= next_beat[n] and write_due(conn, lambda c: beat_now(c)):
                next_beat[n] += beat
            if now >= next_app[n] and write_due(conn, lambda c: copy_application(c, template)):
                next_app[n] += app_every
        time.sleep(0.02)


def beat_now(conn: sqlite3.Connection) -> None:
    """The node's heartbeat, stamped now (as the edge's sync loop writes it)."""
    conn.execute(
        "INSERT INTO heartbeat (id, beat_ms) VALUES (1, ?) ON CONFLICT (id) "
        "DO UPDATE SET beat_ms = excluded.beat_ms",
        (int(time.time() * 1000),),
    )


def write_due(conn: sqlite3.Connection, write: Callable[[sqlite3.Connection], None]) -> bool:
    """One write in its own transaction; False when the database stayed locked past the busy
    timeout (the edge's Litestream checkpointing on a loaded machine): tried again next tick."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        write(conn)
        conn.execute("COMMIT")
    except sqlite3.OperationalError:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return False
    return True


def tree(pid: int) -> list[int]:
    """`pid` and its live descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                continue
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of the processes and their descendants (reaped ones included)."""
    total = 0
    for root in pids:
        for pid in tree(root):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(v) for v in fields[11:15])
    return total / TICK


def rss_mb(pids: Sequence[int]) -> float:
    """Resident memory of the processes and their live descendants, MB."""
    total = 0
    for root in pids:
        for pid in tree(root):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")),
                0,
            )
    return total / 1024


@dataclass
class Result:
    """What one profile measured."""

    profile: Profile
    nodes: int
    lags_ms: list[int]
    rss_mb: list[float]
    cpu: dict[str, float]  # share of one core, per group
    ingested: dict[str, float]  # per second
    ready_seconds: float
    seconds: float
    phases: list[dict[str, object]] = field(default_factory=list)  # reports in the window


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return float("nan")
    return values[max(0, math.ceil(share * len(values)) - 1)]


def replicated(store: ObjectStore, nodes: list[str]) -> bool:
    """Whether every township's Litestream has put LTX files in the store (so the follow's
    start-up is timed from there, not the edges' first sync)."""
    found = {key.split("/", 2)[1] for key in store.keys("nodes") if key.endswith(".ltx")}
    return found >= set(nodes)


def central_count(city: City, sql: str, *params: object) -> int:
    """One number from central.db."""
    with closing(sqlite3.connect(city.root / "central" / "central.db", timeout=30)) as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def measure(city: City, profile: Profile, args: argparse.Namespace) -> Result:
    """Start everything, wait until every node was ingested once, then sample."""
    environ = city.follow_environ(profile)
    register(city, environ)
    config = city.litestream_config(profile.monitor_ms, profile.sync_ms)
    city.spawn("litestream", [litestream_binary(), "replicate", "-config", str(config)], {})
    writer = [PYTHON, "-m", "bench.city_scale", "write", str(city.root), str(len(city.nodes))]
    city.spawn("writer", [*writer, str(args.beat), str(args.app_every)], {})
    store = open_store(CentralSettings.from_environ(environ).store_config)
    wait_for(lambda: city.alive() and replicated(store, city.nodes), 1800, "every replica", every=2)
    note("every township has a replica in the store: central's follow starts")
    started = time.monotonic()
    for shard in range(profile.shards):
        command = [PYTHON, "-m", "central", "follow", f"--shard={shard}/{profile.shards}"]
        city.spawn(f"follow{shard}", command, environ)
    sql = "SELECT count(DISTINCT node_id) FROM lag_samples"
    wait_for(
        lambda: city.alive() and central_count(city, sql) == len(city.nodes),
        1800,
        "every node",
        every=2,
    )
    ready = time.monotonic() - started
    note(f"every node ingested after {ready:.0f} s; warm-up {args.warmup:g} s")
    time.sleep(args.warmup)
    follow = [city.processes[f"follow{s}"].pid for s in range(profile.shards)]
    groups = {
        "follow": follow,
        "store": [city.processes["store"].pid],
        "litestream": [city.processes["litestream"].pid],
    }
    counted = {
        "applications": "SELECT count(*) FROM edge_applications",
        "audit rows": "SELECT count(*) FROM edge_audit_log",
    }
    logged = {s: len(follow_log(city, s)) for s in range(profile.shards)}
    before_cpu = {name: cpu_seconds(pids) for name, pids in groups.items()}
    before_rows = {name: central_count(city, sql) for name, sql in counted.items()}
    start_ms, t0 = int(time.time() * 1000), time.monotonic()
    rss: list[float] = []
    while time.monotonic() - t0 < args.duration:
        rss.append(rss_mb(follow))
        time.sleep(SAMPLE_SECONDS)
    spent = time.monotonic() - t0
    cpu = {name: (cpu_seconds(pids) - before_cpu[name]) / spent for name, pids in groups.items()}
    rows = {
        name: (central_count(city, sql) - before_rows[name]) / spent
        for name, sql in counted.items()
    }
    end_ms = int(time.time() * 1000)
    time.sleep(args.settle)
    with closing(sqlite3.connect(city.root / "central" / "central.db", timeout=30)) as conn:
        lags = sorted(
            ingested - beat
            for beat, ingested in conn.execute(
                "SELECT beat_ms, ingested_ms FROM lag_samples WHERE beat_ms BETWEEN ? AND ?",
                (start_ms, end_ms),
            )
        )
    rows["heartbeats"] = len(lags) / spent
    phases = [
        report
        for shard, skip in logged.items()
        for report in phase_reports(follow_log(city, shard)[skip:])
    ]
    return Result(profile, len(city.nodes), lags, rss, cpu, rows, ready, spent, phases)


def follow_log(city: City, shard: int) -> list[str]:
    """Every line a follow process logged so far."""
    path = city.root / "logs" / f"follow{shard}.log"
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def phase_reports(lines: list[str]) -> list[dict[str, object]]:
    """The `turn phases {...}` reports a follow process logged (replication.turn_phases)."""
    marker = "turn phases "
    return [json.loads(line.split(marker, 1)[1]) for line in lines if marker in line]


def phase_rows(result: Result) -> list[str]:
    """Where the follow turns went, summed over the reports (and shards) of the window."""
    spent: dict[str, float] = {}
    counts: dict[str, int] = {}
    for report in result.phases:
        for name, figures in report["phases"].items():  # type: ignore[attr-defined]
            spent[name] = spent.get(name, 0.0) + figures["seconds"]
            counts[name] = counts.get(name, 0) + figures["count"]
    turns = counts.get("turn", 0)
    if not turns:
        return []
    ages = [r["file_age_ms"] for r in result.phases]
    lines = [
        f"Turn phases, {result.nodes} townships, {result.profile.label}: {turns} turns in "
        f"{len(result.phases)} report(s); LTX file age when applied (now - Litestream's stamp) "
        + ", ".join(f"p50 {a['p50']} ms / p95 {a['p95']} ms (n {a['n']})" for a in ages),  # type: ignore[index]
        "",
        "| Phase | Seconds per turn | Count per turn | ms each |",
        "|---|---:|---:|---:|",
    ]
    for name in sorted(spent, key=lambda n: -spent[n]):
        each = spent[name] / counts[name] * 1000 if counts[name] else 0.0
        lines.append(
            f"| {name} | {spent[name] / turns:.3f} | {counts[name] / turns:.1f} | {each:.1f} |"
        )
    return lines


def run_profile(profile: Profile, args: argparse.Namespace, template: Path) -> Result:
    """A fresh city in a temp folder, measured, then stopped and removed."""
    folder = Path(tempfile.mkdtemp(prefix="cunban-city-"))
    city = City(folder, nodes=node_ids(args.nodes))
    note(f"{args.nodes} townships, {profile.label}: {folder}")
    try:
        city.start_store()
        make_edges(city, template)
        return measure(city, profile, args)
    except AssertionError:
        note("follow log:\n" + city.log("follow0"))
        raise
    finally:
        city.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def row(result: Result) -> str:
    """One markdown table row."""
    lags, rss = result.lags_ms, result.rss_mb
    cpu = result.cpu
    rate = result.ingested
    return (
        f"| {result.nodes} | {result.profile.label} | {percentile(lags, 0.5) / 1000:.2f} s "
        f"| {percentile(lags, 0.95) / 1000:.2f} s | {len(lags)} "
        f"| {statistics.median(rss):.0f} / {max(rss):.0f} MB "
        f"| {cpu['follow'] * 100:.0f} % | {cpu['store'] * 100:.0f} % "
        f"| {cpu['litestream'] * 100:.0f} % | {rate['heartbeats']:.1f} "
        f"| {rate['applications'] * 60:.0f} | {result.ready_seconds:.0f} s |"
    )


HEAD = [
    "| Townships | Central follow; intervals | Lag p50 | Lag p95 | n | Follow RSS median / max "
    "| Follow CPU | Store CPU | Edge Litestream CPU | Heartbeats ingested/s "
    "| Applications ingested/min | All followed after |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.city_scale", description=__doc__)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument(
        "--profile",
        action="append",
        metavar="MODE:SHARDS:MONITOR:SYNC:FOLLOW[:RESTORE]",
        help="e.g. litestream:1:1000:1000:1000 or poll:2:1000:1000:1000:litestream (RESTORE: "
        "how the poll design makes a new mirror, ltx or litestream; repeatable)",
    )
    parser.add_argument("--duration", type=float, default=60, help="seconds sampled")
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--settle", type=float, default=8)
    parser.add_argument("--beat", type=float, default=2.0, help="heartbeat period per node, s")
    parser.add_argument("--app-every", type=float, default=60.0, help="s between applications")
    parser.add_argument("--doc", action="store_true", help="append the rows to docs/performance.md")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args(argv)


def profile_of(text: str) -> Profile:
    """A profile from MODE:SHARDS:MONITOR:SYNC:FOLLOW[:RESTORE]."""
    mode, shards, monitor, sync, follow, *restore = text.split(":")
    return Profile(mode, int(shards), int(monitor), int(sync), int(follow), *restore)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each profile; print a markdown table (and add its rows to the doc's section)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["write"]:
        root, count, beat, app_every = argv[1:5]
        write_loop(Path(root), node_ids(int(count)), float(beat), float(app_every))
        return 0
    args = parse_args(argv)
    template = Path(tempfile.mkdtemp(prefix="cunban-city-template-"))
    try:
        results = []
        for text in args.profile or ["poll:1:1000:1000:1000"]:
            results.append(run_profile(profile_of(text), args, template))
            note(row(results[-1]))
            note("\n".join(phase_rows(results[-1])))
    finally:
        shutil.rmtree(template, ignore_errors=True)
    lines = [*HEAD, *(row(r) for r in results)]
    print("\n".join(lines))
    for result in results:
        print("\n" + "\n".join(phase_rows(result)))
    if args.doc:
        add_rows(lines[len(HEAD) :])
    return 0


def add_rows(rows: list[str]) -> None:
    """Append rows to the table of the doc's section (created with its head if missing)."""
    text = DOC.read_text(encoding="utf-8")
    if SECTION not in text:
        replace_section(DOC, SECTION, "\n".join([SECTION, "", *HEAD, *rows]) + "\n")
        return
    lines = text.splitlines()
    at = lines.index(SECTION) + 1
    while at < len(lines) and not lines[at].startswith("|"):
        at += 1
    while at < len(lines) and lines[at].startswith("|"):
        at += 1
    DOC.write_text("\n".join([*lines[:at], *rows, *lines[at:]]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
