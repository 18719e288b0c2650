"""The link's own rate, read from the receiving veth end's rx_bytes (frames as tbf counts
them, lost ones included) while a transfer runs: unlike the bytes a reader sees, it does not
come in bursts when TCP's retransmissions unblock data held behind a lost segment.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

SAMPLE_S = 0.005
STEADY_FROM = 0.25  # the share of the bytes after which the flow counts as past slow start


class LinkMeter:
    """Samples (time, rx_bytes) of one device in a thread, between `with` and its end."""

    def __init__(self, device: str) -> None:
        self.counter = Path(f"/sys/class/net/{device}/statistics/rx_bytes")
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> LinkMeter:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stopped.set()
        self.thread.join()

    def _sample(self) -> None:
        while not self.stopped.is_set():
            self.samples.append((time.monotonic(), int(self.counter.read_text())))
            self.stopped.wait(SAMPLE_S)
        self.samples.append((time.monotonic(), int(self.counter.read_text())))

    def rate_kbit(self) -> float:
        """kbit/s from when a quarter of the bytes had arrived until the last one did."""
        if len(self.samples) < 2:
            return 0.0
        base, final = self.samples[0][1], self.samples[-1][1]
        begin = next(s for s in self.samples if s[1] - base >= STEADY_FROM * (final - base))
        end = next(s for s in self.samples if s[1] == final)
        seconds = end[0] - begin[0]
        return (end[1] - begin[1]) * 8 / 1000 / seconds if seconds > 0 else 0.0
