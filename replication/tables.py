"""The edge tables central copies, one declaration each: name, key, upsert or insert-only.

A new one: an edge migration gives the table `rev` and its insert and update triggers (like
`steps`), a central migration creates `edge_<name>` keyed by (node_id, key), and one line in
TABLES; tests/test_ingest_tables.py checks the three agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReplicatedTable:
    """An edge table central copies into `edge_<name>`, keyed by (node_id, key).

    An upsert table's rows are updated in place at central when they change on the edge; an
    insert-only table keeps the first copy central saw, so an edit made on the edge behind
    the app's back cannot rewrite central's witness copy.
    """

    name: str
    key: str
    insert_only: bool = False

    @property
    def central_table(self) -> str:
        """Central's copy of the table."""
        return f"edge_{self.name}"


# in copying order; heartbeat last, so its lag covers everything copied before it
TABLES: tuple[ReplicatedTable, ...] = (
    ReplicatedTable("node_identity", "key_id", insert_only=True),  # a key is never swapped
    ReplicatedTable("accounts", "id"),
    ReplicatedTable("applications", "id"),
    ReplicatedTable("steps", "id"),
    ReplicatedTable("supplement_requests", "id"),
    ReplicatedTable("blobs", "sha256"),
    ReplicatedTable("attachments", "id"),
    ReplicatedTable("seal_keys", "id"),
    ReplicatedTable("seals", "id"),
    ReplicatedTable("disclosure_withholdings", "application_id"),
    ReplicatedTable("audit_log", "seq", insert_only=True),
    ReplicatedTable("feedback", "id"),
    ReplicatedTable("feedback_events", "id"),
    ReplicatedTable("applied_commands", "id"),
    ReplicatedTable("ratings", "id"),
    ReplicatedTable("follow_ups", "id"),
    ReplicatedTable("policies", "id"),
    ReplicatedTable("affairs", "id"),
    ReplicatedTable("affair_lines", "id"),
    ReplicatedTable("elections", "id"),
    ReplicatedTable("election_candidates", "id"),
    ReplicatedTable("news", "id"),
    ReplicatedTable("market_listings", "id"),
    ReplicatedTable("market_contacts", "id"),
    ReplicatedTable("reminders", "id"),
    ReplicatedTable("heartbeat", "id"),
)

# what one pass reads of one node: each table's column names and changed rows
Changes = dict[ReplicatedTable, tuple[list[str], list[tuple[object, ...]]]]
