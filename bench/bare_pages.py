"""The least a web process can do for a page: Starlette + uvicorn answering each path with bytes
held in memory (captured from a real edge node by bench/page_rate.py), the ceiling it is compared
with in the same run."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

CAPTURE_ENV = "BENCH_BARE_PAGES"


def load(path: Path) -> dict[str, tuple[bytes, dict[str, str]]]:
    """{path with query: (body, headers)} from the capture file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {key: (base64.b64decode(body), headers) for key, (body, headers) in raw.items()}


def build(pages: dict[str, tuple[bytes, dict[str, str]]]) -> Starlette:
    """One catch-all route: the page's bytes and headers as captured, or 404."""

    async def serve(request: Request) -> Response:
        query = request.url.query
        found = pages.get(request.url.path + (f"?{query}" if query else ""))
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(found[0], headers=found[1])

    return Starlette(routes=[Route("/{path:path}", serve)])


def main() -> int:
    """`python -m bench.bare_pages PORT`, the capture named by $BENCH_BARE_PAGES."""
    import uvicorn

    app = build(load(Path(os.environ[CAPTURE_ENV])))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
