"""The real edge node (`python -m edge serve`, demo data) in the server namespace, bound to
the server's veth address, plain HTTP as in tests/browser_support.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.weaklink.rig import Rig, RigError
from tests.conftest import LIANZHOU

EDGE_PORT = 8000
START_SECONDS = 90


def edge_environ(rig: Rig, folder: Path) -> dict[str, str]:
    """The node's settings: demo data in `folder`, the server address (also its public base
    URL: not loopback, so the node needs one), cookies without Secure."""
    return {
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": LIANZHOU,
        "CUNBAN_DATA_DIR": str(folder / "edge"),
        "CUNBAN_HOST": rig.server.address,
        "CUNBAN_PORT": str(EDGE_PORT),
        "CUNBAN_BASE_URL": f"http://{rig.server.address}:{EDGE_PORT}",
        "CUNBAN_COOKIE_SECURE": "false",
        "CUNBAN_DEMO": "true",
        "CUNBAN_LOG_LEVEL": "warning",
    }


def start_edge(rig: Rig, folder: Path) -> str:
    """Start the node, wait until the client side gets 200 from /healthz; its base URL."""
    log = folder / "edge.log"
    node = rig.spawn(
        rig.server, [sys.executable, "-m", "edge", "serve"], edge_environ(rig, folder), log
    )
    url = f"http://{rig.server.address}:{EDGE_PORT}"
    probe = [sys.executable, "-m", "bench.weaklink.bulk", "probe", f"{url}/healthz"]
    try:
        rig.client.run([*probe, "--timeout", str(START_SECONDS)])
    except RigError as error:
        output = log.read_text(errors="replace")[-2000:]
        raise RigError(f"the edge node did not answer (exit {node.poll()}):\n{output}") from error
    return url
