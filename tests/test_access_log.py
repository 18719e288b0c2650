"""The web process's log (what journald keeps): one line per request by route template, so a
visit to /track/<code> writes the template, never the code, the query or the client's address;
uvicorn's own access log, which writes the raw path, is off."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.cluster import ROOT, free_port, wait_for
from tests.conftest import LIANZHOU


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code
    except OSError:
        return 0


def test_a_track_visit_is_logged_by_its_route_not_its_code(tmp_path: Path):
    port = free_port()
    environ = {
        **os.environ,
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": LIANZHOU,
        "CUNBAN_DATA_DIR": str(tmp_path / "edge"),
        "CUNBAN_PORT": str(port),
        "CUNBAN_DEMO": "true",
        "CUNBAN_LOG_LEVEL": "info",
    }
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        web = subprocess.Popen(
            [sys.executable, "-m", "edge", "serve"], cwd=ROOT, env=environ, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _status(f"{base}/healthz") == 200, 90, "the edge web process")
            with sqlite3.connect(tmp_path / "edge/edge.db") as db:
                code = db.execute("SELECT tracking_code FROM applications LIMIT 1").fetchone()[0]
            assert _status(f"{base}/track/{code}?lang=zh") == 200
            assert _status(f"{base}/track/{code}-NOT-A-CODE") == 404
            wait_for(lambda: "/track/{code} 404" in log.read_text(), 10, "the access lines")
        finally:
            web.terminate()
            web.wait(timeout=20)
    text = log.read_text()
    assert "GET /track/{code} 200" in text and "GET /healthz 200" in text
    assert code not in text and "NOT-A-CODE" not in text and "lang=zh" not in text
    assert "127.0.0.1:" not in text.replace(f"http://127.0.0.1:{port}", "")  # no client address
