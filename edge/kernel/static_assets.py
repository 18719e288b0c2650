"""Static files under content-hashed names, cached for a year and never revalidated."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


class StaticAssets:
    """Maps `css/site.css` to `/static/css/site.<hash>.css` and serves it."""

    def __init__(self, root: Path, mount: str = "/static") -> None:
        self.root = root
        self.mount = mount
        self._hashed: dict[str, str] = {}
        self._files: dict[str, Path] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self._add(path)

    def _add(self, path: Path) -> None:
        logical = path.relative_to(self.root).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        stem, dot, suffix = logical.rpartition(".")
        hashed = f"{stem}.{digest}.{suffix}" if dot else f"{logical}.{digest}"
        self._hashed[logical] = hashed
        self._files[hashed] = path

    def url(self, logical: str) -> str:
        """The URL of a static file by its plain name; unknown names fail loudly."""
        return f"{self.mount}/{self._hashed[logical]}"

    async def endpoint(self, request: Request) -> Response:
        """Serve a hashed file with a one-year immutable cache."""
        path = self._files.get(request.path_params["path"])
        if path is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(path, headers={"Cache-Control": IMMUTABLE})


def static_route(static: StaticAssets) -> Route:
    """The route serving hashed static files."""
    return Route(
        "/static/{path:path}", static.endpoint, methods=["GET", "HEAD"], name="static:file"
    )
