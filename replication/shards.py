"""Which follow process takes which node: `i/n` shards by a hash of the node id, so n processes
(on one machine or several) split the nodes without talking to each other."""

from __future__ import annotations

import hashlib
import re

SHARD = re.compile(r"^(\d+)/(\d+)$")


def parse(text: str) -> tuple[int, int] | None:
    """(index, count) from `i/n` with 0 <= i < n, else None."""
    match = SHARD.match(text.strip())
    if not match:
        return None
    index, count = int(match.group(1)), int(match.group(2))
    return (index, count) if 0 <= index < count else None


def owns(shard: tuple[int, int], node_id: str) -> bool:
    """Whether shard (index, count) follows `node_id` (the same answer on every machine)."""
    index, count = shard
    digest = hashlib.sha256(node_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count == index


def machine_name(shard: tuple[int, int]) -> str:
    """The node name of a follow machine taking `shard` (`deploy/install follow`): `follow1`,
    its units `cunban-follow1-*.service`, its settings `/etc/cunban/follow1.env`."""
    return f"follow{shard[0]}"
