"""An application as central ingested it from a node: the edge's record, which node, and the
township it came from."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from edge.applications.records import Application, fields_from_row


@dataclass(frozen=True)
class NodeApplication(Application):
    """A node's application (edge_applications has the edge's columns plus node_id)."""

    node_id: str
    township_zh: str
    township_en: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> NodeApplication:
        """From an `edge_applications` row joined with its item and village and township names."""
        return cls(**fields_from_row(cls, row, **Application.parsed(row)))
