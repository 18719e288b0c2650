"""Jinja2 environment: templates/, Babel gettext, hashed static URLs, page-or-fragment rendering."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from edge.kernel import i18n
from edge.kernel.masking import public_text
from edge.kernel.node import node_of
from edge.kernel.static_assets import INLINE_CSS, INLINE_SCRIPT, StaticAssets
from edge.kernel.urls import home_path, path_for

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


class PageEnvironment(Environment):
    """Jinja2's environment, reading `row.column` of a database row as the column directly:
    Jinja tries the attribute first, and a row's failed attribute lookup (an exception) cost
    the agent's home page of 50 rows a third of its rendering (issue 17)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is sqlite3.Row and attribute != "keys":
            try:
                return obj[attribute]
            except IndexError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)  # Jinja's own: the attribute, then the item


class PathFor:
    """`url(...)` of one request's templates: the same as the global `url`, without Jinja's
    context derivation on each call (a link per row of a list)."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __call__(self, name: str, /, **params: str) -> str:
        return path_for(self.request, name, **params)


MAX_MESSAGES = 8192  # translated page texts kept, per locale and message; all go when full
_MESSAGES: dict[tuple[str, str], Markup] = {}


def page_gettext(message: str, /, **variables: Any) -> Markup:
    """`{{ _("...") }}`: what Jinja's newstyle gettext makes (the translation as markup, always
    %-formatted with escaped `variables`), without its two context calls; a message without
    variables is made once per locale (a page shows about 25)."""
    if variables:
        return Markup(i18n.gettext(message)) % variables
    key = (i18n.current_locale(), message)
    made = _MESSAGES.get(key)
    if made is None:
        if len(_MESSAGES) >= MAX_MESSAGES:
            _MESSAGES.clear()
        made = _MESSAGES[key] = Markup(i18n.gettext(message)) % {}
    return made


def build_environment(
    static: StaticAssets, homes: Mapping[str, str], layout: str = "edge/base.html"
) -> Environment:
    """The one Jinja2 environment of a node; `layout` is the page shell error pages (and the
    login page) extend, `homes` the route each role lands on."""
    env = PageEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # compiled once per process: no stat of each template per request
    )
    # jinja2.ext.i18n adds this method at run time; Environment's types do not declare it.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = page_gettext  # the same text as the extension's `_`, cheaper
    env.globals.update(
        static=static.url,
        inline_css=Markup(static.inline(INLINE_CSS)),  # our own file, hashed into the CSP
        inline_script=Markup(static.inline(INLINE_SCRIPT)),  # likewise
        pick=i18n.pick,
        html_lang=i18n.html_lang,
        current_locale=i18n.current_locale,
        format_date=i18n.format_date,
        format_number=i18n.format_number,
        language_switch=language_switch,
        url=url,
        home_of=_home_of(homes),
        layout=layout,
    )
    env.filters["public"] = _public
    return env


def _public(value: Any) -> Any:
    """`{{ text|public }}`: free text on a public page, in the one public form (masking)."""
    return public_text(value) if isinstance(value, str) else value


@pass_context
def url(context: Context, name: str, /, **params: str) -> str:
    """`url("intake:receipt", application_id=app.id)`: the relative path of a named route."""
    return path_for(context["request"], name, **params)


def _home_of(homes: Mapping[str, str]) -> Callable[..., str]:
    @pass_context
    def home_of(context: Context, role: str) -> str:
        """The path of the page `role` lands on."""
        return home_path(context["request"], homes, role)

    return home_of


def language_switch(request: Request) -> tuple[str, str, str]:
    """(url, hreflang, autonym) of the link that switches to the other language."""
    other = "en" if i18n.current_locale() == "zh_Hans" else "zh_Hans"
    query = request.url.include_query_params(lang=other).query
    return f"{request.url.path}?{query}", i18n.html_lang_of(other), i18n.AUTONYMS[other]


def is_htmx(request: Request) -> bool:
    """Whether htmx asked for a partial update (and not a boosted full page)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Request-Type", "partial") == "partial"
        and headers.get("HX-Boosted") != "true"
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page, or only its `fragment` template when htmx asks for a partial update."""
    env: Environment = node_of(request).templates
    name = fragment if fragment and is_htmx(request) else template
    values = {"request": request, "account": request.scope.get("account"), **(context or {})}
    values["csrf_token"] = request.scope.get("csrf_token", "")
    values["url"] = PathFor(request)
    response = HTMLResponse(env.get_template(name).render(values), status_code=status_code)
    if fragment:
        response.headers["Vary"] = "HX-Request"
    return response
