"""Replica generations: where each generation of a node's replica lives in the store, and the
pointer object that says which one is current (written only once the new one restored clean).

Generation 1 is the original layout `nodes/<id>/edge.db`; generation N > 1 is
`nodes/<id>/generations/<N>/edge.db`. The pointer is `nodes/<id>/generation.json`.
"""

from __future__ import annotations

import json
import re

from replication.objectstore import ObjectStore, StoreUnavailable

FIRST = 1


def replica_prefix(node_id: str, generation: int) -> str:
    """The store path of one generation of a node's replica."""
    if generation == FIRST:
        return f"nodes/{node_id}/edge.db"
    return f"nodes/{node_id}/generations/{generation}/edge.db"


def pointer_key(node_id: str) -> str:
    """The object naming the node's current, verified generation."""
    return f"nodes/{node_id}/generation.json"


def current(store: ObjectStore, node_id: str) -> int:
    """The generation the pointer names (the first when there is none); StoreUnavailable raises."""
    data = store.get(pointer_key(node_id))
    if data is None:
        return FIRST
    try:
        generation = int(json.loads(data)["generation"])
    except (ValueError, KeyError, TypeError):
        return FIRST
    return max(generation, FIRST)


def publish(store: ObjectStore, node_id: str, generation: int, verified_ms: int) -> None:
    """Name `generation` current: followers and restore use it from now on."""
    body = json.dumps({"generation": generation, "verified_ms": verified_ms}).encode()
    store.put(pointer_key(node_id), body, "application/json")


def known(store: ObjectStore, node_id: str) -> list[int]:
    """Every generation that has objects in the store, newest first."""
    found = {FIRST} if store.keys(replica_prefix(node_id, FIRST)) else set()
    pattern = re.compile(rf"^nodes/{re.escape(node_id)}/generations/(\d+)/")
    for key in store.keys(f"nodes/{node_id}/generations"):
        match = pattern.match(key)
        if match:
            found.add(int(match.group(1)))
    return sorted(found, reverse=True)


def unused(store: ObjectStore, node_id: str, current: int = FIRST) -> int:
    """A generation number above `current` that no object in the store uses yet (just above
    `current` when the store does not answer)."""
    try:
        used = known(store, node_id)
    except StoreUnavailable:
        used = []
    return max([current, *used]) + 1
