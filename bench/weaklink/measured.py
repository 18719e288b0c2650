"""What one profile's run yields: the rig's own figures, the loss counters and every page
load, with the medians the tables show.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.weaklink.browse import Load
from bench.weaklink.outbox import Upload
from bench.weaklink.profiles import Profile
from bench.weaklink.validation import Counted, Validation


@dataclass
class Median:
    """Medians over the repeats of one page, one visit kind (cold or warm)."""

    fcp_ms: float
    load_ms: float
    wire_bytes: float
    requests: float
    repeats: int


@dataclass
class ProfileRun:
    """One profile: validation, loss counted each way, every load of every page."""

    profile: Profile
    validation: Validation
    loss_down: Counted
    loss_up: Counted
    loads: list[Load]
    uploads: list[Upload] = field(default_factory=list)

    def paths(self) -> list[str]:
        """The pages loaded, in order."""
        return list(dict.fromkeys(load.path for load in self.loads))

    def median(self, path: str, visit: str) -> Median:
        """Each figure's own median over the repeats of `path`'s `visit` loads."""
        loads = [load for load in self.loads if (load.path, load.visit) == (path, visit)]
        return Median(
            _median(loads, lambda load: load.fcp_ms),
            _median(loads, lambda load: load.load_ms),
            _median(loads, lambda load: load.wire_bytes),
            _median(loads, lambda load: load.requests),
            len(loads),
        )


@dataclass
class UploadMedian:
    """Medians over the intakes of one mode (clean or cut) sent from the outbox."""

    accepted_ms: float
    up_bytes: float
    up_packets: float
    down_bytes: float
    requests: float
    photo_puts: float
    chromium_up_bytes: float
    photo_bytes: float  # both photos, as shrunk on the device
    post_bytes: float
    cut_after_bytes: float
    retry_after_ms: float
    repeats: int


def upload_median(uploads: list[Upload], mode: str) -> UploadMedian | None:
    """Each figure's own median over the `mode` intakes, None if there were none."""
    chosen = [upload for upload in uploads if upload.mode == mode]
    if not chosen:
        return None

    def median(figure: Callable[[Upload], float | None]) -> float:
        values = [value for value in map(figure, chosen) if value is not None]
        return statistics.median(values) if values else float("nan")

    return UploadMedian(
        median(lambda u: u.accepted_ms),
        median(lambda u: u.up_bytes),
        median(lambda u: u.up_packets),
        median(lambda u: u.down_bytes),
        median(lambda u: u.requests),
        median(lambda u: u.photo_puts),
        median(lambda u: u.chromium_up_bytes),
        median(lambda u: sum(u.photo_bytes)),
        median(lambda u: u.post_bytes),
        median(lambda u: u.cut_after_bytes),
        median(lambda u: u.retry_after_ms),
        len(chosen),
    )


def _median(loads: list[Load], figure: Callable[[Load], float | None]) -> float:
    values = [value for value in map(figure, loads) if value is not None]
    return statistics.median(values) if values else float("nan")
