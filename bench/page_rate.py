"""Requests per second of one edge web process per page (wrk, loopback), for the code before and
after a change and for bare Starlette + uvicorn serving the same bytes from memory, in one run
(issue 17 goal 2)."""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx2

from bench.bare_pages import CAPTURE_ENV
from bench.performance_doc import replace_section
from edge.accounts.demo_people import DEMO_PASSWORD
from tests.conftest import AGENT_QIANJIANG, LIANZHOU, STAFF

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
SECTION = "## Page rate: one edge web process against bare Starlette (bench/page_rate.py)"
ANONYMOUS = [
    "/",
    "/services",
    "/services/MZ-002",
    "/disclosure/powers",
    "/news",
    "/track",
    "/feedback",
    "/market",
    "/login",
]
SIGNED_IN = [(STAFF, "/staff/"), (AGENT_QIANJIANG, "/agent/")]
BROWSER = {"Accept-Encoding": "gzip, deflate, br", "Accept-Language": "zh-CN,zh;q=0.9"}
RATE = re.compile(r"Requests/sec:\s+([0-9.]+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx2.get(url, timeout=2).status_code < 500:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


@contextmanager
def process(argv: list[str], cwd: Path, environ: dict[str, str], log: Path) -> Iterator[None]:
    """A child process, terminated (then killed) when the block ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        child = subprocess.Popen(
            argv, cwd=cwd, env={**os.environ, **environ}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextmanager
def edge(source: Path, folder: Path) -> Iterator[str]:
    """`python -m edge serve` of the code in `source`, demo data, plain HTTP; its URL."""
    port = free_port()
    environ = {
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": LIANZHOU,
        "CUNBAN_DATA_DIR": str(folder / "edge"),
        "CUNBAN_HOST": "127.0.0.1",
        "CUNBAN_PORT": str(port),
        "CUNBAN_BASE_URL": f"http://127.0.0.1:{port}",
        "CUNBAN_COOKIE_SECURE": "false",
        "CUNBAN_DEMO": "true",
        "CUNBAN_LOG_LEVEL": "warning",
        "PYTHONPATH": str(source),
    }
    argv = [sys.executable, "-m", "edge", "serve"]
    with process(argv, source, environ, folder / "edge.log"):
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/healthz")
        yield url


def session_cookie(url: str, phone: str) -> str:
    """Sign in through the login form; the `Cookie` header of the session."""
    with httpx2.Client(base_url=url, headers={"Origin": url}) as client:
        client.get("/login")
        client.post("/login", data={"phone": phone, "password": DEMO_PASSWORD, "next": ""})
        return f"cb_session={client.cookies['cb_session']}"


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> float:
    """wrk's Requests/sec for one URL (one thread, `connections` kept-alive connections)."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx answers\n{out}")
    found = RATE.search(out)
    if found is None:
        raise RuntimeError(out)
    return float(found.group(1))


def rates(url: str, args: argparse.Namespace) -> dict[str, float]:
    """req/s of every page of the node at `url`, anonymous and signed in."""
    out = {path: wrk(url + path, BROWSER, args.seconds, args.connections) for path in ANONYMOUS}
    for phone, path in SIGNED_IN:
        headers = {**BROWSER, "Cookie": session_cookie(url, phone)}
        out[f"{path} (signed in)"] = wrk(url + path, headers, args.seconds, args.connections)
    return out


def capture(url: str, folder: Path) -> Path:
    """Each anonymous page's body (still compressed) and headers as the node sends them, for
    the bare server."""
    pages = {}
    for path in ANONYMOUS:
        with httpx2.stream("GET", url + path, headers=BROWSER) as response:
            body = b"".join(response.iter_raw())
            skip = ("content-length", "date", "server")
            headers = {k: v for k, v in response.headers.items() if k not in skip}
        pages[path] = (base64.b64encode(body).decode(), headers)
    file = folder / "pages.json"
    file.write_text(json.dumps(pages), encoding="utf-8")
    return file


def bare_rates(capture_file: Path, folder: Path, args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.bare_pages", str(port)]
    with process(argv, ROOT, {CAPTURE_ENV: str(capture_file)}, folder / "bare.log"):
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/services")
        return {
            path: wrk(url + path, BROWSER, args.seconds, args.connections) for path in ANONYMOUS
        }


def source_of(ref: str, folder: Path) -> Path:
    """The tree of git `ref`, extracted into `folder` (never touching the work tree)."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", "edge/locale"],
        cwd=folder,
        capture_output=True,
        check=False,
    )
    return folder


def render(
    before: dict[str, float],
    after: dict[str, float],
    bare: dict[str, float],
    args: argparse.Namespace,
) -> str:
    load = os.getloadavg()
    lines = [
        SECTION,
        "",
        f"Measured {date.today().isoformat()}, {os.cpu_count()} CPUs shared with other work "
        f"(load average {load[0]:.1f} at the end), Linux {platform.release()}, Python "
        f"{platform.python_version()}. Command: `.venv/bin/python -m bench.page_rate "
        f"--before {args.before}`. wrk 4.1, one thread, {args.connections} connections, "
        f"{args.seconds} s per page, `Accept-Encoding: gzip, deflate, br`, on loopback; one "
        "`python -m edge serve` (demo data) at a time, then bare Starlette + uvicorn "
        "answering each page with the bytes and headers the node sent (bench/bare_pages.py), "
        "in the same run.",
        "",
        f"| Page | before ({args.before}) | after | bare | after / bare | after / before |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for page, rate in after.items():
        plain = page.removesuffix(" (signed in)")
        ceiling = bare.get(page) if plain == page else None
        share = f"{rate / ceiling:.0%}" if ceiling else "–"
        ceiling_text = f"{ceiling:,.0f}" if ceiling else "–"
        gain = f"{rate / before[page]:.1f}x" if before[page] else "–"
        lines.append(
            f"| `{plain}`{' signed in' if plain != page else ''} | {before[page]:,.0f} | "
            f"{rate:,.0f} | {ceiling_text} | {share} | {gain} |"
        )
    lines += [
        "",
        "- *before*: the tree of the named git ref, run from a copy; *after*: this tree. "
        "Every anonymous page here is kept in memory per content version "
        "(edge/kernel/page_cache.py; `/login` with the node's one visitor cookie, sent to "
        "wrk, which keeps no cookies, every time); the signed-in pages are rendered each "
        "time, their session found without SQL while the database is unchanged "
        "(edge/kernel/auth/session_cache.py).",
        "- Signed in: the demo staff member (`/staff/`) and agent (`/agent/`), with their "
        "session cookie.",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default="main", help="git ref of the code to compare with")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-doc", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cunban-rate-") as root:
        folder = Path(root)
        old = source_of(args.before, folder / "before")
        with edge(old, folder / "run-before") as url:
            before = rates(url, args)
        print("before", before, file=sys.stderr)
        with edge(ROOT, folder / "run-after") as url:
            after = rates(url, args)
            pages = capture(url, folder)
        print("after", after, file=sys.stderr)
        bare = bare_rates(pages, folder, args)
        print("bare", bare, file=sys.stderr)
    markdown = render(before, after, bare, args)
    print(markdown)
    if not args.no_doc:
        replace_section(DOC, SECTION, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
