"""Where a polling follow process spends its turns: wall time and count per phase (LIST, GET,
LTX decode, mirror writes, mirror reads, ingest, commit), summed across its threads, and the
age of each LTX file when applied; logged as one JSON line every 30 s (bench/city_scale.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

AGES_KEPT = 5000  # LTX file ages kept between two reports


class TurnPhases:
    """Seconds and counts per phase, and LTX file ages, since the last `report()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._ages_ms: list[int] = []
        self._since = time.monotonic()

    def add(self, phase: str, seconds: float, count: int = 1) -> None:
        """Count `count` occurrences of `phase` that took `seconds` in all."""
        with self._lock:
            self._seconds[phase] = self._seconds.get(phase, 0.0) + seconds
            self._counts[phase] = self._counts.get(phase, 0) + count

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Time the block as one occurrence of `phase`."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.add(phase, time.monotonic() - started)

    def file_age(self, written_ms: int) -> None:
        """An LTX file applied now that Litestream stamped at `written_ms` (wall clock)."""
        with self._lock:
            if len(self._ages_ms) < AGES_KEPT:
                self._ages_ms.append(int(time.time() * 1000) - written_ms)

    def report(self) -> str:
        """The figures since the last report, as one JSON object, and start afresh."""
        with self._lock:
            ages = sorted(self._ages_ms)
            figures = {
                "seconds": round(time.monotonic() - self._since, 3),
                "phases": {
                    name: {"seconds": round(spent, 3), "count": self._counts[name]}
                    for name, spent in sorted(self._seconds.items())
                },
                "file_age_ms": {
                    "n": len(ages),
                    "p50": ages[len(ages) // 2] if ages else None,
                    "p95": ages[int(len(ages) * 0.95)] if ages else None,
                },
            }
            self._seconds, self._counts, self._ages_ms = {}, {}, []
            self._since = time.monotonic()
        return json.dumps(figures, sort_keys=True)
