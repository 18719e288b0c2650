"""Named routes: the relative path of a route by its `feature:page` name, for redirects, links
and templates; and the one absolute form of a public link, from the node's configured base URL
(never from the request's Host header)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from weakref import WeakKeyDictionary

from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, NoMatchFound, Route

from edge.kernel.node import node_of

SITE_ROOT = "/"
# Each app's routes by name: Starlette's own lookup tries every route in turn, raising and
# catching an exception for each, which cost a signed-in page with 15 links 2.4 ms (issue 17).
_BY_NAME: WeakKeyDictionary[Starlette, dict[str, list[BaseRoute]]] = WeakKeyDictionary()
# Each app's paths already made, by name and parameters: a list page links every row, and is
# asked for again and again with the same rows.
_MADE: WeakKeyDictionary[Starlette, dict[tuple[str, tuple[tuple[str, str], ...]], str]] = (
    WeakKeyDictionary()
)
MAX_MADE = 8192  # paths per app; all go when full


def _named(app: Starlette, name: str) -> Sequence[BaseRoute]:
    """The app's top-level routes called `name` (indexed on first use)."""
    index = _BY_NAME.get(app)
    if index is None:
        index = {}
        for route in app.routes:
            if isinstance(route, Route):
                index.setdefault(route.name, []).append(route)
        _BY_NAME[app] = index
    return index.get(name, ())


def path_for(connection: HTTPConnection, name: str, /, **params: str) -> str:
    """The path of the route `name` of the app serving this request, its parameters filled in;
    an unknown name or a missing parameter fails loudly (NoMatchFound)."""
    made = _MADE.get(connection.app)
    if made is None:
        made = _MADE[connection.app] = {}
    key = (name, tuple(sorted(params.items())))
    path = made.get(key)
    if path is None:
        path = _path_for(connection.app, name, params)
        if len(made) >= MAX_MADE:
            made.clear()
        made[key] = path
    return path


def _path_for(app: Starlette, name: str, params: Mapping[str, str]) -> str:
    for route in _named(app, name):
        try:
            return str(route.url_path_for(name, **params))
        except NoMatchFound:
            continue
    return str(app.url_path_for(name, **params))  # mounts, routes added later


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
