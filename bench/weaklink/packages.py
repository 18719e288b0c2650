"""What the rig needs on this machine: iproute2, iptables, ping, Debian chromium, and the PyPI
netfilterqueue (built against libnetfilter-queue-dev). Installed here when missing, said so.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.weaklink.rig import ROOT
from tests.browser_support import CHROMIUM

HEADER = Path("/usr/include/libnetfilter_queue/libnetfilter_queue.h")
DEBIAN: dict[str, Callable[[], bool]] = {
    "iproute2": lambda: bool(shutil.which("ip") and shutil.which("tc")),
    "iptables": lambda: bool(shutil.which("iptables")),
    "iputils-ping": lambda: bool(shutil.which("ping")),
    "chromium": CHROMIUM.exists,
    "libnetfilter-queue-dev": HEADER.exists,
    "gcc": lambda: bool(shutil.which("cc")),
}
PYPI = "netfilterqueue"  # its version is pinned in constraints.txt


class MissingPackage(RuntimeError):
    """Something the rig needs is missing and could not be installed."""


def _apt(packages: list[str]) -> None:
    """apt-get install; after an apt-get update if the first try fails."""
    install = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    done = _quiet(install)
    if done.returncode != 0:
        _quiet(["apt-get", "update"])
        done = _quiet(install)
    if done.returncode != 0:
        raise MissingPackage(f"`{' '.join(install)}` failed: {done.stderr[-1500:]}")


def _quiet(command: list[str]) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(command, env=environ, capture_output=True, text=True, check=False)


def _pip() -> None:
    command = [sys.executable, "-m", "pip", "install", "-q", "-c", "constraints.txt", PYPI]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MissingPackage(f"`{' '.join(command)}` failed: {done.stderr[-1500:]}")


def ensure(say: Callable[[str], None]) -> None:
    """Install whatever is missing (apt-get, then pip into this venv), telling `say`."""
    missing = [package for package, present in DEBIAN.items() if not present()]
    if missing:
        say(f"installing Debian packages the rig needs: {' '.join(missing)}")
        _apt(missing)
    if importlib.util.find_spec(PYPI) is None:
        say(f"installing {PYPI} (PyPI, pinned in constraints.txt) into {sys.prefix}")
        _pip()
