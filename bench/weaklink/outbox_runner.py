"""The runner's side of the outbox measurement: start the outbox browser (outbox.py) in the
client namespace, and before each intake goes online arm a cut (cut.py) if it asks for one.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any

from bench.weaklink.cut import Cutter, cut_point
from bench.weaklink.edge_node import EDGE_PORT
from bench.weaklink.outbox import Upload
from bench.weaklink.profiles import Profile
from bench.weaklink.rig import Rig, RigError

MODES = ["clean", "cut"]


def _go(stdin: IO[bytes]) -> None:
    stdin.write(b"go\n")
    stdin.flush()


def send_intakes(
    rig: Rig,
    profile: Profile,
    url: str,
    repeats: int,
    seed: int,
    say: Callable[[str], None],
    modes: Sequence[str] = MODES,
) -> tuple[str, list[Upload]]:
    """`repeats` intakes per mode (clean, then one cut mid second photo), interleaved; the
    browser's version and the uploads."""
    command = [sys.executable, "-m", "bench.weaklink.outbox", url, "--device", rig.client.device]
    command += ["--repeats", str(repeats), "--seed", str(seed), "--modes", *modes]
    process = rig.spawn(rig.client, command, stdin=True)
    assert process.stdout is not None and process.stdin is not None
    version, uploads = "", []
    cutter: Cutter | None = None
    try:
        for line in process.stdout:
            found = json.loads(line)
            version = found.get("chromium", version)
            if "ready" in found:
                cutter = _armed(rig, profile, process.pid, found["ready"])
                _go(process.stdin)
            if "upload" in found:
                upload = Upload(**found["upload"])
                if cutter:
                    _cut_figures(upload, cutter)
                    cutter = None
                uploads.append(upload)
                say(_described(upload))
    finally:
        if cutter:  # the run failed mid-cut: take the rules away, keep the first error
            with contextlib.suppress(RigError):
                cutter.stop()
    if process.wait() != 0:
        raise RigError(f"the outbox run exited {process.returncode}")
    rig.stop(process)
    return version, uploads


def _armed(rig: Rig, profile: Profile, pid: int, ready: dict[str, Any]) -> Cutter | None:
    """A cutter watching the link when this intake is to be cut, else None."""
    if ready["mode"] != "cut":
        return None
    hold_s = 2 * profile.rtt_ms / 1000
    cutter = Cutter(rig, pid, EDGE_PORT, cut_point(ready["photos"]), hold_s)
    cutter.start()
    return cutter


def _cut_figures(upload: Upload, cutter: Cutter) -> None:
    """Where the cut fell and how long the app waited before its next request."""
    cutter.stop()
    upload.cut_after_bytes = cutter.sent_at_cut
    if cutter.cut_at is not None:
        later = [start for start in upload.request_starts if start > cutter.cut_at]
        upload.retry_after_ms = (min(later) - cutter.cut_at) * 1000 if later else None


def _described(upload: Upload) -> str:
    cut = ""
    if upload.cut_after_bytes:
        retry = (upload.retry_after_ms or float("nan")) / 1000
        cut = f", cut after {upload.cut_after_bytes:,} B, next request {retry:.1f} s later"
    if upload.mode == "cut" and upload.photo_puts != 3:
        cut += " (NOT a cut mid second photo: expected 3 photo PUTs)"
    if upload.first_answered_s is not None:
        cut += f", first answer to a request sent {upload.first_answered_s:.2f} s after online"
    return (
        f"  outbox {upload.mode}: accepted {upload.accepted_ms / 1000:.1f} s, up "
        f"{upload.up_bytes:,} B, {upload.requests} requests ({upload.photo_puts} PUT){cut}"
    )
