"""Static files under content-hashed names, cached for a year and never revalidated; a bundle
serves several scripts as one file, so a page pays one request for all of them; the stylesheet
is also inlined in every page (first paint from the HTML alone), allowed by its CSP hash."""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Mapping
from pathlib import Path

import brotli  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
# the scripts every page loads: htmx and 读给我听 (read aloud), one request on a first visit
BUNDLES: Mapping[str, tuple[str, ...]] = {"js/site.js": ("js/htmx.min.js", "js/read-aloud.js")}
# the stylesheet every page carries inline: first paint needs no second request (issue 17)
INLINE_CSS = "css/site.css"
# the loader every page carries inline: it adds the page's scripts after `load` (issue 17)
INLINE_SCRIPT = "js/after-load.js"
MEDIA_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}


class StaticAssets:
    """Maps `css/site.css` to `/static/css/site.<hash>.css` and serves it."""

    def __init__(
        self,
        root: Path,
        mount: str = "/static",
        bundles: Mapping[str, tuple[str, ...]] = BUNDLES,
    ) -> None:
        self.root = root
        self.mount = mount
        self._hashed: dict[str, str] = {}
        self._files: dict[str, Path] = {}
        self._bundles: dict[str, bytes] = {}
        self._encoded: dict[str, dict[str, bytes]] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self._files[self._name(path.relative_to(root).as_posix(), path.read_bytes())] = path
        for logical, parts in bundles.items():
            content = b"\n;\n".join((root / part).read_bytes().rstrip() for part in parts) + b"\n"
            name = self._name(logical, content)
            self._bundles[name] = content
            self._encoded[name] = precompressed(content)

    def _name(self, logical: str, content: bytes) -> str:
        """Register `logical` under its content-hashed name, and return that name."""
        digest = hashlib.sha256(content).hexdigest()[:12]
        stem, dot, suffix = logical.rpartition(".")
        hashed = f"{stem}.{digest}.{suffix}" if dot else f"{logical}.{digest}"
        self._hashed[logical] = hashed
        return hashed

    def inline(self, logical: str) -> str:
        """The text of a static file, to put inside the page (the inline stylesheet)."""
        return self._files[self._hashed[logical]].read_text(encoding="utf-8").strip()

    def url(self, logical: str) -> str:
        """The URL of a static file by its plain name; unknown names fail loudly."""
        return f"{self.mount}/{self._hashed[logical]}"

    async def endpoint(self, request: Request) -> Response:
        """Serve a hashed file or bundle with a one-year immutable cache."""
        name = request.path_params["path"]
        headers = {"Cache-Control": IMMUTABLE}
        if name in self._bundles:
            media_type = MEDIA_TYPES[name.rpartition(".")[2]]
            body = self._bundles[name]
            encoding = accepted_encoding(request.headers.get("accept-encoding", ""))
            if encoding:
                body = self._encoded[name][encoding]
                headers |= {"Content-Encoding": encoding, "Vary": "Accept-Encoding"}
            return Response(body, media_type=media_type, headers=headers)
        path = self._files.get(name)
        if path is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(path, headers=headers)


def static_route(static: StaticAssets) -> Route:
    """The route serving hashed static files."""
    return Route(
        "/static/{path:path}", static.endpoint, methods=["GET", "HEAD"], name="static:file"
    )


def inline_css() -> str:
    """The stylesheet every page inlines, exactly as `StaticAssets.inline` gives it."""
    return (STATIC_DIR / INLINE_CSS).read_text(encoding="utf-8").strip()


def inline_script() -> str:
    """The script loader every page inlines, exactly as `StaticAssets.inline` gives it."""
    return (STATIC_DIR / INLINE_SCRIPT).read_text(encoding="utf-8").strip()


def csp_hash(text: str) -> str:
    """The CSP source ('sha256-...') that allows one inline <style> or <script> element."""
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"


def precompressed(content: bytes) -> dict[str, bytes]:
    """A bundle compressed once, as tightly as the formats allow: brotli at quality 11 keeps
    htmx and read-aloud (12.8 KB) inside the initial congestion window with the headers, where
    the per-request quality 4 (14.8 KB) needed a second round trip on a new connection."""
    return {
        "br": brotli.compress(content, quality=11),
        "gzip": gzip.compress(content, compresslevel=9, mtime=0),
    }


def accepted_encoding(accept_encoding: str) -> str:
    """ "br", "gzip" or "" (identity), by what the request's Accept-Encoding offers."""
    offered = {part.split(";")[0].strip().lower() for part in accept_encoding.split(",")}
    return "br" if "br" in offered else "gzip" if "gzip" in offered else ""
