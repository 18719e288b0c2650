"""The running node, typed: what handlers and middleware of either node read, in place of an
untyped `app.state` bag. Edge and central extend it with what only they have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from jinja2 import Environment
from starlette.requests import HTTPConnection

from edge.kernel.auth.account import LoginRecorder
from edge.kernel.clock import Clock
from edge.kernel.db import Database
from edge.kernel.settings import WebSettings


class NodeSettings(Protocol):
    """The settings the kernel reads: the part both nodes' settings embed."""

    @property
    def web(self) -> WebSettings: ...


S = TypeVar("S", bound=NodeSettings, covariant=True)


@dataclass(frozen=True)
class Node(Generic[S]):
    """One node: its settings, clock, database, templates, where each role lands after login,
    and how a login attempt is recorded (None: not recorded)."""

    settings: S
    clock: Clock
    db: Database
    templates: Environment
    homes: Mapping[str, str]
    record_login: LoginRecorder | None


def node_of(connection: HTTPConnection) -> Node[NodeSettings]:
    """The node serving this request."""
    node: Node[NodeSettings] = connection.app.state.node
    return node
