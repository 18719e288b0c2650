"""A stand-in for systemctl where systemd cannot run (this test machine has no PID 1 systemd):
`start|stop cunban-<node>.target` runs or stops the node's web process (and an edge's
replicate process) from the release `<root>/opt/cunban/current` points at, with the node's
env file (folders under <root>)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(os.environ["FAKE_SYSTEMCTL_ROOT"])
STATE = ROOT / "run" / "fake-systemd"


def _environ(node: str) -> dict[str, str]:
    values = {}
    for line in (ROOT / "etc/cunban" / f"{node}.env").read_text().splitlines():
        name, equals, value = line.partition("=")
        if equals and not line.startswith("#"):
            if name.endswith("_DIR") and value.startswith("/"):
                value = str(ROOT / value.lstrip("/"))
            values[name] = value
    return {**os.environ, **values}


def start(node: str) -> int:
    home = (ROOT / "opt/cunban/current").resolve()
    environ = _environ(node)
    role = "central" if "CUNBAN_CENTRAL_DATA_DIR" in environ else "edge"
    STATE.mkdir(parents=True, exist_ok=True)
    log = open(STATE / f"{node}.log", "ab")  # noqa: SIM115 (the children keep it)
    pids = []
    for process in ("serve", "replicate") if role == "edge" else ("serve",):
        child = subprocess.Popen(
            [str(home / ".venv/bin/python"), "-m", role, process],
            cwd=home,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pids.append(str(child.pid))
    (STATE / f"{node}.pid").write_text(" ".join(pids))
    (STATE / "calls").open("a").write(f"start {node} {home.name}\n")
    return 0


def stop(node: str) -> int:
    pid_file = STATE / f"{node}.pid"
    if pid_file.exists():
        for pid in map(int, pid_file.read_text().split()):
            _end(pid)
        pid_file.unlink()
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "calls").open("a").write(f"stop {node}\n")
    return 0


def _end(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            os.killpg(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv: list[str]) -> int:
    action, unit = argv
    node = unit.removeprefix("cunban-").removesuffix(".target")
    if action == "reset-failed":  # nothing is remembered as failed here
        return 0
    return {"start": start, "stop": stop}[action](node)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
