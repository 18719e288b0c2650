"""The edge's side of the audit anchor: what central witnessed of this node's chain (the
newest row it copied and the newest head it kept), fetched by a signed GET."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from replication.feed.pull import FeedSource, signed_get


@dataclass(frozen=True)
class Witness:
    """Rows (seq -> hash) and heads (seq, hash) central holds of a node's chain."""

    rows: dict[int, str]
    heads: list[tuple[int, str]]


def witness_target(node_id: str) -> str:
    """The path and query a node asks for its witness at."""
    return "/sync/audit-witness?" + urlencode({"node": node_id})


def fetch_witness(source: FeedSource) -> Witness:
    """Central's witness of this node; FeedUnavailable if central cannot answer."""
    body, _ = signed_get(source, witness_target(source.node_id))
    return parse_witness(body)


def parse_witness(body: bytes) -> Witness:
    """The witness as /sync/audit-witness answers it."""
    found = json.loads(body)
    return Witness(
        rows={int(seq): str(digest) for seq, digest in found["rows"]},
        heads=[(int(seq), str(digest)) for seq, digest in found["heads"]],
    )
