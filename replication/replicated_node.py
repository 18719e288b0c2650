"""An edge node as the transport sees it: its id, its files, its store, Litestream's pace.

Edge settings build it (`Settings.replicated_node`); Litestream and blob upload read it, so
replication never knows the edge's settings class.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from replication.generations import FIRST, replica_prefix
from replication.store_config import StoreConfig


@dataclass(frozen=True)
class ReplicatedNode:
    """What `replicate`, `restore` and blob upload need to know of one edge node."""

    node_id: str
    database_path: Path
    blobs_dir: Path
    store: StoreConfig
    sync_interval_ms: int = 250
    monitor_interval_ms: int = 250
    drill_seconds: int = 60

    @property
    def replica_path(self) -> Path:
        """Where the embedded `file` store keeps this node's first replica generation."""
        return self.replica_path_of(FIRST)

    def replica_path_of(self, generation: int) -> Path:
        """Where the embedded `file` store keeps one generation of this node's replica."""
        return self.store.root / replica_prefix(self.node_id, generation)

    @property
    def config_path(self) -> Path:
        """Litestream's config, next to the database."""
        return self.database_path.parent / "litestream.yml"
