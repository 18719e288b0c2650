"""deploy/install run for real on a fresh Debian 12 booted with systemd (tests/debian_support):
apt-get, the system user, the release's venv from the package index, the env file, units
started by `systemctl enable --now`, Caddy with `tls internal`; then checked as township IT
would: every unit active, https://<domain>/healthz through Caddy, a second run changing
nothing, `status`, an upgrade with a migration and one that fails and is rolled back."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import wait_for_port
from tests.debian_support import Machine, boot

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "lianzhou.test"
NODE = "lianzhou"
PORT = 8101
UNITS = [f"cunban-{NODE}-{name}.service" for name in ("web", "worker", "replicate", "sync")]
CADDY_ROOT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"
INSTALL = (
    f"cd /root/cunban && ./deploy/install edge --node-id {NODE} --township 450521100000 "
    f"--domain {DOMAIN} --tls internal --port {PORT}"
)


def _copy_project(destination: Path) -> None:
    """The working tree as git sees it (tracked and new files, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def _build(machine: Machine, version: str, tables: tuple[str, ...], broken: bool) -> str:
    """Another release of the project in the machine: its version, a migration per table,
    maybe an app that cannot start. Returns its folder in the machine."""
    folder = f"/root/cunban-{version}"
    source = machine.path(folder)
    shutil.copytree(machine.path("/root/cunban"), source)
    pyproject = source / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('version = "0.1.0"', f'version = "{version}"', 1))
    migrations = source / "edge/migrations"
    for table in tables:
        number = len(list(migrations.glob("*.sql"))) + 1
        (migrations / f"{number:04d}_{table}.sql").write_text(
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY);\n", encoding="utf-8"
        )
    if broken:
        app = source / "edge/app.py"
        app.write_text(
            app.read_text(encoding="utf-8").replace(
                "    db = Database(settings.database_path)\n",
                "    raise RuntimeError('this build cannot start')\n",
                1,
            ),
            encoding="utf-8",
        )
    return folder


@pytest.fixture(scope="module")
def debian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machine]:
    folder = tmp_path_factory.mktemp("debian")
    with boot(folder, "cunban-test") as machine:
        # what the Debian installer writes, and the name of the site
        (machine.path("/etc/hosts")).write_text(
            "127.0.0.1\tlocalhost\n127.0.1.1\tcunban-test\n::1\tlocalhost ip6-localhost\n"
            f"127.0.0.1\t{DOMAIN}\n"
        )
        # this machine reaches the internet through a proxy with its own CA: the Debian
        # trusts it as the host does (ca-certificates, installed by deploy/install, adds it)
        local_cas = machine.path("/usr/local/share/ca-certificates")
        local_cas.mkdir(parents=True, exist_ok=True)
        for certificate in Path("/usr/local/share/ca-certificates").glob("*.crt"):
            shutil.copy2(certificate, local_cas / certificate.name)
        debian_cas = machine.run(
            "if command -v update-ca-certificates; then update-ca-certificates; fi"
        )
        assert debian_cas.returncode == 0, debian_cas.stderr
        _copy_project(machine.path("/root/cunban"))
        yield machine


def _https(machine: Machine, path: str, host: str = DOMAIN) -> tuple[int, dict[str, str], bytes]:
    """GET https://<host><path> through the Debian's Caddy, trusting only its local CA."""
    context = ssl.create_default_context(cafile=str(machine.path(CADDY_ROOT)))
    raw = socket.create_connection(("127.0.0.1", 443), timeout=10)
    with context.wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = http.client.HTTPResponse(tls)
        answer.begin()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()


def _health(machine: Machine) -> dict:
    status, _headers, body = _https(machine, "/healthz")
    assert status == 200, body[:500]
    return json.loads(body)


def _until_active(machine: Machine, units: list[str], seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    states = ""
    while time.monotonic() < deadline:
        states = machine.run(f"systemctl is-active {' '.join(units)}").stdout
        if states.split() == ["active"] * len(units):
            return states
        time.sleep(1)
    journal = machine.run("journalctl --no-pager -n 60 -u 'cunban-*'").stdout
    raise AssertionError(f"units not active: {states}\n{journal}")


def _health_when_up(machine: Machine, seconds: float = 90) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return _health(machine)
        except (OSError, AssertionError, ssl.SSLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_install_on_a_fresh_debian_then_upgrade_and_roll_back(debian: Machine) -> None:
    first = debian.run(INSTALL, timeout=1200)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for done in (
        "done     Debian package lists",
        "done     Debian packages python3 python3-venv sqlite3 caddy ca-certificates",
        "done     system user cunban",
        "done     venv of release 0.1.0",
        f"done     enable and start cunban-{NODE}.target",
        "done     reload Caddy",
    ):
        assert done in first.stdout, first.stdout
    assert "Traceback" not in first.stderr
    _until_active(debian, [*UNITS, "caddy.service"])
    enabled = debian.run(f"systemctl is-enabled cunban-{NODE}.target")
    assert enabled.stdout.strip() == "enabled"  # it comes back after a reboot
    assert debian.run("id -u cunban").returncode == 0

    health = _health_when_up(debian)
    assert health["ok"] and health["node_id"] == NODE and health["version"]
    status, headers, _body = _https(debian, "/")
    assert status == 200 and "max-age" in headers["strict-transport-security"]
    schema = health["schema_version"]

    again = debian.run(INSTALL, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to change" in again.stdout

    report = debian.run(f"cunban-{NODE} status")
    assert "Traceback" not in report.stderr, report.stderr
    for unit in UNITS:
        assert f"ok      unit {unit}" in report.stdout, report.stdout
    assert "NOT OK  certificate" not in report.stdout and "certificate" in report.stdout

    second = _build(debian, "0.1.1", ("upgrade_probe_0_1_1",), broken=False)
    upgraded = debian.run(f"cd /root/cunban && ./deploy/install upgrade --node {NODE} "
                          f"--source {second}", timeout=900)  # fmt: skip
    assert upgraded.returncode == 0, upgraded.stdout[-3000:] + upgraded.stderr[-3000:]
    assert f"upgraded: {NODE} runs release 0.1.1" in upgraded.stdout
    _until_active(debian, UNITS)
    health = _health_when_up(debian)
    assert health["schema_version"] == schema + 1 and health["version"] == "0.1.1"

    third = _build(debian, "0.1.2", ("upgrade_probe_0_1_1", "upgrade_probe_0_1_2"), broken=True)
    failed = debian.run(f"cd /root/cunban && ./deploy/install upgrade --node {NODE} "
                        f"--source {third} --wait 20", timeout=900)  # fmt: skip
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "not healthy after 20 s" in failed.stdout
    assert f"rolled back: {NODE} runs releases/0.1.1 again" in failed.stdout
    _until_active(debian, UNITS)
    restored = _health_when_up(debian)
    assert restored["ok"] and restored["schema_version"] == schema + 1
    assert restored["version"] == "0.1.1"
    assert restored["replica_generation"] >= 2  # the restored database replicates anew
    tables = debian.run(
        f'sqlite3 /var/lib/cunban/{NODE}/edge.db "SELECT name FROM sqlite_master"'
    ).stdout.split()
    assert "upgrade_probe_0_1_1" in tables and "upgrade_probe_0_1_2" not in tables
    owners = debian.run(f"stat -c '%U %n' /var/lib/cunban/{NODE}/edge.db*").stdout
    assert all(line.startswith("cunban ") for line in owners.splitlines()), owners


STORE_UNITS = [f"cunban-store-{name}.service" for name in ("master", "volume", "filer")]
S3_CHECK = """
import sys, urllib3
from minio import Minio
from minio.error import S3Error
from io import BytesIO
pool = urllib3.PoolManager(ca_certs=sys.argv[1])
def client(key, secret):
    return Minio("store.test", key, secret, secure=True, region="us-east-1", http_client=pool)
node, central = client("lianzhou", "lianzhou-secret-1"), client("central", "central-secret-1")
node.put_object("cunban", "nodes/lianzhou/probe", BytesIO(b"written by lianzhou"), 19)
print(central.get_object("cunban", "nodes/lianzhou/probe").read().decode())
try:
    node.put_object("cunban", "nodes/other/probe", BytesIO(b"x"), 1)
except S3Error as refused:
    print("refused", refused.code)
"""


def test_store_role_on_the_same_debian(debian: Machine) -> None:
    """The store role on the machine the edge test left (one SeaweedFS of each server,
    replication 000 for a single machine): its units, the S3 gateway through Caddy, each
    node's identity confined to its prefix. Same release as the edge runs (one `current`)."""
    with debian.path("/etc/hosts").open("a") as hosts:
        hosts.write("127.0.0.1\tstore.test\n")
    release = "/root/cunban-0.1.1" if debian.path("/root/cunban-0.1.1").is_dir() else "."
    done = debian.run(
        f"cd /root/cunban && ./deploy/install store --ip 127.0.0.1 --domain store.test "
        f"--tls internal --replication 000 --volume-mb 256 --source {release} "
        "--identity lianzhou=lianzhou:lianzhou-secret-1 "
        "--identity central=central:central-secret-1",
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "done     enable and start cunban-store.target" in done.stdout
    _until_active(debian, [*STORE_UNITS, "caddy.service"])
    weed = "/opt/cunban/current/.venv/bin/weed"
    deadline = time.monotonic() + 120
    while True:  # the bucket unit (a oneshot after the filer) retries until the master leads
        listed = debian.run(f"echo 's3.bucket.list' | {weed} shell -master 127.0.0.1:9333")
        if "cunban" in listed.stdout or time.monotonic() > deadline:
            break
        time.sleep(2)
    bucket = debian.run("systemctl status cunban-store-bucket.service; "
                        "journalctl -u cunban-store-bucket.service --no-pager")  # fmt: skip
    assert "cunban" in listed.stdout, bucket.stdout + bucket.stderr + listed.stdout
    wait_for_port(8333, 90)  # the filer's S3 gateway listens a little after the filer starts
    debian.path("/root/s3_check.py").write_text(S3_CHECK)
    checked = debian.run(
        f"/opt/cunban/current/.venv/bin/python /root/s3_check.py {CADDY_ROOT}", timeout=120
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines() == ["written by lianzhou", "refused AccessDenied"]
    if debian.path(f"/etc/cunban/{NODE}.env").is_file():  # the edge test ran first
        assert _health_when_up(debian)["ok"]  # and the edge still runs beside the store


CENTRAL_UNITS = [f"cunban-central-{name}.service" for name in ("web", "follow")]


def test_central_role_on_the_same_debian(debian: Machine) -> None:
    """The central role on the machine the other tests left: its units active, its /healthz
    through Caddy over HTTPS, a second run changing nothing, `status` without a traceback."""
    with debian.path("/etc/hosts").open("a") as hosts:
        hosts.write("127.0.0.1\tcentral.test\n")
    release = "/root/cunban-0.1.1" if debian.path("/root/cunban-0.1.1").is_dir() else "."
    install = (
        "cd /root/cunban && ./deploy/install central --domain central.test --tls internal "
        f"--port 8000 --source {release}"
    )
    done = debian.run(install, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "done     enable and start cunban-central.target" in done.stdout, done.stdout
    _until_active(debian, [*CENTRAL_UNITS, "caddy.service"])
    deadline = time.monotonic() + 90
    while True:
        status, headers, body = _https(debian, "/healthz", "central.test")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert status == 200, body[:500]
    assert "max-age" in headers["strict-transport-security"]
    again = debian.run(install, timeout=600)
    assert again.returncode == 0 and "nothing to change" in again.stdout, again.stdout
    report = debian.run("cunban-central status")
    assert "Traceback" not in report.stderr, report.stderr
    for unit in CENTRAL_UNITS:
        assert f"ok      unit {unit}" in report.stdout, report.stdout


def test_follow_role_on_the_same_debian(debian: Machine) -> None:
    """A follow machine's role (issue 17): central's follow unit alone on shard 1/2, shipping
    through the store; active under systemd, a second run changing nothing, its `status`
    naming its one unit (the store may be absent: the process waits for it, it does not die)."""
    release = "/root/cunban-0.1.1" if debian.path("/root/cunban-0.1.1").is_dir() else "."
    install = (
        "cd /root/cunban && ./deploy/install follow --shard 1/2 --store https://store.test "
        f"--store-secret-key central-secret-1 --source {release}"
    )
    done = debian.run(install, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "done     enable and start cunban-follow1.target" in done.stdout, done.stdout
    _until_active(debian, ["cunban-follow1-follow.service"])
    time.sleep(5)  # still running a few turns later
    _until_active(debian, ["cunban-follow1-follow.service"])
    again = debian.run(install, timeout=600)
    assert again.returncode == 0 and "nothing to change" in again.stdout, again.stdout
    report = debian.run("cunban-follow1 status")
    assert "Traceback" not in report.stderr, report.stderr
    assert "Cunban follow shard 1/2" in report.stdout, report.stdout
    assert "ok      unit cunban-follow1-follow.service" in report.stdout, report.stdout
    assert "cunban-follow1-web" not in report.stdout and "cunban-central-web" not in report.stdout
