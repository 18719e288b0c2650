"""/manifest.webmanifest, /sw.js (the service worker, told the current app shell) and /offline.

The service worker's file is static/sw.js; this module prefixes it with the shell it must
precache, named by content-hashed URLs, so a new release changes the worker's bytes and the
browser installs it, with new caches, by itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edge.catalog import queries as catalog
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import html_lang
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node

SW_FILE = Path(__file__).resolve().parent.parent.parent / "static" / "sw.js"
START = "intake:home"  # the agent's queue: where the installed app opens (a route name)
# Static files the shell needs offline: the stylesheet, htmx, the agent's scripts.
SHELL_ASSETS = (
    "css/site.css",
    "js/site.js",
    "js/signature.js",
    "js/photo.js",
    "js/outbox.js",
    "js/intake.js",
    "js/outbox-form.js",
    "js/market-photos.js",
    "js/outbox-page.js",
    "js/pwa.js",
    "js/seal-check.js",
    "js/noble-ed25519.js",  # imported by seal-check.js only where WebCrypto lacks Ed25519
    "js/print.js",
)
OUTBOX_SCRIPT = "js/outbox.js"  # the worker imports it to send the outbox by Background Sync
# Pages kept from the start (best effort: they need the agent's session), then every form
# (route names).
SHELL_PAGES = (
    START,
    "agent_outbox:page",
    "intake:choose",
    "catalog:list",
    "seals:check",
    "seals:offline_keys",
    "affairs:agent_new",
    "feedback:agent_new",
    "market:desk",
)
FORM = "intake:form"
# The only other pages the worker keeps, once opened online (an allow-list, issue 12 finding 2):
# public reading, the same for everyone. Anything else (staff pages above all) is network-only.
READ_OFFLINE = ("/services", "/disclosure", "/news")
# Agent forms with a path per record (a seller's listing form): kept once opened online, or when
# a page linking them with `data-keep-offline` asks the worker (path patterns, anchored).
KEPT_FORMS = (r"^/agent/market/sellers/[^/]+/listings/new$",)
# The colours of static/css/site.css: the header bar and the page background.
THEME_COLOR = "#b3261e"
BACKGROUND_COLOR = "#f6f7f9"
ICONS = (
    ("icons/icon-192.png", "192x192", "any"),
    ("icons/icon-512.png", "512x512", "any"),
    ("icons/icon-maskable-512.png", "512x512", "maskable"),
)


def _static_url(request: Request) -> Callable[[str], str]:
    """The app's hashed-URL function (the one its templates use)."""
    # Jinja types its globals as `object` (inferred from its defaults); templating put it there.
    return cast(Callable[[str], str], edge_node(request).templates.globals["static"])


def manifest_of(static_url: Callable[[str], str], start_url: str) -> dict[str, object]:
    """The web app manifest in the current language."""
    return {
        "id": start_url,
        "name": _("村办代办"),
        "short_name": _("村办"),
        "lang": html_lang(),
        "dir": "ltr",
        "start_url": start_url,
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": static_url(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for path, sizes, purpose in ICONS
        ],
    }


async def manifest(request: Request) -> Response:
    """The manifest; its language follows ?lang= like every page."""
    start_url = path_for(request, START)
    body = json.dumps(manifest_of(_static_url(request), start_url), ensure_ascii=False).encode()
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Language, Cookie"}
    return Response(body, media_type="application/manifest+json", headers=headers)


def shell_of(
    static_url: Callable[[str], str], pages: list[str], offline_url: str
) -> dict[str, object]:
    """What the service worker precaches (`pages`: the shell's and the agent's form of every
    catalog item), the sections it may keep once visited, and the version of its caches."""
    assets = [static_url(name) for name in SHELL_ASSETS]
    # the worker's code and what it may keep count too
    named = "\n".join([*assets, static_url("sw.js"), *pages, *READ_OFFLINE, *KEPT_FORMS])
    version = hashlib.sha256(named.encode()).hexdigest()[:12]
    return {
        "version": version,
        "assets": assets,
        "outbox": static_url(OUTBOX_SCRIPT),
        "offline": offline_url,
        "pages": pages,
        "readable": list(READ_OFFLINE),
        "forms": list(KEPT_FORMS),
    }


async def service_worker(request: Request) -> Response:
    """static/sw.js at the root scope, preceded by the current shell."""
    async with edge_node(request).db.read() as db:
        items = await catalog.search(db, catalog.CatalogFilter())
    pages = [
        *(path_for(request, name) for name in SHELL_PAGES),
        *(path_for(request, FORM, code=item["code"]) for item in items),
    ]
    offline_url = path_for(request, "pwa:offline")
    shell = json.dumps(shell_of(_static_url(request), pages, offline_url), indent=1)
    body = f"const SHELL = {shell};\n\n".encode() + SW_FILE.read_bytes()
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
    return Response(body, media_type="text/javascript", headers=headers)  # edge/etag.py tags it


async def offline(request: Request) -> Response:
    """What still works without a connection; the service worker shows it for pages it lacks."""
    return render(request, "edge/pwa/offline.html")


routes = [
    Route("/manifest.webmanifest", manifest, methods=["GET"], name="pwa:manifest"),
    Route("/sw.js", service_worker, methods=["GET"], name="pwa:service_worker"),
    Route("/offline", offline, methods=["GET"], name="pwa:offline"),
]
