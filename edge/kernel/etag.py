"""Conditional GETs: a strong ETag on whole HTML/JSON pages, hashed before compression and
marked after it with the encoding (one tag per representation), and `304 Not Modified` when the
browser already holds the same bytes; `no-store` is left alone."""

from __future__ import annotations

import base64
import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel.auth.sessions import SESSION_COOKIE, cookies_of

TAGGED_TYPES = ("text/html", "application/json", "application/manifest+json", "text/javascript")
PUBLIC = "no-cache"  # may be stored, but revalidated every time
PERSONAL = "private, no-cache"  # the same, in the browser only
# Representation metadata a 304 should not repeat (RFC 9110 §15.4.5).
NOT_ON_304 = {b"content-length", b"content-type", b"content-language", b"content-encoding"}


def entity_tag(body: bytes, scope: Scope, vary: str) -> str:
    """A strong tag over the identity body, the request's locale and the request headers named
    in `vary` (EncodingTags marks a compressed representation's own)."""
    digest = hashlib.blake2b(body, digest_size=12)
    digest.update(b"\0locale=" + str(scope.get("locale", "")).encode())
    request = Headers(scope=scope)
    for name in sorted({part.strip().lower() for part in vary.split(",")} - {"", "*"}):
        digest.update(f"\0{name}={request.get(name, '')}".encode("latin-1", "replace"))
    return '"' + base64.urlsafe_b64encode(digest.digest()).decode() + '"'


def matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison of `tag` with an If-None-Match list (or `*`)."""
    if if_none_match.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") == opaque for part in if_none_match.split(","))


def taggable(message: Message) -> bool:
    """Whether a 200 page, JSON or script may be tagged (not no-store, not encoded)."""
    headers = Headers(raw=message["headers"])
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return (
        message["status"] == 200
        and kind in TAGGED_TYPES
        and "no-store" not in headers.get("cache-control", "").lower()
        and "etag" not in headers
        and "content-encoding" not in headers
    )


def is_personal(scope: Scope) -> bool:
    """Whether the page was made for a signed-in person (or one who claims a session)."""
    return scope.get("account") is not None or SESSION_COOKIE in cookies_of(scope)


def not_modified(start: Message) -> Message:
    """The 304 start message: the 200's headers (ETag, Vary, Cache-Control, cookies) minus
    representation metadata; the body that follows is empty, so it is never compressed."""
    raw = [(name, value) for name, value in start["headers"] if name.lower() not in NOT_ON_304]
    headers = MutableHeaders(raw=raw)
    headers.add_vary_header("Accept-Encoding")  # as the compressed 200 said
    return {"type": "http.response.start", "status": 304, "headers": headers.raw}


class ConditionalResponder:
    """Holds a taggable response's start until its whole body is known, then tags or 304s it."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.send = send
        self.start: Message | None = None
        self.passing = False

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
        elif message["type"] == "http.response.start" and taggable(message):
            self.start = message
        elif self.start is not None and message["type"] == "http.response.body":
            self.passing = True
            await self.finish(self.start, message)
        else:
            self.passing = True
            if self.start is not None:
                await self.send(self.start)
            await self.send(message)

    async def finish(self, start: Message, message: Message) -> None:
        """Tag a whole body; stream bodies and bodies that do not match their length pass."""
        body = message.get("body", b"")
        headers = MutableHeaders(scope=start)
        length = headers.get("content-length")
        if message.get("more_body", False) or (length is not None and length != str(len(body))):
            await self.send(start)
            await self.send(message)
            return
        headers.setdefault("Cache-Control", PERSONAL if is_personal(self.scope) else PUBLIC)
        headers["ETag"] = tag = entity_tag(body, self.scope, headers.get("vary", ""))
        if matches(Headers(scope=self.scope).get("if-none-match", ""), tag):
            await self.send(not_modified(start))
            await self.send({"type": "http.response.body", "body": b""})
            return
        await self.send(start)
        await self.send(message)


class ETagMiddleware:
    """Runs inside the compression middleware, so tags describe the uncompressed bytes (and
    EncodingTags, outside it, gives each compressed representation its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, ConditionalResponder(scope, send))


ENCODINGS = ("br", "gzip")  # what the compression middleware may apply
MARK = "."  # between a tag and its encoding: never in the urlsafe base64 of entity_tag


def encoding_of(accept_encoding: str) -> str:
    """The encoding the compression chooses for an Accept-Encoding (brotli-asgi's own rule)."""
    if "br" in accept_encoding:
        return "br"
    return "gzip" if "gzip" in accept_encoding else ""


def base_of(tag: str) -> str:
    """The identity tag of a representation's tag: `"x.br"` -> `"x"` (weakness dropped)."""
    opaque = tag.strip().removeprefix("W/")
    for encoding in ENCODINGS:
        if opaque.endswith(MARK + encoding + '"'):
            return opaque[: -len(MARK + encoding + '"')] + '"'
    return opaque


def encoded(tag: str, encoding: str) -> str:
    """The tag of the `encoding` representation of the identity tag `tag`."""
    return tag[:-1] + MARK + encoding + '"' if encoding in ENCODINGS else tag


class EncodingTags:
    """Just outside the compression: a compressed 200 gets its own strong tag (`"x.br"`,
    `"x.gzip"`), so a proxy or the service worker never takes one encoding's bytes for another's;
    the browser's tags reach ETagMiddleware as identity tags, and its 304 names the tag sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope).get("if-none-match")
        if sent is not None and sent.strip() != "*":
            tags = [part.strip() for part in sent.split(",") if part.strip()]
            bases = ", ".join(base_of(tag) for tag in tags)
            headers = [(k, v) for k, v in scope["headers"] if k != b"if-none-match"]
            scope = {**scope, "headers": [*headers, (b"if-none-match", bases.encode("latin-1"))]}
        else:
            tags = []
        choice = MARK + encoding_of(Headers(scope=scope).get("accept-encoding", "")) + '"'

        async def mark(message: Message) -> None:
            if message["type"] == "http.response.start" and any(
                name.lower() == b"etag" for name, _ in message["headers"]
            ):
                headers = MutableHeaders(scope=message)
                if message["status"] == 304:  # name the browser's tag, of its encoding if held
                    held = [tag for tag in tags if base_of(tag) == base_of(headers["etag"])]
                    held.sort(key=lambda tag: base_of(tag) == tag or not tag.endswith(choice))
                    headers["ETag"] = held[0] if held else headers["etag"]
                else:
                    encoding = headers.get("content-encoding", "")
                    headers["ETag"] = encoded(headers["etag"], encoding)
            await send(message)

        await self.app(scope, receive, mark)
