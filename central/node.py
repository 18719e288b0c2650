"""The central node as its handlers see it: the kernel's node plus the replica store."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from central.settings import CentralSettings
from edge.kernel.node import Node
from replication.objectstore import ObjectStore


@dataclass(frozen=True)
class CentralNode(Node[CentralSettings]):
    """The city's central node."""

    store: ObjectStore


def central_node(connection: HTTPConnection) -> CentralNode:
    """The central node serving this request."""
    node: CentralNode = connection.app.state.node
    return node
