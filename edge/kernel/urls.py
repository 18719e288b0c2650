"""Named routes: the relative path of a route by its `feature:page` name, for redirects, links
and templates; and the one absolute form of a public link, from the node's configured base URL
(never from the request's Host header)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import HTTPConnection

from edge.kernel.node import node_of

SITE_ROOT = "/"


def path_for(connection: HTTPConnection, name: str, /, **params: str) -> str:
    """The path of the route `name` of the app serving this request, its parameters filled in;
    an unknown name or a missing parameter fails loudly (NoMatchFound)."""
    return str(connection.app.url_path_for(name, **params))


def public_url(connection: HTTPConnection, name: str, /, **params: str) -> str:
    """The absolute URL of the route `name` as printed on paper or in a QR code: the node's
    `public_base` (CUNBAN_BASE_URL) and the route's path; nothing of it comes from the request."""
    return node_of(connection).settings.web.public_base + path_for(connection, name, **params)


def home_path(connection: HTTPConnection, homes: Mapping[str, str], role: str) -> str:
    """Where `role` lands after signing in (`homes` maps roles to route names); the site root
    for a role the node gives no home."""
    name = homes.get(role)
    return path_for(connection, name) if name else SITE_ROOT


def done_url(url: str, done: str) -> str:
    """Where to go after a change succeeded: `url` with `done` (a key the page knows how to
    confirm, never free text), scrolled to the confirmation (`templates/edge/_done.html`)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}done={done}#done"
