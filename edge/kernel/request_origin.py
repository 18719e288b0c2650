"""Whether a state-changing request was sent from this site's own pages: Sec-Fetch-Site, else
Origin, else Referer. A browser that sends none of them (old feature-phone browsers) is let on
to the token check (docs/architecture.md, "CSRF")."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers

OWN_SITE = {"same-origin", "none"}  # "none": typed or bookmarked by the user, not a page


def _same_host(url: str, host: str) -> bool:
    try:
        return bool(host) and urlsplit(url).netloc.lower() == host.lower()
    except ValueError:
        return False


def states_origin(headers: Headers) -> bool:
    """Whether the browser named where the request comes from at all (Sec-Fetch-Site, Origin or
    Referer): every browser of the last decade does on a POST from our pages."""
    return any(name in headers for name in ("sec-fetch-site", "origin", "referer"))


def from_this_site(headers: Headers) -> bool:
    """False when the browser says the request comes from another site (or another origin of
    the same site); True when it says this origin, or says nothing at all."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() in OWN_SITE
    host = headers.get("host", "")
    origin = headers.get("origin")
    if origin is not None:
        return _same_host(origin, host)  # "null" (sandboxed, privacy redirects) is refused
    referer = headers.get("referer")
    return referer is None or _same_host(referer, host)
