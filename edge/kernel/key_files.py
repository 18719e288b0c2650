"""Private key files: one 0600 PEM file per key id in a 0700 folder, never replicated."""

from __future__ import annotations

from pathlib import Path

from edge.kernel.durable_files import write_durably


def key_path(keys_dir: Path, key_id: str) -> Path:
    """Where the private key of `key_id` is kept."""
    return keys_dir / f"{key_id}.pem"


def write_private_key(keys_dir: Path, key_id: str, private_pem: bytes) -> None:
    """Write the PEM durably (0600 temp file, fsync, rename), readable by the owner only."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_durably(key_path(keys_dir, key_id), private_pem)
