"""CPU time of one signed-in request in process (issue 17): `/staff/` and `/agent/` through the
ASGI app called directly (no network, no server), brotli and identity, with the share spent in
Jinja; for this tree and, with `--before REF`, for a copy of that ref in the same run.

    .venv/bin/python -m bench.signed_in_cpu --before a241f79
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PAGES = (("/staff/", "13807710002"), ("/agent/", "13807710011"))  # tests.conftest STAFF, agent
ENCODINGS = ("gzip, deflate, br", "identity")
REPEATS, REQUESTS = 7, 200  # the best of REPEATS rounds of REQUESTS requests


def child() -> dict[str, tuple[float, float]]:
    """(page and encoding -> (CPU ms a request, of which Jinja)) for the code on sys.path."""
    import jinja2.environment
    from starlette.testclient import TestClient

    from edge.app import create_app
    from edge.demo import load_demo_node
    from edge.settings import Settings
    from tests.conftest import LIANZHOU, login

    folder = Path(tempfile.mkdtemp(prefix="cunban-cpu-"))
    settings = Settings(node_id="lianzhou", township_code=LIANZHOU, data_dir=folder / "edge")
    asyncio.run(load_demo_node(settings, datetime.now(UTC), history=True))  # as `make run`
    cookies = {}
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        for path, phone in PAGES:
            client.cookies.clear()
            login(client, phone)
            cookies[path] = f"cb_session={client.cookies['cb_session']}"
    app = create_app(settings)
    in_jinja = [0.0]
    render = jinja2.environment.Template.render

    def timed(self: Any, *args: Any, **kwargs: Any) -> str:
        start = time.process_time()
        try:
            return render(self, *args, **kwargs)
        finally:
            in_jinja[0] += time.process_time() - start

    jinja2.environment.Template.render = timed  # type: ignore[method-assign]

    async def one(path: str, encoding: str) -> None:
        headers = [(b"host", b"testserver"), (b"accept-encoding", encoding.encode())]
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "app": app,
            "headers": [*headers, (b"cookie", cookies[path].encode())],
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 443),
        }
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, receive, send)
        assert sent[0]["status"] == 200, sent[0]

    async def run() -> dict[str, tuple[float, float]]:
        out = {}
        async with app.router.lifespan_context(app):
            for path, _phone in PAGES:
                for encoding in ENCODINGS:
                    for _ in range(30):
                        await one(path, encoding)
                    rounds = []
                    for _ in range(REPEATS):
                        in_jinja[0] = 0.0
                        start = time.process_time()
                        for _ in range(REQUESTS):
                            await one(path, encoding)
                        spent = time.process_time() - start
                        rounds.append((spent / REQUESTS * 1000, in_jinja[0] / REQUESTS * 1000))
                    out[f"{path} {encoding.split(',')[-1].strip()}"] = min(rounds)
        return out

    return asyncio.run(run())


def measured(source: Path) -> dict[str, tuple[float, float]]:
    """`child()` in a process of its own on the code in `source`."""
    script = str(Path(__file__).resolve())  # run by path, importing only from `source` (-c)
    runner = f"import runpy, sys; sys.argv = [{script!r}, '--child']; runpy.run_path({script!r})"
    argv = [sys.executable, "-c", runner]
    environ = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(argv, cwd=source, env=environ, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return {k: tuple(v) for k, v in json.loads(done.stdout.splitlines()[-1]).items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="git ref to compare with, run from a copy")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child()))
        return 0
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="cunban-cpu-") as tmp:
        before = None
        if args.before:
            from bench.page_rate import source_of

            before = measured(source_of(args.before, Path(tmp) / "before"))
        after = measured(root)
    print(f"load average {os.getloadavg()[0]:.1f}; CPU ms a request (of which Jinja)")
    for key, (total, jinja) in after.items():
        line = f"{key:20} now {total:.2f} ({jinja:.2f})"
        if before:
            old, old_jinja = before[key]
            line += f"  {args.before} {old:.2f} ({old_jinja:.2f})  {old / total:.2f}x"
        print(line)
    return 0


if __name__ in ("__main__", "<run_path>"):
    sys.exit(main())
