"""Helpers for the 阳光红页 tests: post a staff or agent form with its key, seed demo content."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from edge.demo import load_demo_node
from edge.settings import Settings
from tests.conftest import csrf_of

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def post_form(client, path: str, data: dict[str, str], form_path: str | None = None, files=None):
    """POST `data` to `path` with the CSRF token and a fresh idempotency key of its form page."""
    page = client.get(form_path or path)
    body = {**data, "csrf_token": csrf_of(page.text), "idempotency_key": KEY.search(page.text)[1]}
    return client.post(path, data=body, files=files, follow_redirects=False)


def seed_demo(settings: Settings, now: datetime) -> None:
    """The node's full demo (applications and public content), as `make run` loads it."""
    asyncio.run(load_demo_node(settings, now))
