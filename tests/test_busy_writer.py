"""A write lock held by another connection (the worker, sync, Litestream, an operator's shell):
a request that waits for it gets its answer, or, past the wait, 503 with Retry-After and nothing
written; never 500 (issue 11, finding 4)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from edge.kernel.db import BUSY_TIMEOUT_MS
from tests.conftest import AGENT_QIANJIANG, login
from tests.intake_support import ITEMS, intake_data, photo, rows

CODE = "CW-004"
JSON = {"Accept": "application/json"}
WAIT_S = BUSY_TIMEOUT_MS / 1000


class HeldLock:
    """Another connection holding BEGIN IMMEDIATE on the node's database for `seconds`."""

    def __init__(self, path: object, seconds: float) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")
        self.released = threading.Event()
        self.timer = threading.Timer(seconds, self.release)
        self.timer.start()

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()
        self.released.set()


def _csrf(client) -> str:
    return client.get("/agent/outbox/session", headers=JSON).json()["csrf"]


def _put(client, data: bytes, csrf: str):
    sha256 = hashlib.sha256(data).hexdigest()
    headers = {**JSON, "Content-Type": "image/jpeg", "X-CSRF-Token": csrf}
    return client.put(f"/agent/outbox/photos/{sha256}", content=data, headers=headers)


def _post(client, csrf: str, key: str, tokens: dict[str, str], accept: dict[str, str] = JSON):
    data = intake_data(CODE, name="覃锁等") | {"csrf_token": csrf, "idempotency_key": key}
    data |= {f"kept_{material}": token for material, token in tokens.items()}
    return client.post(f"/agent/apply/{CODE}", data=data, headers=accept, follow_redirects=False)


def _tokens(client, csrf: str) -> dict[str, str]:
    keys = [m["key"] for m in ITEMS[CODE]["materials"]] + ["signature"]
    return {
        key: _put(client, photo((n * 60, 80, 200)), csrf).json()["token"]
        for n, key in enumerate(keys)
    }


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_requests_waiting_past_a_held_lock_get_503_with_retry_after_and_nothing_lands(
    client, settings
):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    tokens = _tokens(client, csrf)
    staged = len(rows(settings, "SELECT sha256 FROM staged_photos"))
    keys = [f"6d1c2a0e-0000-4000-8000-00000000000{n}" for n in range(3)]
    calls = [lambda key=key: _post(client, csrf, key, tokens) for key in keys]
    calls += [lambda n=n: _put(client, photo((10, n * 70, 90)), csrf) for n in range(3)]
    calls.append(lambda: _post(client, csrf, "6d1c2a0e-0000-4000-8000-0000000000ff", tokens, {}))
    lock = HeldLock(settings.database_path, WAIT_S + 3)
    with ThreadPoolExecutor(len(calls)) as pool:
        answered = list(pool.map(lambda call: _timed(call), calls))
    assert not lock.released.is_set(), "every request was answered while the lock was held"
    for response, took in answered:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == str(int(WAIT_S))
        assert WAIT_S - 0.5 < took < WAIT_S + 2
    assert "系统正忙" in answered[0][0].json()["error"]
    page = answered[-1][0]  # a browser's form post: the error page in the user's language
    assert page.headers["content-type"].startswith("text/html") and "系统正忙" in page.text
    assert rows(settings, "SELECT id FROM applications WHERE applicant_name = '覃锁等'") == []
    assert len(rows(settings, "SELECT sha256 FROM staged_photos")) == staged
    assert rows(settings, "SELECT key FROM idempotency_keys WHERE key IN (?, ?, ?)", *keys) == []
    lock.released.wait(10)
    retried = _post(client, csrf, keys[0], tokens)  # the app retries after Retry-After
    assert retried.status_code == 200, retried.text
    assert len(rows(settings, "SELECT id FROM applications WHERE applicant_name = '覃锁等'")) == 1


def test_requests_within_the_wait_get_their_answer(client, settings):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    tokens = _tokens(client, csrf)
    calls = [lambda: _post(client, csrf, "7e2d3b1f-0000-4000-8000-000000000001", tokens)]
    calls += [lambda n=n: _put(client, photo((n * 50, 30, 90)), csrf) for n in range(4)]
    lock = HeldLock(settings.database_path, WAIT_S - 2.5)
    with ThreadPoolExecutor(len(calls)) as pool:
        answered = list(pool.map(lambda call: _timed(call), calls))
    assert lock.released.is_set()
    assert [response.status_code for response, _ in answered] == [200] * len(calls)
    assert all(WAIT_S - 2.5 <= took < WAIT_S for _, took in answered)
    assert len(rows(settings, "SELECT id FROM applications WHERE applicant_name = '覃锁等'")) == 1
