"""Disaster recovery of an edge node (`python -m edge restore`): rebuild edge.db from the newest
point that restores clean, whichever generation of the replica holds it, or from a copy of
central's mirror of the node when that is newer; then say exactly what came back and what not.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from replication import generations
from replication.blob_restore import restore_blobs
from replication.drill import Drill, ltx_files, newest_clean
from replication.litestream import RestoreRefused
from replication.objectstore import StoreUnavailable, open_store
from replication.replicated_node import ReplicatedNode


@dataclass(frozen=True)
class Candidate:
    """A database file that could become the node's: where it came from and how new it is."""

    path: Path
    source: str
    as_of_ms: int  # the node's newest heartbeat in it: how far its writes reach
    applications: int


def describe(path: Path, source: str) -> Candidate | None:
    """A candidate if the file passes a full integrity check, else None."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return None
            beat = conn.execute("SELECT coalesce(max(beat_ms), 0) FROM heartbeat").fetchone()[0]
            count = conn.execute("SELECT count(*) FROM applications").fetchone()[0]
    except sqlite3.Error:
        return None
    return Candidate(path, source, int(beat), int(count))


def from_replica(
    node: ReplicatedNode, found: list[int], folder: Path
) -> tuple[Candidate | None, list[str]]:
    """Restore into `folder` the newest clean point of the newest of the `found` generations
    that has one; the candidate and what was found on the way (lines of the report)."""
    notes: list[str] = []
    for generation in found:
        target = folder / f"generation-{generation}.db"
        files = ltx_files(node, generation)
        restored = newest_clean(node, generation, target, files)
        notes.append(_note(generation, restored, files))
        if restored.ok:
            candidate = describe(target, f"replica generation {generation}, txid {restored.txid}")
            if candidate is not None:
                return candidate, notes
    return None, notes


def _note(generation: int, restored: Drill, files: dict[int, str]) -> str:
    newest = max(files) if files else None
    if not restored.ok:
        return f"generation {generation}: nothing restores clean ({restored.detail})"
    if newest is None or restored.txid is None or restored.txid >= newest:
        return f"generation {generation}: newest point (txid {restored.txid}) restores clean"
    return (
        f"generation {generation}: corrupt after txid {restored.txid} "
        f"(written {files.get(restored.txid, '?')}); the replica's newest point, txid {newest} "
        f"written {files[newest]}, does not restore: writes after txid {restored.txid} are lost "
        "unless central's mirror holds them (restore --mirror)"
    )


def choose(replica: Candidate | None, mirror: Candidate | None) -> Candidate:
    """The newer of the two (the replica on a tie); refuse when neither is usable."""
    usable = [found for found in (replica, mirror) if found is not None]
    if not usable:
        raise RestoreRefused("no clean point in any replica generation, and no usable mirror")
    return max(usable, key=lambda found: (found.as_of_ms, found is replica))


def install(node: ReplicatedNode, chosen: Candidate, generation: int) -> None:
    """Make `chosen` the node's database and have the replicate process start `generation`, a
    new one (Litestream's local state is dropped; the old generations stay in the store)."""
    target = node.database_path
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(target.parent / f".{target.name}-litestream", ignore_errors=True)
    staged = target.parent / f".{target.name}.restoring"
    shutil.copyfile(chosen.path, staged)
    with closing(sqlite3.connect(staged)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            "UPDATE replica_health SET generation = ?, state = 'healing', error = '' WHERE id = 1",
            (generation,),
        )
        conn.commit()
    os.replace(staged, target)


def restore(node: ReplicatedNode, *, force: bool, mirror: Path | None = None) -> str:
    """Rebuild edge.db from the newest clean source; refuse to overwrite without `force`."""
    target = node.database_path
    if target.exists() and not force:
        raise RestoreRefused(f"{target} exists; stop the node and pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        found = generations.known(open_store(node.store), node.node_id)
    except StoreUnavailable as exc:
        raise RestoreRefused(f"the store is unreachable: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="restore-", dir=target.parent) as scratch:
        replica, notes = from_replica(node, found, Path(scratch))
        mirrored = None
        if mirror is not None:
            mirrored = describe(mirror, f"central's mirror {mirror}")
            notes.append(f"mirror {mirror}: " + ("passes" if mirrored else "FAILS") + " the check")
        chosen = choose(replica, mirrored)
        install(node, chosen, max([generations.FIRST, *found]) + 1)
    blobs = restore_blobs(node)
    absent = len({gap.sha256 for gap in blobs.missing})
    photos = [f"photos missing, by application:\n{blobs.report()}"] if absent else []
    return "\n".join(
        [
            *notes,
            f"restored {target} from {chosen.source}; full integrity check passed",
            f"it holds {chosen.applications} applications; writes up to "
            f"{_iso(chosen.as_of_ms)} (the node's newest heartbeat in it)",
            f"{blobs.fetched} blobs fetched, {absent} recorded blobs not in the store",
            *photos,
            "the replicate process will write a new replica generation from it",
        ]
    )


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else "?"
