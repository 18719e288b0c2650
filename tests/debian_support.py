"""A fresh Debian 12 booted with systemd as PID 1 (systemd-nspawn, host network), for tests
that run deploy/install for real; the debootstrapped tree is cached in var/cache/debian."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser_support import ensure_debian

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var/cache/debian"
SUITE = "bookworm"
# What a fresh server has beyond Debian's minimal base: systemd as init, D-Bus. No python3,
# no Caddy: the installer brings what it needs.
INCLUDE = "systemd,systemd-sysv,dbus"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The host's pip configuration and the wheel folders it names (the container's pip uses the
# same index as the host's, PyPI included).
PIP_FOLDERS = ("/opt/wheels", "/opt/pypi", "/opt/pypi-more")


def mirror() -> str:
    """The Debian mirror apt uses on this machine."""
    for sources in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        if not sources.is_file():
            continue
        for line in sources.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"] and "security" not in line:
                return next(w for w in words[1:] if w.startswith("http"))
    return "http://deb.debian.org/debian"


def base_tree() -> Path:
    """Debian 12 debootstrapped once (about a minute and 250 MB) and kept in the cache."""
    ensure_debian(Path("/usr/sbin/debootstrap"), "debootstrap")
    ensure_debian(Path("/usr/bin/systemd-nspawn"), "systemd-container")
    tree = CACHE / SUITE
    if (tree / "etc/debian_version").is_file() and (tree / "usr/lib/systemd/systemd").exists():
        return tree
    partial = CACHE / f"{SUITE}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    command = ["debootstrap", "--variant=minbase", f"--include={INCLUDE}", SUITE, str(partial)]
    done = subprocess.run([*command, mirror()], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"debootstrap failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    partial.rename(tree)
    return tree


@dataclass
class Machine:
    """A booted copy of the base tree: `run` executes a shell command inside it as root."""

    tree: Path
    log: Path
    process: subprocess.Popen[bytes]
    leader: int = 0

    def run(self, command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """`command` by /bin/sh in the machine's namespaces, root, a clean environment."""
        enter = ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "-r", "-w"]
        environ = ["env", "-i", f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8", "TERM=dumb"]
        return subprocess.run(
            [*enter, "--", *environ, "/bin/sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def path(self, absolute: str) -> Path:
        """A path of the machine, seen from the host."""
        return self.tree / absolute.lstrip("/")

    def console(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _leader(nspawn: int) -> int:
    """The container's PID 1 as the host sees it (nspawn's child)."""
    children = Path(f"/proc/{nspawn}/task/{nspawn}/children")
    text = children.read_text() if children.exists() else ""
    return int(text.split()[0]) if text.split() else 0


@contextmanager
def boot(folder: Path, name: str) -> Iterator[Machine]:
    """A fresh copy of the base tree booted with systemd; powered off afterwards."""
    for port in (80, 443):
        if not port_free(port):
            pytest.fail(f"port {port} is taken on this machine: Caddy in the Debian needs it")
    tree = folder / "debian"
    copied = subprocess.run(["cp", "-a", "--reflink=auto", str(base_tree()), str(tree)])
    assert copied.returncode == 0
    (tree / "etc/hostname").write_text(f"{name}\n")
    if Path("/etc/pip.conf").is_file():
        shutil.copy2("/etc/pip.conf", tree / "etc/pip.conf")
    binds = [f"--bind-ro={f}" for f in PIP_FOLDERS if Path(f).is_dir()]
    log = folder / "console.log"
    command = [
        "systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--console=read-only",
        f"--directory={tree}", f"--machine={name}", *binds,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    machine = Machine(tree, log, process)
    try:
        deadline = time.monotonic() + 120
        state = ""
        while time.monotonic() < deadline and process.poll() is None:
            machine.leader = machine.leader or _leader(process.pid)
            if machine.leader:
                state = machine.run("systemctl is-system-running", timeout=30).stdout.strip()
                if state in ("running", "degraded"):
                    break
            time.sleep(0.5)
        if state not in ("running", "degraded"):
            pytest.fail(f"systemd did not boot in the container ({state}):\n{machine.console()}")
        yield machine
    finally:
        _power_off(process)


def _power_off(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM asks nspawn to power the container off; SIGKILL when it takes too long."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
