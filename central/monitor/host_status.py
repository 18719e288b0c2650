"""`python -m central status`: central's units, each township's follower, replication lag and
feed backlog, disk and certificate, for the city's IT; counts and times only."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

from central.settings import CentralSettings
from edge.kernel.clock import Clock
from edge.kernel.host_checks import (
    Check,
    disk_check,
    https_certificate_check,
    report,
    unit_checks,
)
from replication import shards

PROCESSES = ("web", "follow")
LAG_WARN_SECONDS = 300


def status(
    settings: CentralSettings, clock: Clock, certificate: Path | None = None
) -> tuple[str, bool]:
    """The report and whether everything is fine."""
    now = clock()
    if settings.follow_ship:
        return follow_machine_status(settings, clock)
    checks = unit_checks("central", PROCESSES)
    checks += node_checks(settings.database_path, now.timestamp() * 1000)
    checks.append(disk_check(settings.data_dir, settings.web.min_free_mb))
    host = urlsplit(settings.web.base_url).hostname or ""
    given = certificate or (Path(settings.tls_cert) if settings.tls_cert else None)
    checks.append(https_certificate_check(host, given, now))
    return report(f"Cunban central at {now:%Y-%m-%d %H:%M} UTC", checks), all(c.ok for c in checks)


def follow_machine_status(settings: CentralSettings, clock: Clock) -> tuple[str, bool]:
    """On a follow machine (`deploy/install follow`): its one unit, the townships of its shard
    as its own database knows them, its disk; no site, so no certificate."""
    now = clock()
    shard = shards.parse(settings.follow_shard) or (0, 1)
    checks = unit_checks(shards.machine_name(shard), ("follow",))
    checks += node_checks(settings.database_path, now.timestamp() * 1000, shard)
    checks.append(disk_check(settings.data_dir, settings.web.min_free_mb))
    title = f"Cunban follow shard {settings.follow_shard} at {now:%Y-%m-%d %H:%M} UTC"
    return report(title, checks), all(c.ok for c in checks)


def node_checks(path: Path, now_ms: float, shard: tuple[int, int] | None = None) -> list[Check]:
    """Per township (of `shard` only, when given): follower state and restarts, newest
    heartbeat's lag and age, commands not yet reported applied."""
    if not path.exists():
        return [Check("database", f"{path} does not exist", False)]
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT n.node_id, f.state, coalesce(f.restarts, 0), "
            "(SELECT beat_ms FROM lag_samples WHERE node_id = n.node_id "
            " ORDER BY beat_ms DESC LIMIT 1), "
            "(SELECT ingested_ms - beat_ms FROM lag_samples WHERE node_id = n.node_id "
            " ORDER BY beat_ms DESC LIMIT 1), "
            "(SELECT count(*) FROM commands AS c WHERE c.node_id = n.node_id AND NOT EXISTS "
            " (SELECT 1 FROM edge_applied_commands AS a WHERE a.node_id = c.node_id "
            "  AND a.id = c.id)) "
            "FROM nodes AS n LEFT JOIN followers AS f ON f.node_id = n.node_id ORDER BY n.node_id"
        ).fetchall()
    if not rows:
        return [Check("nodes", "no township registered (CUNBAN_CENTRAL_NODES)", False)]
    checks = []
    for node_id, state, restarts, beat_ms, lag_ms, backlog in rows:
        if shard is not None and not shards.owns(shard, node_id):
            continue
        age = None if beat_ms is None else (now_ms - beat_ms) / 1000
        lag = "no heartbeat yet" if lag_ms is None else f"lag {lag_ms / 1000:.1f} s"
        seen = "never" if age is None else f"{age:.0f} s ago"
        value = (
            f"follower {state or 'not started'} ({restarts} restarts), {lag}, newest heartbeat "
            f"{seen}, {backlog} commands not yet applied"
        )
        fine = state == "following" and age is not None and age < LAG_WARN_SECONDS
        checks.append(Check(f"node {node_id}", value, fine))
    return checks
