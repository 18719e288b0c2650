"""What one profile's run yields: the rig's own figures, the loss counters and every page
load, with the medians the tables show.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from bench.weaklink.browse import Load
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


def _median(loads: list[Load], figure: Callable[[Load], float | None]) -> float:
    values = [value for value in map(figure, loads) if value is not None]
    return statistics.median(values) if values else float("nan")
