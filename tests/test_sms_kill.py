"""SMS through a real worker process SIGKILLed between the gateway's accept and the mark: the
next worker settles the batch within 30 s, asks the gateway before sending again, counts
attempts truthfully and logs what it sends with the phone masked."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.kernel.db import Database, connect_sync
from edge.schema import migrate_database
from edge.settings import Settings
from edge.sms.outbox import enqueue
from tests.conftest import LIANZHOU
from tests.sms_provider import Provider, running_provider

ROOT = Path(__file__).resolve().parent.parent
SECRET = "kill-test-secret"
PHONES = [f"1390000{n:04}" for n in range(5)]
PARAMS = {"item": "最低生活保障申请", "code": "ABCD-EFGH-JKM", "date": "2026-12-31"}
REQUEUE_WITHIN = 30  # seconds from the kill to the whole batch sent


async def _queue(settings: Settings) -> list[str]:
    db = Database(settings.database_path)
    await db.open()
    try:
        await migrate_database(db)
        ids = []
        for phone in PHONES:
            async with db.write() as conn:
                message_id = await enqueue(
                    conn,
                    phone=phone,
                    template="accepted",
                    params={
                        "item": "最低生活保障申请",
                        "code": "ABCD-EFGH-JKM",
                        "date": "2026-12-31",
                    },
                    locale="zh_Hans",
                    now=datetime.now(UTC),
                )
            assert message_id
            ids.append(message_id)
        return ids
    finally:
        await db.close()


@contextmanager
def worker(settings: Settings, provider: Provider, log: Path) -> Iterator[subprocess.Popen]:
    env = os.environ | {
        "CUNBAN_NODE_ID": settings.node_id,
        "CUNBAN_TOWNSHIP_CODE": settings.township_code,
        "CUNBAN_DATA_DIR": str(settings.data_dir),
        "CUNBAN_REPLICA_DIR": str(settings.data_dir.parent / "replica"),
        "CUNBAN_SMS_GATEWAY": "http",
        "CUNBAN_SMS_HTTP_URL": provider.url,
        "CUNBAN_SMS_HTTP_SECRET": SECRET,
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "edge", "worker"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def rows(settings: Settings, ids: list[str]) -> list[tuple[str, int, int]]:
    with closing(connect_sync(settings.database_path)) as conn:
        found = {
            row["id"]: (row["state"], row["attempts"], row["unconfirmed"])
            for row in conn.execute("SELECT * FROM sms_outbox")
        }
    return [found[message_id] for message_id in ids]


@pytest.mark.parametrize("answers", [True, False], ids=["gateway-answers", "gateway-cannot-tell"])
def test_a_worker_killed_mid_send(tmp_path, answers):
    settings = Settings(node_id="lianzhou", township_code=LIANZHOU, data_dir=tmp_path / "edge")
    ids = asyncio.run(_queue(settings))
    with running_provider(SECRET) as provider:
        provider.answers = answers
        provider.stall_at = 1  # takes the second message, then never answers
        with worker(settings, provider, tmp_path / "first.log") as first:
            assert provider.stalled.wait(60), (tmp_path / "first.log").read_text()
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
            killed_at = time.monotonic()
        provider.release.set()
        cut_off = rows(settings, ids)
        with worker(settings, provider, tmp_path / "second.log") as second:
            while time.monotonic() - killed_at < REQUEUE_WITHIN and second.poll() is None:
                if all(state == "sent" for state, _, _ in rows(settings, ids)):
                    break
                time.sleep(0.2)
            settled_after = time.monotonic() - killed_at
        final = rows(settings, ids)
        posts = list(provider.posts)
    log = (tmp_path / "second.log").read_text()
    print(f"killed mid-send, answers={answers}: all sent {settled_after:.1f} s after the kill")

    # the kill left the first sent, the second counted and in flight, the rest claimed untried
    assert cut_off == [("sent", 1, 0), ("sending", 1, 0)] + [("sending", 0, 0)] * 3
    assert all(state == "sent" for state, _, _ in final), (final, log)
    assert settled_after < REQUEUE_WITHIN
    if answers:  # exactly once: the gateway said it had the second
        assert posts == ids
        assert final == [("sent", 1, 0)] * 5
    else:  # at least once, and visibly: counted twice, marked unconfirmed
        assert posts == [*ids[:2], ids[1], *ids[2:]]
        assert final == [("sent", 1, 0), ("sent", 2, 1)] + [("sent", 1, 0)] * 3
    resent = ids[2:] if answers else ids[1:]
    for message_id, phone in zip(ids, PHONES, strict=True):
        assert phone not in log
        masked = f"{phone[:3]}****{phone[-4:]}"
        assert (f"sms {message_id} sent to {masked}" in log) == (message_id in resent), log
