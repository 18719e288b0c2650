"""Raising feedback through the real public form, and reading what landed, for the tests."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import QIANJIANG

CODE_IN_PAGE = re.compile(r"/feedback/track/([0-9A-Z]{11})")


def raise_item(client: TestClient, **fields: Any) -> Any:
    """POST the public form (signed out, no token), not followed."""
    client.get("/feedback/new")
    data = {
        "village": QIANJIANG,
        "kind": "problem",
        "category": "roads",
        "body": "村口的路灯坏了一个月，晚上看不见路。",
        "name": "",
        "phone": "",
        **{k: v for k, v in fields.items() if k != "files"},
    }
    return client.post(
        "/feedback/new", data=data, files=fields.get("files"), follow_redirects=False
    )


def code_of(response: Any) -> str:
    """The tracking code the form's answer redirects to."""
    match = CODE_IN_PAGE.search(response.headers["location"])
    assert match, response.headers.get("location")
    return match.group(1)


def rows(path: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    """Rows of the node's database."""
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return list(conn.execute(sql, params).fetchall())


def item_of(path: Path, code: str) -> sqlite3.Row:
    """The feedback row of a tracking code."""
    return rows(path, "SELECT * FROM feedback WHERE tracking_code = ?", code)[0]
