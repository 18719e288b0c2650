"""Named routes: the relative path of a route by its `feature:page` name, for redirects, links
and templates (the same path a literal gave before, never an absolute URL)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import HTTPConnection

SITE_ROOT = "/"


def path_for(connection: HTTPConnection, name: str, /, **params: str) -> str:
    """The path of the route `name` of the app serving this request, its parameters filled in;
    an unknown name or a missing parameter fails loudly (NoMatchFound)."""
    return str(connection.app.url_path_for(name, **params))


def home_path(connection: HTTPConnection, homes: Mapping[str, str], role: str) -> str:
    """Where `role` lands after signing in (`homes` maps roles to route names); the site root
    for a role the node gives no home."""
    name = homes.get(role)
    return path_for(connection, name) if name else SITE_ROOT
