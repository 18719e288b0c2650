"""Restore drills: restore one generation of a node's replica into a file of our choosing with a
full integrity check, to learn whether it restores and up to which transaction; and the search
for the newest transaction that still restores clean (Litestream #1164: a replica can turn
corrupt from one transaction on while the live database stays sound).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from replication.litestream import litestream_binary, litestream_environ, write_config
from replication.replicated_node import ReplicatedNode

# Litestream's words for a restore that could not reach the store or found nothing there; any
# other failure (an integrity check, a checksum, an undecodable file) means the replica is bad.
UNREACHABLE = (
    "dial tcp",
    "connection refused",
    "no such host",
    "timeout",
    "no matching backup",
    "no backups found",
    "no snapshots",
    "Service Unavailable",
)


@dataclass(frozen=True)
class Drill:
    """What one restore attempt found: `ok` (restored clean up to `txid`), `corrupt` (the replica
    does not restore clean) or `unreachable` (the store did not answer, or holds no replica)."""

    outcome: str
    txid: int | None
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the replica restored clean."""
        return self.outcome == "ok"


def litestream(
    node: ReplicatedNode, generation: int, arguments: list[str], folder: Path, timeout: int
) -> subprocess.CompletedProcess[str]:
    """Run `litestream <command> -config ... <arguments> <database>` on one generation, with a
    config written in `folder`."""
    config = write_config(node, generation, folder / f"litestream-{generation}.yml")
    command, rest = arguments[0], arguments[1:]
    database = str(node.database_path.resolve())
    return subprocess.run(
        [litestream_binary(), command, "-config", str(config), *rest, database],
        env=litestream_environ(node.store),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def restore_into(
    node: ReplicatedNode, generation: int, target: Path, txid: int | None = None
) -> Drill:
    """Restore `generation` (up to `txid`, else its newest) into `target`, checked in full; the
    Drill names `txid` as given (a restore given `-config` prints no summary of what it reached).
    """
    arguments = ["restore", "-o", str(target), "-integrity-check", "full", "-force"]
    if txid is not None:
        arguments += ["-txid", f"{txid:016x}"]
    result = litestream(node, generation, arguments, target.parent, timeout=600)
    output = f"{result.stdout}\n{result.stderr}"
    if result.returncode != 0:
        unreachable = any(words.lower() in output.lower() for words in UNREACHABLE)
        return Drill("unreachable" if unreachable else "corrupt", txid, _last_line(output))
    return Drill("ok", txid, "")


def drill(node: ReplicatedNode, generation: int) -> Drill:
    """Restore the newest point of `generation` into a temporary file and throw it away; a clean
    one names the newest txid listed just before (the restore reaches at least it)."""
    newest = max(ltx_files(node, generation), default=None)
    with tempfile.TemporaryDirectory(prefix="drill-", dir=node.database_path.parent) as folder:
        found = restore_into(node, generation, Path(folder) / "drill.db")
    return replace(found, txid=newest) if found.ok else found


def ltx_files(node: ReplicatedNode, generation: int) -> dict[int, str]:
    """The transaction ids LTX files of `generation` end at, each with the time it was written."""
    with tempfile.TemporaryDirectory(prefix="ltx-", dir=node.database_path.parent) as folder:
        arguments = ["ltx", "-level", "all", "-json"]
        result = litestream(node, generation, arguments, Path(folder), timeout=120)
    if result.returncode != 0:
        return {}
    try:
        files = json.loads(result.stdout)
    except json.JSONDecodeError:
        return {}
    return {int(entry["max_txid"], 16): entry.get("timestamp", "") for entry in files or []}


def newest_clean(
    node: ReplicatedNode, generation: int, target: Path, files: dict[int, str]
) -> Drill:
    """Restore into `target` the newest transaction of `generation` that restores clean, given
    its LTX `files` (`ltx_files`).

    Corruption runs from one transaction to the end (every later restore carries the bad
    pages), so a binary search over the transaction ids finds the boundary.
    """
    ids = sorted(files)
    newest = restore_into(node, generation, target)
    if newest.ok:
        return replace(newest, txid=ids[-1] if ids else None)
    if newest.outcome != "corrupt":
        return newest
    low, high, best = 0, len(ids) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if restore_into(node, generation, target, ids[middle]).ok:
            best, low = ids[middle], middle + 1
        else:
            high = middle - 1
    if best is None:
        return Drill("corrupt", None, newest.detail)
    return restore_into(node, generation, target, best)


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][-300:] if lines else ""
