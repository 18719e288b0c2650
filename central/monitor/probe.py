"""Ask every edge's /healthz at once, never waiting longer than a short timeout in total."""

from __future__ import annotations

import asyncio
import http.client
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.request import ProxyHandler, build_opener

TIMEOUT_SECONDS = 1.5

# Straight to the edges (no proxy from the environment); own threads, so a hung edge never
# holds up threads the rest of the app needs.
_opener = build_opener(ProxyHandler({}))
_threads = ThreadPoolExecutor(max_workers=32, thread_name_prefix="healthz-probe")


def fetch_health(base_url: str, timeout: float) -> str:
    """`ok` if {base_url}/healthz answers 200, `unhealthy` on an HTTP error, else `unreachable`."""
    try:
        with _opener.open(base_url.rstrip("/") + "/healthz", timeout=timeout) as response:
            return "ok" if response.status == 200 else "unhealthy"
    except HTTPError:
        return "unhealthy"
    except (OSError, ValueError, http.client.HTTPException):
        return "unreachable"


async def edge_health(
    base_urls: Mapping[str, str], timeout: float = TIMEOUT_SECONDS
) -> dict[str, str]:
    """Health by node id; a node that has not answered within `timeout` is unreachable."""
    loop = asyncio.get_running_loop()
    probes = {
        node_id: loop.run_in_executor(_threads, fetch_health, url, timeout)
        for node_id, url in base_urls.items()
    }
    done: set[asyncio.Future[str]] = set()
    if probes:
        done, pending = await asyncio.wait(probes.values(), timeout=timeout)
        for probe in pending:
            probe.cancel()
    return {
        node_id: probe.result() if probe in done and probe.exception() is None else "unreachable"
        for node_id, probe in probes.items()
    }
