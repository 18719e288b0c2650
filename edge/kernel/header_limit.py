"""The web server's bound on a request's head (request line and headers): 431 past it, before
the rest is read. uvicorn's httptools parser has no bound of its own."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 32 * 1024  # nginx's large_client_header_buffers default (4 x 8k)
LINGER_SECONDS = 2.0
REFUSAL = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 40\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"Request header fields are too large.\r\n\r\n"
)


class BoundedHeadProtocol(HttpToolsProtocol):
    """httptools, counting the bytes of each request's head; past MAX_HEAD_BYTES it answers
    431 and closes the connection, so the parser never holds more than that and one read."""

    head_bytes: int | None = None  # None while no request head is being read
    refused = False

    def on_message_begin(self) -> None:
        """A request starts: its head is being read."""
        super().on_message_begin()
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        """The head is whole: what follows is the body."""
        self.head_bytes = None
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        """Parse, then count what arrived while the head is still incomplete."""
        if self.refused:  # lingering: drop what still arrives, so the client reads the 431
            return
        super().data_received(data)
        if self.head_bytes is None or self.transport.is_closing():
            return
        self.head_bytes += len(data)
        if self.head_bytes > MAX_HEAD_BYTES:
            self.refuse()

    def refuse(self) -> None:
        """Answer 431, stop writing and close a little later (closing at once with unread
        bytes would reset the connection, and the client could lose the answer)."""
        self.refused = True
        self.transport.write(REFUSAL)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
