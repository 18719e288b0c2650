"""Two network namespaces made for one run, joined by a veth pair, and the processes started
in them; all of it is removed at the end. Nothing is changed in the caller's own namespace.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PREFIX = "cunban-wl-"
SERVER_ADDRESS = "10.77.0.1"
CLIENT_ADDRESS = "10.77.0.2"
PREFIX_LENGTH = 30
STOP_SECONDS = 10
OWNER = re.compile(rf"^{PREFIX}(\d+)-")


class RigError(RuntimeError):
    """A command building or driving the rig failed."""


def run(argv: Sequence[str]) -> str:
    """Run a command to completion; its stdout, or RigError with its stderr."""
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RigError(f"`{' '.join(argv)}` exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def namespaces() -> list[str]:
    """The names `ip netns list` shows."""
    return [line.split()[0] for line in run(["ip", "netns", "list"]).splitlines() if line]


@dataclass
class Side:
    """One namespace of the rig: its name, its end of the veth pair and its address."""

    namespace: str
    device: str
    address: str

    def argv(self, command: Sequence[str]) -> list[str]:
        """`command` run inside this namespace."""
        return ["ip", "netns", "exec", self.namespace, *command]

    def run(self, command: Sequence[str]) -> str:
        """Run `command` inside this namespace and return its stdout."""
        return run(self.argv(command))


@dataclass
class Rig:
    """The server side (edge node, bulk server) and the client side (Chromium, ping)."""

    server: Side
    client: Side
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def named_for(cls, pid: int) -> Rig:
        """Names unique to this run (its pid), veth names within the 15-character limit."""
        return cls(
            Side(f"{PREFIX}{pid}-server", f"wls{pid}", SERVER_ADDRESS),
            Side(f"{PREFIX}{pid}-client", f"wlc{pid}", CLIENT_ADDRESS),
        )

    def build(self) -> None:
        """Create both namespaces, the veth pair between them, addresses, links up."""
        for side in (self.server, self.client):
            run(["ip", "netns", "add", side.namespace])
        run(
            [
                *("ip", "link", "add", self.server.device, "netns", self.server.namespace),
                *("type", "veth", "peer", "name", self.client.device),
                *("netns", self.client.namespace),
            ]
        )
        for side in (self.server, self.client):
            side.run(["ip", "addr", "add", f"{side.address}/{PREFIX_LENGTH}", "dev", side.device])
            side.run(["ip", "link", "set", side.device, "up"])
            side.run(["ip", "link", "set", "lo", "up"])
            side.run(["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"])

    def spawn(
        self,
        side: Side,
        command: Sequence[str],
        environ: dict[str, str] | None = None,
        log: Path | None = None,
        stdin: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start `command` in `side`'s namespace, in a process group of its own (so Ctrl-C
        reaches only this runner, which stops it); output to `log` or piped; stdin piped
        when asked (else inherited)."""
        out = log.open("ab") if log else None
        try:
            process = subprocess.Popen(
                side.argv(command),
                cwd=ROOT,
                env={**os.environ, **(environ or {})},
                stdin=subprocess.PIPE if stdin else None,
                stdout=out or subprocess.PIPE,
                stderr=subprocess.STDOUT if out else None,
                start_new_session=True,
            )
        finally:
            if out:
                out.close()
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM the process's group, SIGKILL it if it lingers, and forget it."""
        stop_group(process)
        if process in self.processes:
            self.processes.remove(process)

    def destroy(self) -> None:
        """Stop every process started here and any they left inside the namespaces (Chromium
        runs in a process group of its own), then delete both namespaces (and so the veth
        pair, its qdiscs and the namespaces' iptables rules)."""
        for process in list(reversed(self.processes)):
            self.stop(process)
        present = set(namespaces())
        for side in (self.server, self.client):
            if side.namespace in present:
                remove_namespace(side.namespace)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group this runner made for `process`, wait for its leader, then
    SIGKILL whatever of the group is left."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_SECONDS)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def remove_stale() -> list[str]:
    """Delete namespaces left by an earlier run that died without cleaning up (its pid is
    gone), after stopping what still runs in them. Returns their names."""
    removed = []
    for name in namespaces():
        owner = OWNER.match(name)
        if not owner or Path(f"/proc/{owner[1]}").exists():
            continue
        remove_namespace(name)
        removed.append(name)
    return removed


def remove_namespace(name: str) -> None:
    """SIGKILL whatever still runs in namespace `name` (one this bench made), then delete it."""
    for pid in run(["ip", "netns", "pids", name]).split():
        _kill(int(pid))
    run(["ip", "netns", "del", name])


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
