"""The latency half of the rig: hold every packet of an NFQUEUE queue for a fixed time, then
accept it, in arrival order. Runs inside a namespace: `python -m bench.weaklink.delayer`.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import time
from collections import deque
from collections.abc import Sequence
from types import FrameType

from netfilterqueue import COPY_META, NetfilterQueue, Packet

QUEUE_LENGTH = 20_000  # packets the kernel may queue for us before it drops
NICENESS = -10  # ahead of the browser and the node when the machine is busy (needs root)


class Delayer:
    """A FIFO of (release time, packet): a constant delay keeps the arrival order."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.held: deque[tuple[float, Packet]] = deque()

    def hold(self, packet: Packet) -> None:
        """NFQUEUE callback: keep the packet; its verdict is given when it is due."""
        self.held.append((time.monotonic() + self.delay_s, packet))

    def release_due(self) -> None:
        """Accept every packet whose time has come."""
        now = time.monotonic()
        while self.held and self.held[0][0] <= now:
            self.held.popleft()[1].accept()

    def wait_s(self) -> float | None:
        """How long select may sleep: until the oldest packet is due, or forever."""
        if not self.held:
            return None
        return max(0.0, self.held[0][0] - time.monotonic())


def serve(queue: NetfilterQueue, delayer: Delayer) -> None:
    """Read queued packets as they come and release them when due, until stopped."""
    descriptor = queue.get_fd()
    while True:
        readable, _, _ = select.select([descriptor], [], [], delayer.wait_s())
        if readable:
            queue.run(block=False)
        delayer.release_due()


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """Bind the queue, say `ready` on stdout, and delay packets until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.weaklink.delayer")
    parser.add_argument("--queue", type=int, default=0, help="NFQUEUE number")
    parser.add_argument("--delay-ms", type=float, required=True, help="delay per packet")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    os.setpriority(os.PRIO_PROCESS, 0, NICENESS)
    delayer = Delayer(args.delay_ms / 1000)
    queue = NetfilterQueue()
    queue.bind(args.queue, delayer.hold, max_len=QUEUE_LENGTH, mode=COPY_META)
    print("ready", flush=True)
    try:
        serve(queue, delayer)
    except KeyboardInterrupt:
        pass
    finally:
        queue.unbind()
    return 0


if __name__ == "__main__":
    sys.exit(main())
