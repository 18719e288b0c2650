"""The edge node as its handlers see it: the kernel's node plus the township's photo store and
how to wake its worker after a commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from edge.kernel.blobstore import BlobStore
from edge.kernel.node import Node
from edge.settings import Settings


@dataclass(frozen=True)
class EdgeNode(Node[Settings]):
    """A township's edge node; `wake_worker()` after a COMMIT that queued work (none: wait for
    the worker's tick)."""

    blobs: BlobStore
    wake_worker: Callable[[], None] = lambda: None


def edge_node(connection: HTTPConnection) -> EdgeNode:
    """The edge node serving this request."""
    node: EdgeNode = connection.app.state.node
    return node
