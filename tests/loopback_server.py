"""A real HTTP server on a free loopback port, served from a thread for the length of a test."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator


def serving(server: http.server.HTTPServer) -> Iterator[str]:
    """Serve until the generator is closed; yields the server's base URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
