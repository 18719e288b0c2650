"""`python -m edge status` and `python -m central status`: units, replication, feed, outboxes,
disk and certificate expiry, as text for township and city IT; no personal data."""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from central.monitor.host_status import status as central_status
from edge.health.status import status as edge_status
from edge.kernel.host_checks import certificate_check, certificate_file
from tests.central_support import START

ROOT = Path(__file__).resolve().parent.parent


def _certificate(path: Path, host: str, days: int) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START - datetime.timedelta(days=1))
        .not_valid_after(START + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.with_suffix(".key").write_bytes(key_pem)
    return path


def _healthy(database: Path, at_ms: int) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE replica_health SET state = 'ok', good_ms = ?, checked_ms = ?", (at_ms, at_ms)
        )
        conn.execute("DELETE FROM heartbeat")
        conn.execute(
            "INSERT INTO heartbeat (id, beat_ms, feed_pulled_ms, feed_error) VALUES (1, ?, ?, '')",
            (at_ms, at_ms),
        )


def test_edge_status_reports_each_part_and_no_person(edges, clock, tmp_path):
    settings = edges["lianzhou"]
    now_ms = int(clock().timestamp() * 1000)
    _healthy(settings.database_path, now_ms - 3000)
    with sqlite3.connect(settings.database_path) as conn:
        waiting = conn.execute(
            "SELECT count(*) FROM sms_outbox WHERE state IN ('queued', 'sending')"
        ).fetchone()[0]
        phones = {row[0] for row in conn.execute("SELECT phone FROM sms_outbox")}
        names = {row[0] for row in conn.execute("SELECT name FROM accounts")}
    assert phones and names
    cert = _certificate(tmp_path / "node.crt", "lianzhou.example.gov.cn", 60)

    text, ok = edge_status(settings, clock, cert)
    assert "Cunban edge lianzhou (450521100000)" in text
    assert "replication" in text and "drill ok, last clean restore 3 s ago" in text
    assert "heartbeat" in text and "written 3 s ago" in text
    assert f"{waiting} waiting, 0 failed" in text
    assert "no central (CUNBAN_CENTRAL_URL empty)" in text
    assert "MB free" in text and "minimum 200 MB" in text
    assert "expires" in text and "in 60 days" in text
    assert not any(phone in text for phone in phones)
    assert not any(name in text for name in names)
    # no systemd in this container: said, and the report is not ok
    assert "NOT OK  units" in text and "systemd is not running here" in text
    assert ok is False

    clock.advance(days=50)  # ten days to go: renewal is failing
    text, _ok = edge_status(settings, clock, cert)
    assert "NOT OK  certificate" in text and "in 10 days" in text
    assert "NOT OK  replication" in text and "h ago" in text


def test_edge_status_command_reads_the_environment(edges, tmp_path):
    settings = edges["lianzhou"]
    done = subprocess.run(
        [sys.executable, "-m", "edge", "status", "--certificate", str(tmp_path / "missing.crt")],
        cwd=ROOT,
        env={
            **os.environ,
            "CUNBAN_NODE_ID": "lianzhou",
            "CUNBAN_TOWNSHIP_CODE": "450521100000",
            "CUNBAN_DATA_DIR": str(settings.data_dir),
        },
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr  # units and the certificate are not ok here
    assert "Cunban edge lianzhou" in done.stdout
    assert "missing.crt: cannot be read" in done.stdout


def test_certificate_is_found_in_caddys_storage(tmp_path):
    storage = tmp_path / "certificates"
    old = _certificate(storage / "local/10.0.0.5/10.0.0.5.crt", "10.0.0.5", 7)
    os.utime(old, (1, 1))
    new = _certificate(storage / "acme-v02/10.0.0.5/10.0.0.5.crt", "10.0.0.5", 90)
    assert certificate_file("10.0.0.5", None, storage) == new
    assert certificate_file("other.example", None, storage) is None
    assert certificate_file("10.0.0.5", old, storage) == old


def test_central_status_reports_each_township(central, clock, tmp_path):
    settings = central.app.state.node.settings
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute(
            "INSERT INTO followers (node_id, state, restarts, updated_ms) "
            "VALUES ('lianzhou', 'following', 1, 0)"
        )
        now_ms = int(clock().timestamp() * 1000)
        conn.execute(
            "INSERT INTO lag_samples (node_id, beat_ms, ingested_ms) VALUES ('lianzhou', ?, ?)",
            (now_ms - 2000, now_ms - 1500),
        )
        backlog = conn.execute(
            "SELECT count(*) FROM commands AS c WHERE node_id = 'fucheng' AND NOT EXISTS "
            "(SELECT 1 FROM edge_applied_commands AS a WHERE a.node_id = c.node_id "
            "AND a.id = c.id)"
        ).fetchone()[0]
    text, ok = central_status(settings, clock, _certificate(tmp_path / "c.crt", "central", 80))
    line = next(row for row in text.splitlines() if "node lianzhou" in row)
    assert line.lstrip().startswith("ok") and "following (1 restarts), lag 0.5 s" in line
    assert "newest heartbeat 2 s ago" in line
    fucheng = next(row for row in text.splitlines() if "node fucheng" in row)
    assert "NOT OK" in fucheng and "follower not started" in fucheng
    assert f"{backlog} commands not yet applied" in fucheng
    assert "in 80 days" in text and ok is False


def test_certificate_is_read_from_the_site_when_caddys_storage_is_not_readable(tmp_path):
    """Caddy's storage belongs to user caddy (0700) and `cunban-<node> status` runs as the
    node's user: the check reads the certificate the site serves (a real install crashed on
    PermissionError here)."""
    storage = tmp_path / "caddy/certificates"
    _certificate(storage / "local/localhost/localhost.crt", "localhost", 90)
    os.chown(storage.parent, 65534, 65534)  # user nobody, as caddy would own it
    storage.parent.chmod(0o700)
    served = _certificate(tmp_path / "served/site.crt", "localhost", 60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(served, served.with_suffix(".key"))
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        answering = threading.Thread(target=_serve_tls_once, args=(server, context), daemon=True)
        answering.start()
        script = (
            "import datetime, pathlib\n"
            "from edge.kernel.host_checks import https_certificate_check\n"
            "now = datetime.datetime.now(datetime.UTC)\n"
            f"print(https_certificate_check('localhost', None, now, pathlib.Path('{storage}'), "
            f"{port}))\n"
        )
        # root without the right to bypass file permissions, as a service user is
        unprivileged = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
        done = subprocess.run(
            [*unprivileged, sys.executable, "-c", script], capture_output=True, text=True
        )
        answering.join(timeout=10)
    assert done.returncode == 0, done.stderr
    assert f"served by localhost:{port}: expires" in done.stdout and "ok=True" in done.stdout


def _serve_tls_once(server: socket.socket, context: ssl.SSLContext) -> None:
    connection, _address = server.accept()
    with contextlib.suppress(OSError), context.wrap_socket(connection, server_side=True):
        pass


def test_a_short_lived_internal_certificate_is_ok_until_its_renewal_is_late(tmp_path):
    """Caddy's `tls internal` certificates last 12 hours and are renewed with a third left: a
    fresh one is fine (status said NOT OK, "in 0 days", on every such install), one with an
    hour left means renewal is failing."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lianzhou.test")])
    start = START
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(hours=12))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "internal.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fresh = certificate_check(path, start + datetime.timedelta(hours=1))
    assert fresh.ok and "in 11 hours" in fresh.value
    late = certificate_check(path, start + datetime.timedelta(hours=11))
    assert not late.ok and "in 1 hours" in late.value


def test_a_follow_machines_status_reports_its_unit_and_its_shards_townships(central, clock):
    settings = replace(central.app.state.node.settings, follow_shard="2/3", follow_ship=True)
    text, ok = central_status(settings, clock)
    assert "Cunban follow shard 2/3" in text
    assert "node fucheng" in text and "node lianzhou" not in text  # lianzhou is shard 0/3's
    assert "cunban-central-web" not in text and "certificate" not in text.lower()
    assert ok is False  # fucheng not followed yet (and no systemd here)
