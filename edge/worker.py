"""The node's worker: huey on the node's queue file, running the jobs each feature declares in
its `jobs.py` (outbox drains every 10 s, the deadline scan, the staged photo expiry).

huey may lose a task; the outbox rows are the durable intent, so a lost task only delays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from huey import SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.consumer import Consumer

from edge.agent_outbox import jobs as agent_outbox_jobs
from edge.blobs import jobs as blob_jobs
from edge.feedback import jobs as feedback_jobs
from edge.kernel.clock import Clock, system_clock
from edge.kernel.jobs import Job
from edge.market import jobs as market_jobs
from edge.push import jobs as push_jobs
from edge.settings import Settings
from edge.sms import jobs as sms_jobs
from edge.supervision import jobs as supervision_jobs

TICK_SECONDS = 10
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger(__name__)

JOBS: tuple[Job[Settings], ...] = (
    *sms_jobs.JOBS,
    *blob_jobs.JOBS,
    *push_jobs.JOBS,
    *supervision_jobs.JOBS,
    *feedback_jobs.JOBS,
    *agent_outbox_jobs.JOBS,
    *market_jobs.JOBS,
)


class NodeHuey(SqliteHuey):
    """huey on the node's queue file; `send_now()` runs the on-demand jobs (enqueue it after
    COMMIT), `schedule_ticks()` (every minute) spreads six runs of each tick job over it."""

    send_now: TaskWrapper
    schedule_ticks: TaskWrapper


def _bound(job: Job[Settings], settings: Settings, clock: Clock) -> Callable[[], object]:
    return lambda: job.run(settings, clock())


def make_huey(
    settings: Settings, clock: Clock = system_clock, jobs: Sequence[Job[Settings]] = JOBS
) -> NodeHuey:
    """The huey app of a node: a task per job, tick jobs every 10 s, cron jobs on their crontab."""
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    queue = NodeHuey("cunban-worker", results=False, filename=str(settings.queue_path))
    ticks = [
        queue.task(name=job.name)(_bound(job, settings, clock)) for job in jobs if job.cron is None
    ]
    for job in jobs:
        if job.cron is not None:
            queue.periodic_task(job.cron, name=job.name)(_bound(job, settings, clock))
    on_demand = [_bound(job, settings, clock) for job in jobs if job.on_demand]

    def send_now() -> None:
        for run in on_demand:
            run()

    def schedule_ticks() -> None:
        # huey's periodic tasks fire once a minute: spread six ticks over it
        for delay in range(0, 60, TICK_SECONDS):
            for tick in ticks:
                tick.schedule(delay=delay, expires=delay + TICK_SECONDS)

    queue.send_now = queue.task(name="send_now", expires=60)(send_now)
    queue.schedule_ticks = queue.periodic_task(crontab(), name="schedule_ticks")(schedule_ticks)
    return queue


def waker(settings: Settings) -> Callable[[], None]:
    """What the web process calls after a COMMIT that queued work (photos to upload, an SMS):
    enqueue `send_now`. A nudge that cannot be queued is logged; the next tick does the work."""
    queues: list[NodeHuey] = []  # made on the first nudge, then kept

    def wake() -> None:
        try:
            if not queues:
                queues.append(make_huey(settings))
            queues[0].send_now()
        except Exception as exc:  # the rows are the durable intent, not this nudge
            log.warning("could not wake the worker: %s", type(exc).__name__)

    return wake


def run_worker(settings: Settings) -> None:
    """Run the huey consumer in this process (one worker, periodic tasks on) until stopped,
    logging at the node's level (what it sends, masked)."""
    logging.basicConfig(level=settings.web.log_level.upper(), format=LOG_FORMAT)
    # huey logs every tick it schedules and runs (dozens a minute) at INFO: keep its warnings
    logging.getLogger("huey").setLevel(max(logging.WARNING, logging.getLogger().level))
    queue = make_huey(settings)
    queue.schedule_ticks()  # start draining now, not at the next whole minute
    Consumer(queue, workers=1, periodic=True).run()
