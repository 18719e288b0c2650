"""`deploy/install upgrade --node N --version X`: the new release beside the current one, a
backup point of the database, migrations, restart, /healthz; back to the previous release
(and the database as it was) when any of it fails."""

from __future__ import annotations

import os
import pwd
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

from deploy import envfile, units
from deploy.release import CURRENT, BorrowedVenv, Release, venv
from deploy.roles import ETC
from deploy.steps import Link, Target, run

DEFAULT_WAIT = 60.0  # seconds /healthz may take after a start (`--wait`)


class UpgradeFailed(RuntimeError):
    """A step of the upgrade failed; the message says which."""


def upgrade(
    target: Target,
    node: str,
    source: Path,
    version: str,
    healthz: str,
    wait: float,
    systemctl: str = "systemctl",
) -> int:
    """Upgrade `node` to `version`; 0 when it runs the new release, 1 when it was rolled back."""
    env_path = target.path(f"{ETC}/{node}.env")
    if not env_path.is_file():
        print(f"deploy/install: {ETC}/{node}.env not found: install the node first")
        return 2
    values = envfile.existing_values(env_path.read_text(encoding="utf-8"))
    role = "central" if "CUNBAN_CENTRAL_DATA_DIR" in values else "edge"
    previous = os.readlink(target.path(CURRENT))
    if previous == f"releases/{version}":
        print(f"{node} already runs release {version}: nothing to change")
        return 0
    print(f"Upgrading {node} from {previous} to releases/{version}")
    run(
        [Release(source, version), BorrowedVenv(version) if not target.real else venv(version)],
        target,
    )
    if target.dry_run:
        print("  would: backup point, stop, switch, migrate, start, check /healthz")
        return 0
    environ = _environ(target, values)
    database = _database(role, environ)
    backup = _backup(database, version)
    print(f"  done     backup point {backup}")
    service = units.target_name(node)
    url = healthz or _healthz_url(role, values)
    try:
        _systemctl(systemctl, "stop", service)
        run([Link(CURRENT, f"releases/{version}")], target)
        _migrate(target, role, environ)
        _start(systemctl, node)
        _wait_healthy(url, wait)
    except UpgradeFailed as failure:
        print(f"  FAILED   {failure}; rolling back to {previous}")
        _systemctl(systemctl, "stop", service, check=False)
        run([Link(CURRENT, previous)], target)
        _restore(backup, database, role, environ)
        if target.real:
            _hand_back(database.parent)
        _start(systemctl, node, check=False)
        try:
            _wait_healthy(url, _rollback_wait(wait, role, values))
        except UpgradeFailed as still:
            print(f"  FAILED   the previous release is not healthy either: {still}")
            return 3
        print(f"rolled back: {node} runs {previous} again, database as before the upgrade")
        return 1
    print(f"upgraded: {node} runs release {version} ({url} ok)")
    return 0


def _environ(target: Target, values: dict[str, str]) -> dict[str, str]:
    """The node's settings as its processes see them (folders under the target's root)."""
    mapped = {
        name: str(target.path(value)) if name.endswith("_DIR") and value.startswith("/") else value
        for name, value in values.items()
    }
    return {**os.environ, **mapped}


def _database(role: str, environ: dict[str, str]) -> Path:
    if role == "central":
        return Path(environ["CUNBAN_CENTRAL_DATA_DIR"]) / "central.db"
    return Path(environ["CUNBAN_DATA_DIR"]) / "edge.db"


def _backup(database: Path, version: str) -> Path:
    """A consistent copy of the database (SQLite's online backup) beside it, readable by its
    owner only."""
    folder = database.parent / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # residents' personal data: the service user's alone
    backup = folder / f"{database.stem}-before-{version}-{time.strftime('%Y%m%dT%H%M%S')}.db"
    os.close(os.open(backup, os.O_WRONLY | os.O_CREAT, 0o600))
    backup.chmod(0o600)
    with closing(sqlite3.connect(database)) as live, closing(sqlite3.connect(backup)) as copy:
        live.backup(copy)
    return backup


def _restore(backup: Path, database: Path, role: str, environ: dict[str, str]) -> None:
    """The database as it was before the upgrade (the processes are stopped). An edge's goes
    back the way `edge restore` installs a copy: Litestream's local state dropped and a new
    replica generation started (verified by the next drill), so no replica mixes the two."""
    if role == "edge":
        from edge.settings import Settings
        from replication.recovery import describe, install

        chosen = describe(backup, f"backup point {backup}")
        if chosen is None:
            raise UpgradeFailed(f"the backup point {backup} fails its integrity check")
        generation = max(_generation(database), _generation(backup)) + 1
        install(Settings.from_environ(environ).replicated_node, chosen, generation)
        print(f"  done     database restored from {backup}; replica generation {generation}")
        return
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    with closing(sqlite3.connect(backup)) as copy, closing(sqlite3.connect(database)) as live:
        copy.backup(live)
    print(f"  done     database restored from {backup}")


def _rollback_wait(wait: float, role: str, values: dict[str, str]) -> float:
    """How long the previous release may take to answer: at least the default wait (a short
    `--wait` is meant for the new release; the old one is what the township must get back),
    plus two drill intervals (the first drill can fall just before the new generation)."""
    return max(wait, DEFAULT_WAIT) + 2 * _drill_seconds(role, values)


def _drill_seconds(role: str, values: dict[str, str]) -> float:
    """How long an edge takes to drill the new replica generation a restored database starts
    (it is not healthy before): its drill interval. Central has no drill."""
    if role != "edge":
        return 0
    from edge.settings import Settings

    return float(values.get("CUNBAN_REPLICA_DRILL_SECONDS") or Settings.replica_drill_seconds)


def _generation(database: Path) -> int:
    """The replica generation an edge database says it writes (1 when it cannot tell)."""
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT generation FROM replica_health").fetchone()
    except sqlite3.Error:
        return 1
    return int(row[0]) if row and row[0] else 1


def _migrate(target: Target, role: str, environ: dict[str, str]) -> None:
    home = target.path(CURRENT)
    command = [str(home / ".venv/bin/python"), "-m", role, "migrate"]
    if target.real:
        command = ["runuser", "-u", units.USER, "--", *command]
    done = subprocess.run(command, cwd=home, env=environ, capture_output=True, text=True)
    if done.returncode != 0:
        raise UpgradeFailed(f"migrations failed: {done.stderr.strip()[-400:]}")
    print(f"  done     migrations ({' '.join(command[-3:])})")


def _start(systemctl: str, node: str, check: bool = True) -> None:
    """Start the node's target, first forgetting failures: a release that crashed in a loop
    has hit its units' start limit, and systemd refuses to start them again until reset."""
    _systemctl(systemctl, "reset-failed", f"cunban-{node}-*.service", check=False)
    _systemctl(systemctl, "start", units.target_name(node), check=check)


def _hand_back(folder: Path, user: str = units.USER) -> None:
    """Files the upgrade wrote as root in the data folder (the restored database, backups)
    given to the service user, who must write them."""
    account = pwd.getpwnam(user)
    for path in [folder, *folder.rglob("*")]:
        if path.lstat().st_uid != account.pw_uid:
            os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)


def _systemctl(program: str, action: str, unit: str, check: bool = True) -> None:
    done = subprocess.run([program, action, unit], capture_output=True, text=True)
    if done.returncode != 0 and check:
        raise UpgradeFailed(f"systemctl {action} {unit}: {done.stderr.strip()}")
    print(f"  done     systemctl {action} {unit}")


def _healthz_url(role: str, values: dict[str, str]) -> str:
    prefix = "CUNBAN_CENTRAL_" if role == "central" else "CUNBAN_"
    port = values.get(f"{prefix}PORT", "8000" if role == "central" else "8001")
    return f"http://127.0.0.1:{port}/healthz"


def _wait_healthy(url: str, wait: float) -> None:
    """Until /healthz answers 200, at most `wait` seconds."""
    deadline = time.monotonic() + wait
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except OSError as error:
            last = str(error)
        time.sleep(0.5)
    raise UpgradeFailed(f"{url} not healthy after {wait:g} s ({last})")
