"""Settings of the central node, read from CUNBAN_CENTRAL_* in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edge.settings import from_environ

ENV_PREFIX = "CUNBAN_CENTRAL_"


@dataclass(frozen=True)
class CentralSettings:
    """Everything the central node can be told; see README for each setting."""

    data_dir: Path = Path("var/central")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    nodes: str = ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> CentralSettings:
        """Read settings from the environment (CUNBAN_CENTRAL_*)."""
        return from_environ(cls, os.environ if environ is None else environ, ENV_PREFIX)

    @property
    def database_path(self) -> Path:
        """Central's own database file."""
        return self.data_dir / "central.db"
