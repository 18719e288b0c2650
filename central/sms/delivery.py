"""Sending central's SMS: the gateway central's settings name, and one blocking pass (settle what
a stopped process left in 'sending', then send what is due) that `central follow` runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime

from central.settings import CentralSettings
from edge.kernel import claimers
from edge.kernel.db import BUSY_TIMEOUT_MS
from edge.sms.gateways import Gateway, HttpGateway, LogGateway
from edge.sms.outbox import drain, reap


def gateway_of(settings: CentralSettings) -> Gateway:
    """The gateway `settings.sms_gateway` names (the edge's two, with central's values)."""
    if settings.sms_gateway == "http":
        return HttpGateway(settings.sms_http_url, settings.sms_http_secret)
    return LogGateway(settings.data_dir / "sms-log-gateway.ids")


def _connect(settings: CentralSettings) -> sqlite3.Connection:
    """A blocking connection to central.db (central keeps SQLite's own checkpoints)."""
    conn = sqlite3.connect(
        settings.database_path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def send_due(settings: CentralSettings, now: datetime) -> int:
    """One pass as this process's claimer; the number of messages sent."""
    gateway = gateway_of(settings)
    with closing(_connect(settings)) as conn:
        reap(conn, gateway, now, settings.claimers_dir)
        claimer = claimers.this_process(settings.claimers_dir)
        return drain(conn, gateway, now, settings.sms_max_attempts, claimer=claimer)
