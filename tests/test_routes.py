"""Named routes (docs/architecture.md, "Named routes"): every route of both nodes has its own
`feature:page` name, and URLs to our own pages are built from those names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from central.app import create_app as create_central
from central.roles import HOME as CENTRAL_HOME
from central.settings import CentralSettings
from edge.accounts.roles import HOME as EDGE_HOME
from edge.app import create_app as create_edge
from edge.settings import Settings
from tests.conftest import LIANZHOU

ROUTE_NAME = re.compile(r"^[a-z]+:[a-z_]+$")


def _edge(tmp_path: Path) -> Starlette:
    return create_edge(Settings(node_id="lianzhou", township_code=LIANZHOU, data_dir=tmp_path))


def _central(tmp_path: Path) -> Starlette:
    return create_central(CentralSettings(data_dir=tmp_path))


@pytest.mark.parametrize("build", [_edge, _central], ids=["edge", "central"])
def test_every_route_has_its_own_feature_page_name(build, tmp_path):
    routes = build(tmp_path).routes
    assert routes and all(isinstance(route, Route) for route in routes)
    names = [route.name for route in routes]
    # Starlette names an unnamed route after its handler ("home"), never "feature:page"
    assert [n for n in names if not ROUTE_NAME.fullmatch(n)] == []
    assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)


EDGE_HOMES = {  # where each role landed when HOME held paths; the names must keep them
    "resident": "/",
    "agent": "/agent/",
    "township_staff": "/staff/",
    "officer": "/staff/",
    "supervisor": "/staff/",
    "node_admin": "/admin/accounts",
    "central_admin": "/",
}
CENTRAL_HOMES = {"officer": "/officer/", "central_admin": "/nodes"}


@pytest.mark.parametrize(
    ("build", "homes", "paths"),
    [(_edge, EDGE_HOME, EDGE_HOMES), (_central, CENTRAL_HOME, CENTRAL_HOMES)],
    ids=["edge", "central"],
)
def test_each_role_lands_on_a_named_route_of_its_node(build, homes, paths, tmp_path):
    app = build(tmp_path)
    assert {role: app.url_path_for(name) for role, name in homes.items()} == paths
