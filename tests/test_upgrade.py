"""deploy/install upgrade under a temporary root with two builds of the project (the current
one and one with an added migration), and a third whose app cannot start: the upgrade runs
the migration and switches; the broken one is rolled back to the release and the database
as they were. systemd cannot run here: tests/fake_systemctl.py starts the web process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from edge.schema import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parent.parent
INSTALL = ROOT / "deploy" / "install"
SKIP = shutil.ignore_patterns(".venv", ".git", "var", "__pycache__", "*.egg-info", ".*_cache")


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _build(tmp_path: Path, version: str, probes: tuple[str, ...], broken: bool = False) -> Path:
    """A copy of the project as another release: its version, one added migration per probe
    table, maybe an app that fails at start-up."""
    source = tmp_path / f"src-{version}"
    shutil.copytree(ROOT, source, ignore=SKIP)
    pyproject = source / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('version = "0.1.0"', f'version = "{version}"', 1)
    )
    folder = source / "edge/migrations"
    for probe in probes:
        number = len(list(folder.glob("*.sql"))) + 1
        (folder / f"{number:04d}_upgrade_probe_{probe}.sql").write_text(
            f"CREATE TABLE upgrade_probe_{probe} (id INTEGER PRIMARY KEY);\n"
        )
    if broken:
        app = source / "edge/app.py"
        app.write_text(
            app.read_text().replace(
                "    db = Database(settings.database_path)\n",
                "    raise RuntimeError('this build cannot start')\n",
                1,
            )
        )
    return source


def _health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
        return json.loads(answer.read())


def _upgrade(root: Path, source: Path, fake: Path, wait: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable, str(INSTALL), "upgrade", "--node", "lianzhou", "--root", str(root),
            "--source", str(source), "--systemctl", str(fake), "--wait", str(wait),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FAKE_SYSTEMCTL_ROOT": str(root)},
    )  # fmt: skip


@pytest.fixture
def node(tmp_path):
    root, port = tmp_path / "root", _port()
    fake = tmp_path / "systemctl"
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} {ROOT}/tests/fake_systemctl.py "$@"\n')
    fake.chmod(0o755)
    installed = subprocess.run(
        [
            sys.executable, str(INSTALL), "edge", "--node-id", "lianzhou",
            "--township", "450521100000", "--domain", "lianzhou.example.gov.cn",
            "--port", str(port), "--root", str(root), "--tls", "internal",
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    env = root / "etc/cunban/lianzhou.env"
    env.write_text(
        env.read_text()
        .replace("CUNBAN_COOKIE_SECURE=true", "CUNBAN_COOKIE_SECURE=false")
        .replace("#CUNBAN_REPLICA_DRILL_SECONDS=60", "CUNBAN_REPLICA_DRILL_SECONDS=2")
    )
    environ = {**os.environ, "FAKE_SYSTEMCTL_ROOT": str(root)}
    subprocess.run([str(fake), "start", "cunban-lianzhou.target"], env=environ, check=True)
    yield root, port, fake
    subprocess.run([str(fake), "stop", "cunban-lianzhou.target"], env=environ, check=True)


def _wait_up(port: int) -> dict:
    import time

    for _ in range(120):
        try:
            return _health(port)
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the node never answered")


def test_upgrade_migrates_and_switches_and_a_broken_release_is_rolled_back(tmp_path, node):
    root, port, fake = node
    database = root / "var/lib/cunban/lianzhou/edge.db"
    before = _wait_up(port)
    assert before["ok"] and before["schema_version"] == len(list(MIGRATIONS_DIR.glob("*.sql")))

    second = _build(tmp_path, "0.1.1", ("0_1_1",))
    upgraded = _upgrade(root, second, fake, 60)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert "upgraded: lianzhou runs release 0.1.1" in upgraded.stdout
    assert os.readlink(root / "opt/cunban/current") == "releases/0.1.1"
    assert (root / "opt/cunban/releases/0.1.0/RELEASE").is_file()  # the old one stays beside
    after = _health(port)
    assert after["ok"] and after["schema_version"] == before["schema_version"] + 1
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM upgrade_probe_0_1_1").fetchone() == (0,)
    backups = list((database.parent / "backups").glob("edge-before-0.1.1-*.db"))
    assert len(backups) == 1
    assert backups[0].stat().st_mode & 0o777 == 0o600  # personal data: the owner's alone
    assert backups[0].parent.stat().st_mode & 0o777 == 0o700
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (before["schema_version"],)

    # a release that cannot read the schema (it lacks the migration) refuses to start
    older = _upgrade(root, _build(tmp_path, "0.1.1-old", ()), fake, 30)
    assert older.returncode == 1, older.stdout + older.stderr
    assert "rolled back: lianzhou runs releases/0.1.1 again" in older.stdout
    assert _health(port)["schema_version"] == after["schema_version"]

    broken = _upgrade(root, _build(tmp_path, "0.1.2", ("0_1_1", "0_1_2"), broken=True), fake, 15)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "done     migrations" in broken.stdout and "not healthy after 15 s" in broken.stdout
    assert "rolled back: lianzhou runs releases/0.1.1 again" in broken.stdout
    assert os.readlink(root / "opt/cunban/current") == "releases/0.1.1"
    restored = _health(port)
    assert restored["ok"] and restored["schema_version"] == after["schema_version"]
    with sqlite3.connect(database) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "upgrade_probe_0_1_2" not in tables and "upgrade_probe_0_1_1" in tables
    # the restored database writes a new replica generation, verified by a drill before the
    # node answers healthy again
    assert "replica generation" in broken.stdout
    assert restored["replica_state"] == "ok" and restored["replica_generation"] >= 2

    same = _upgrade(root, second, fake, 60)
    assert same.returncode == 0 and "already runs release 0.1.1" in same.stdout
    calls = (root / "run/fake-systemd/calls").read_text().splitlines()
    assert calls.count("stop lianzhou") == 5  # upgrade, two failures and their rollbacks
