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

ROUTE_NAME = re.compile(r"^[a-z][a-z_]*:[a-z_]+$")  # feature package : page


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
    "resident": "/me",
    "agent": "/agent/",
    "township_staff": "/staff/",
    "officer": "/staff/",
    "supervisor": "/supervision/",
    "node_admin": "/admin/accounts",
    "central_admin": "/",
}
CENTRAL_HOMES = {"officer": "/officer/", "central_admin": "/nodes", "supervisor": "/supervision/"}


@pytest.mark.parametrize(
    ("build", "homes", "paths"),
    [(_edge, EDGE_HOME, EDGE_HOMES), (_central, CENTRAL_HOME, CENTRAL_HOMES)],
    ids=["edge", "central"],
)
def test_each_role_lands_on_a_named_route_of_its_node(build, homes, paths, tmp_path):
    app = build(tmp_path)
    assert {role: app.url_path_for(name) for role, name in homes.items()} == paths


# --- templates -------------------------------------------------------------------------------

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# A quoted local path: an attribute value (href="/services") or a Jinja string ("/staff/" ~ id).
LOCAL_PATH = re.compile(r"""["'](/(?!/)[^"'\s]*)""")
URL_CALL = re.compile(r"""\burl\(\s*["']([^"']+)["']""")
# The only literals left, and why: edge/base.html is the page shell of both nodes (central's
# extends it) and the error page renders on both, so their "/" is whichever node's own front
# page; no one route name serves both.
ALLOWED_LITERALS = {("edge/base.html", "/"), ("edge/errors/error.html", "/")}


def local_paths(text: str) -> list[str]:
    """The hard-coded local paths in a template's source."""
    return LOCAL_PATH.findall(text)


def _templates() -> list[tuple[str, str]]:
    return [
        (path.relative_to(TEMPLATES).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(TEMPLATES.rglob("*.html"))
    ]


def test_templates_link_to_our_pages_by_route_name_only():
    found = {(name, path) for name, text in _templates() for path in local_paths(text)}
    assert found == ALLOWED_LITERALS


@pytest.mark.parametrize(
    "source",
    [
        '<a href="/services">',
        "<form method=\"post\" action='/track/{{ code }}'>",
        '<input hx-post="/agent/id-check">',
        '<img src="/staff/attachments/{{ a.id }}/thumb">',
        '{% set decide_url = "/staff/steps/" ~ step.id ~ "/decide" %}',
        '<a href="/">',
    ],
)
def test_a_hard_coded_local_path_is_found(source):
    assert local_paths(source)


@pytest.mark.parametrize(
    "source",
    [
        "<a href=\"{{ url('catalog:guide', code=i.code) }}\">",
        "<a href=\"{{ url('auth:login') }}?next={{ url('agent_outbox:page') }}\">",
        '<a href="{{ n.base_url }}">',
        '<link rel="stylesheet" href="{{ static(\'css/site.css\') }}">',
        '<a href="https://example.org/x">',
        "</p>",
    ],
)
def test_a_named_route_or_foreign_url_is_not_a_local_path(source):
    assert local_paths(source) == []


@pytest.mark.parametrize("build", [_edge, _central], ids=["edge", "central"])
def test_every_route_name_a_template_uses_exists(build, tmp_path):
    node = "edge" if build is _edge else "central"
    names = {route.name for route in build(tmp_path).routes}
    used = {
        (template, name)
        for template, text in _templates()
        if template.startswith(f"{node}/")
        for name in URL_CALL.findall(text)
    }
    assert used, "the scan found no url() call"
    assert {(template, name) for template, name in used if name not in names} == set()
