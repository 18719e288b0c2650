"""The node's worker runs the jobs features declare: tick jobs every 10 s, cron jobs on their
crontab, on-demand jobs when asked (the web app asks after an intake's commit);
`python -m edge worker` drains the SMS outbox and uploads a new intake's photos at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from huey import crontab
from starlette.testclient import TestClient

from edge.app import create_app
from edge.kernel.db import Database, connect_sync
from edge.kernel.jobs import Job
from edge.schema import migrate_database
from edge.settings import Settings
from edge.sms.outbox import enqueue
from edge.worker import JOBS, make_huey
from replication.objectstore import blob_key
from replication.store_config import StoreSettings
from tests.conftest import AGENT_QIANJIANG, LIANZHOU, login, prepare
from tests.intake_support import rows, submit

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        node_id="lianzhou",
        township_code=LIANZHOU,
        data_dir=tmp_path / "edge",
        replica=StoreSettings(replica_dir=tmp_path / "replica"),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings(tmp_path)


def test_every_feature_declares_its_jobs_once():
    assert sorted(job.name for job in JOBS) == [
        "blob_upload_tick",
        "deadline_scan",
        "feedback_scan",
        "market_expiry",
        "push_tick",
        "sms_tick",
        "staged_expiry",
    ]
    ticks = {job.name for job in JOBS if job.cron is None}
    assert ticks == {"sms_tick", "blob_upload_tick", "push_tick"}
    assert [job.name for job in JOBS if job.on_demand] == ["sms_tick", "blob_upload_tick"]
    cron = {job.name: job.cron for job in JOBS if job.cron is not None}
    scan = cron["deadline_scan"]
    assert [m for m in range(60) if scan(T0 + timedelta(minutes=m))] == [0, 15, 30, 45]
    market = cron["market_expiry"]
    assert [m for m in range(60) if market(T0 + timedelta(minutes=m))] == [0, 15, 30, 45]
    day = [T0.replace(hour=0) + timedelta(minutes=m) for m in range(24 * 60)]
    assert [t.strftime("%H:%M") for t in day if cron["staged_expiry"](t)] == ["03:40"]


def test_a_declared_job_runs_as_the_feature_says(tmp_path):
    ran: list[tuple[str, datetime]] = []

    def record(name: str):
        return lambda settings, now: ran.append((name, now))

    jobs = (
        Job("every_tick", record("every_tick")),
        Job("when_asked", record("when_asked"), on_demand=True),
        Job("nightly", record("nightly"), cron=crontab(hour="2", minute="0")),
    )
    huey = make_huey(_settings(tmp_path), clock=lambda: T0, jobs=jobs)
    huey.immediate = True
    huey.send_now()
    assert ran == [("when_asked", T0)]
    huey.schedule_ticks()  # one of each tick job now (immediate mode runs it), five every 10 s
    assert ran[1:] == [("every_tick", T0), ("when_asked", T0)]
    for name in ("every_tick", "when_asked"):
        etas = sorted(task.eta for task in huey.scheduled() if task.name == name)
        assert [round((b - a).total_seconds()) for a, b in pairwise(etas)] == [10, 10, 10, 10]
    at_two = {task.name for task in huey.read_periodic(datetime(2026, 11, 24, 2, 0))}
    at_nine = {task.name for task in huey.read_periodic(datetime(2026, 11, 24, 9, 0))}
    assert (at_two, at_nine) == ({"nightly", "schedule_ticks"}, {"schedule_ticks"})


async def _queue_one(settings: Settings) -> str | None:
    db = Database(settings.database_path)
    await db.open()
    try:
        await migrate_database(db)
        async with db.write() as conn:
            return await enqueue(
                conn,
                phone="13812345678",
                template="accepted",
                params={"item": "最低生活保障申请", "code": "ABCD-EFGH-JKM", "date": "2026-12-31"},
                locale="zh_Hans",
                now=datetime.now(UTC),
            )
    finally:
        await db.close()


def _photos_uploaded(settings: Settings) -> list[bool]:
    """For each blob the node recorded: uploaded, and its bytes in the store."""
    found = rows(settings, "SELECT sha256, upload_state FROM blobs")
    store = settings.replica.replica_dir
    return [
        row["upload_state"] == "sent" and (store / blob_key("lianzhou", row["sha256"])).is_file()
        for row in found
    ]


def test_an_intake_commit_asks_the_worker_to_upload_its_photos(client, settings, clock):
    login(client, AGENT_QIANJIANG)
    assert submit(client, "MZ-002").status_code == 303
    huey = make_huey(settings, clock=clock)
    assert [task.name for task in huey.pending()] == ["send_now"]
    assert not any(_photos_uploaded(settings))
    huey.execute(huey.dequeue())
    uploaded = _photos_uploaded(settings)
    assert len(uploaded) >= 4 and all(uploaded)  # each photo and its thumbnail


def _start_worker(settings: Settings) -> subprocess.Popen[str]:
    env = os.environ | {
        "CUNBAN_NODE_ID": settings.node_id,
        "CUNBAN_TOWNSHIP_CODE": settings.township_code,
        "CUNBAN_DATA_DIR": str(settings.data_dir),
        "CUNBAN_REPLICA_DIR": str(settings.replica.replica_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "edge", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_running_worker_uploads_new_photos_before_its_next_tick(settings):
    asyncio.run(prepare(settings))
    worker = _start_worker(settings)
    try:
        queue = make_huey(settings)
        deadline = time.monotonic() + 60
        while queue.scheduled_count() < 10 and time.monotonic() < deadline:  # ticks scheduled
            assert worker.poll() is None
            time.sleep(0.1)
        time.sleep(12)  # idle long enough for a worker that backs off its polling to do so
        with TestClient(create_app(settings), base_url="https://testserver") as client:
            login(client, AGENT_QIANJIANG)
            assert submit(client, "MZ-002").status_code == 303
        committed = time.monotonic()
        while not all(_photos_uploaded(settings)) and time.monotonic() < committed + 30:
            time.sleep(0.05)
        waited = time.monotonic() - committed
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert all(_photos_uploaded(settings)), errors
    assert waited < 5, f"photos uploaded {waited:.1f} s after the commit"  # a tick: up to 10 s


def test_the_worker_command_drains_the_outbox(tmp_path):
    settings = _settings(tmp_path)
    message_id = asyncio.run(_queue_one(settings))
    worker = _start_worker(settings)
    try:
        deadline = time.monotonic() + 60
        state = "queued"
        while state != "sent" and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.5)
            conn = connect_sync(settings.database_path)
            try:
                query = "SELECT state FROM sms_outbox WHERE id = ?"
                state = conn.execute(query, (message_id,)).fetchone()["state"]
            finally:
                conn.close()
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert state == "sent", errors
