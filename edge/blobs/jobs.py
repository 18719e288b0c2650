"""The blob upload job of the worker: every tick, and when the web app nudges it after a commit
that recorded photos, upload the recorded blobs that are due."""

from __future__ import annotations

from datetime import datetime

from edge.kernel.jobs import Job
from edge.settings import Settings
from replication.blob_upload import upload_pass


def blob_upload_tick(settings: Settings, now: datetime) -> int:
    """One pass; the number uploaded."""
    return upload_pass(settings.replicated_node, now).sent


JOBS: tuple[Job[Settings], ...] = (Job("blob_upload_tick", blob_upload_tick, on_demand=True),)
