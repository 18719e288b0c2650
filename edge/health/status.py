"""`python -m edge status`: the node's units, replication and feed, outbox backlog, disk and
certificate, for township IT; counts and times only, never a person."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from edge.kernel.clock import Clock
from edge.kernel.host_checks import (
    Check,
    disk_check,
    https_certificate_check,
    report,
    unit_checks,
)
from edge.settings import Settings

PROCESSES = ("web", "worker", "replicate", "sync")
LAG_WARN_SECONDS = 300


def status(settings: Settings, clock: Clock, certificate: Path | None = None) -> tuple[str, bool]:
    """The report and whether everything is fine."""
    now = clock()
    checks = unit_checks(settings.node_id, PROCESSES)
    checks += database_checks(settings.database_path, now, bool(settings.central_url))
    checks.append(disk_check(settings.data_dir, settings.web.min_free_mb))
    host = urlsplit(settings.web.base_url).hostname or ""
    checks.append(https_certificate_check(host, certificate, now))
    title = f"Cunban edge {settings.node_id} ({settings.township_code}) at {now:%Y-%m-%d %H:%M} UTC"
    return report(title, checks), all(check.ok for check in checks)


def database_checks(path: Path, now: datetime, has_central: bool) -> list[Check]:
    """Replication, feed and outboxes, read from the node's database (read-only)."""
    if not path.exists():
        return [Check("database", f"{path} does not exist", False)]
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT (SELECT user_version FROM pragma_user_version), "
            "(SELECT state FROM replica_health), (SELECT good_ms FROM replica_health), "
            "(SELECT max(beat_ms) FROM heartbeat), (SELECT max(feed_pulled_ms) FROM heartbeat), "
            "(SELECT feed_error FROM heartbeat ORDER BY beat_ms DESC LIMIT 1), "
            "(SELECT count(*) FROM sms_outbox WHERE state IN ('queued', 'sending')), "
            "(SELECT count(*) FROM sms_outbox WHERE state = 'failed'), "
            "(SELECT count(*) FROM push_outbox WHERE state IN ('queued', 'sending')), "
            "(SELECT count(*) FROM blobs WHERE upload_state IN ('queued', 'sending')), "
            "(SELECT min(created_at) FROM blobs WHERE upload_state IN ('queued', 'sending'))"
        ).fetchone()
    schema, state, good_ms, beat_ms, pulled_ms, feed_error, sms, failed, push, blobs, oldest = row
    now_ms = now.timestamp() * 1000
    lag = _age(good_ms, now_ms)
    checks = [
        Check("schema", f"version {schema}", True),
        Check(
            "replication",
            f"drill {state}, last clean restore {_ago(lag)}",
            state == "ok" and lag is not None and lag < LAG_WARN_SECONDS,
        ),
        Check("heartbeat", f"written {_ago(_age(beat_ms, now_ms))}", beat_ms is not None),
    ]
    if has_central:
        pulled = _age(pulled_ms, now_ms)
        value = f"pulled {_ago(pulled)}" + (f", last error: {feed_error}" if feed_error else "")
        checks.append(Check("feed", value, pulled is not None and pulled < LAG_WARN_SECONDS))
    else:
        checks.append(Check("feed", "no central (CUNBAN_CENTRAL_URL empty)", True))
    checks += [
        Check("sms outbox", f"{sms} waiting, {failed} failed", failed == 0),
        Check("push outbox", f"{push} waiting", True),
        Check("photo uploads", f"{blobs} waiting" + (f", oldest {oldest}" if oldest else ""), True),
    ]
    return checks


def _age(ms: int | None, now_ms: float) -> float | None:
    return None if ms is None else max(0.0, (now_ms - ms) / 1000)


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"
