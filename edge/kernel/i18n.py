"""Languages: Chinese first, English too. Babel catalogs, the request's locale and formatting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DEFAULT_LOCALE = "zh_Hans"
LOCALES = ("zh_Hans", "en")
LOCALE_COOKIE = "cb_lang"

_current: ContextVar[str] = ContextVar("cunban_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of `locale` (msgids are Chinese, so zh_Hans needs no lookup); Babel
    falls back to no translation when a catalog is missing."""
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def current_locale() -> str:
    """The locale of the request being served."""
    return _current.get()


def set_locale(locale: str) -> None:
    """Make `locale` the language of the rest of this request."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextmanager
def in_locale(locale: str) -> Iterator[None]:
    """Messages in `locale` inside the block (a record kept in one language), then as before."""
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """Translate `message` into the current locale."""
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count."""
    return translations(current_locale()).ngettext(singular, plural, n)


_ = gettext


def lazy_gettext(message: str) -> LazyProxy:
    """A message translated when it is shown, for module-level constants."""
    return LazyProxy(gettext, message, enable_cache=False)


def pick(zh: str, en: str) -> str:
    """Choose between the two texts of bilingual data (catalog, jurisdictions)."""
    return en if current_locale() == "en" and en else zh


def parse_locale(value: str | None) -> str | None:
    """Map a `?lang=` / cookie value such as zh, zh-CN, en-GB to a supported locale."""
    if not value:
        return None
    lowered = value.strip().lower().replace("_", "-")
    if lowered.startswith("zh"):
        return "zh_Hans"
    if lowered.startswith("en"):
        return "en"
    return None


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """Pick the locale: explicit choice, then remembered choice, then the browser's list."""
    for choice in (parse_locale(query), parse_locale(cookie)):
        if choice:
            return choice
    for part in (accept_language or "").split(","):
        tag, _sep, quality = part.partition(";q=")
        try:
            if quality and float(quality) <= 0:
                continue
        except ValueError:
            continue
        choice = parse_locale(tag)
        if choice:
            return choice
    return DEFAULT_LOCALE


AUTONYMS = {"zh_Hans": "中文", "en": "English"}


def html_lang_of(locale: str) -> str:
    """The BCP 47 tag of a locale, for lang= and hreflang=."""
    return "zh-Hans" if locale == "zh_Hans" else "en"


def html_lang() -> str:
    """The value of <html lang>."""
    return html_lang_of(current_locale())


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


def format_date(value: date | datetime | str, format: str = "medium") -> str:
    """A date in the current locale's style."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    elif isinstance(value, datetime):
        value = value.date()
    return _formatted_date(value, format, current_locale())


@lru_cache(maxsize=4096)
def _formatted_date(value: date, format: str, locale: str) -> str:
    """Babel's formatting of a date (a list of 50 dates took a fifth of a page's rendering)."""
    return dates.format_date(value, format=format, locale=_babel_locale(locale))


def format_moment(stamp: str, timezone: str) -> str:
    """A stored UTC time (`clock.stamp`) as the local date and time people read, to the minute."""
    moment = datetime.fromisoformat(stamp).astimezone(ZoneInfo(timezone))
    return dates.format_datetime(moment, format="short", locale=_babel_locale(current_locale()))


def format_number(value: float) -> str:
    """A number in the current locale's style."""
    return numbers.format_decimal(value, locale=_babel_locale(current_locale()))
