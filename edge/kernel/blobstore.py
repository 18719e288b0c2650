"""Content-addressed, immutable files next to edge.db: `<root>/<sha[:2]>/<sha256>`."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from edge.kernel.durable_files import fsync_dir, write_durably

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class BlobStore:
    """A folder of blobs named by the sha256 of their bytes; a blob is never rewritten."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the blob `sha256` lives; refuses anything but 64 lowercase hex characters."""
        if not SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """Whether the blob is on disk."""
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        """The blob's bytes (FileNotFoundError if we do not hold it)."""
        return self.path(sha256).read_bytes()

    def put(self, data: bytes) -> str:
        """Store `data` durably unless already held; return its sha256 hex digest."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if not target.is_file():
            self._make_shard(target.parent)
            write_durably(target, data)
        return sha256

    def _make_shard(self, shard: Path) -> None:
        """Create the two-character folder, and make its name durable in the root."""
        if shard.is_dir():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        shard.mkdir(exist_ok=True)
        fsync_dir(self.root)
