"""Sets each request's language: ?lang=, then the cb_lang cookie, then Accept-Language."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel import i18n
from edge.kernel.auth.sessions import cookies_of
from edge.kernel.transport import secure

ONE_YEAR = 365 * 24 * 3600


class LocaleMiddleware:
    """Negotiates the locale and remembers an explicit choice in a cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
        accept = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
        locale = i18n.negotiate(query, cookies_of(scope).get(i18n.LOCALE_COOKIE), accept)
        i18n.set_locale(locale)
        scope["locale"] = locale
        chosen = i18n.parse_locale(query)
        if chosen is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append(
                    "Set-Cookie",
                    f"{i18n.LOCALE_COOKIE}={chosen}; Path=/; Max-Age={ONE_YEAR}; SameSite=Lax"
                    + ("; Secure" if secure(scope) else ""),
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)
