"""Claimers: a process's token stays alive while it runs and is known dead the moment it is
SIGKILLed (its lock file is then removed); a token with no file is dead."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from edge.kernel import claimers

ROOT = Path(__file__).resolve().parent.parent
HOLD = (
    "import sys, time; from pathlib import Path; from edge.kernel import claimers; "
    "print(claimers.this_process(Path(sys.argv[1])), flush=True); time.sleep(120)"
)


def test_a_claimer_lives_until_killed(tmp_path):
    command = [sys.executable, "-c", HOLD, str(tmp_path)]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            token = process.stdout.readline().strip()
            assert claimers.is_alive(tmp_path, token)
            assert claimers.is_alive(tmp_path, token)  # asking does not take its lock
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
    assert not claimers.is_alive(tmp_path, token)
    assert list(tmp_path.iterdir()) == []


def test_this_process_is_one_live_claimer_and_unknown_tokens_are_dead(tmp_path):
    token = claimers.this_process(tmp_path)
    assert claimers.this_process(tmp_path) == token
    assert claimers.is_alive(tmp_path, token)
    assert not claimers.is_alive(tmp_path, "01DEADDEADDEADDEADDEADDEAD")
