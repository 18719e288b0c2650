"""Settings base: frozen dataclasses filled from flat environment variables in one place, and
the part both nodes are told alike (WebSettings), declared once and embedded in each."""

from __future__ import annotations

import dataclasses
import ipaddress
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from edge.kernel.trusted_proxies import LOOPBACK, proxies_problem

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ENV_PREFIX = "CUNBAN_"

T = TypeVar("T", bound="DataclassInstance")


class SettingsError(ValueError):
    """A setting is missing or cannot be parsed."""


@dataclass(frozen=True)
class WebSettings:
    """What both nodes are told alike: where the web process listens, the base URL of its
    public links, how it logs, the local time zone, the sign-in policy, whether demo data is
    loaded, and the free space below which /healthz says not ok."""

    port: int
    host: str = "127.0.0.1"
    cookie_secure: bool = False  # true: Secure cookies and HSTS even over plain HTTP
    session_hours: int = 12
    session_idle_minutes: int = 30  # a session unused this long ends (shared devices)
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    client_address_header: str = (
        ""  # empty: the peer's address; behind a proxy, e.g. X-Forwarded-For
    )
    trusted_proxies: str = LOOPBACK  # peers whose X-Forwarded-Proto/-For we believe
    log_level: str = "info"
    demo: bool = False
    timezone: str = "Asia/Shanghai"
    min_free_mb: int = 200  # /healthz is not ok below this much free space in the data folder
    base_url: str = ""  # public links (receipts, QR codes); never taken from a request
    metrics_token: str = ""  # bearer token of /metrics; empty: /metrics answers 404

    @property
    def public_base(self) -> str:
        """The base of every absolute public URL, without a trailing slash: the configured
        base URL, or for a node listening on loopback (a demo) its own address."""
        if self.base_url:
            return self.base_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def proxies_problem(self, name: Callable[[str], str]) -> str | None:
        """Why the trusted proxies cannot be read (`name` spells a field's variable), or None."""
        return proxies_problem(self.trusted_proxies, name("trusted_proxies"))

    def base_url_problem(self, name: Callable[[str], str]) -> str | None:
        """Why the public base URL cannot be used (`name` spells a field's variable), or None."""
        if not self.base_url:
            if _loopback(self.host):
                return None
            return f"{name('base_url')} is required when the node listens on {self.host}"
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"{name('base_url')} must be an http:// or https:// URL, not {self.base_url!r}"
        if parts.query or parts.fragment:
            return f"{name('base_url')} must not carry a query or a fragment"
        return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_name(field: str, prefix: str = ENV_PREFIX) -> str:
    """The environment variable that sets a settings field."""
    return prefix + field.upper()


def env_names(cls: type[DataclassInstance], prefix: str = ENV_PREFIX) -> list[str]:
    """Every environment variable `from_environ` reads for `cls`: an embedded dataclass's
    fields by their own flat names."""
    names: list[str] = []
    for field, kind in _fields(cls):
        names += env_names(kind, prefix) if _embedded(kind) else [env_name(field.name, prefix)]
    return names


def from_environ(
    cls: type[T], environ: Mapping[str, str], prefix: str = ENV_PREFIX, base: T | None = None
) -> T:
    """Build a settings dataclass from `environ`; a field it does not set keeps its default
    (from `base` when given), and one without a default is required. An embedded dataclass
    field is filled from the same flat variables, over its default."""
    values: dict[str, Any] = {}
    for field, kind in _fields(cls):
        name = env_name(field.name, prefix)
        if _embedded(kind):
            default = None if field.default is dataclasses.MISSING else field.default
            values[field.name] = from_environ(kind, environ, prefix, default)
        elif name in environ:
            values[field.name] = _parse(environ[name], kind, name)
        elif base is None and field.default is dataclasses.MISSING:
            raise SettingsError(f"{name} is required")
    settings = cls(**values) if base is None else dataclasses.replace(base, **values)
    validate = getattr(settings, "validate", None)
    if validate is not None:
        validate()
    return settings


def _fields(cls: type[DataclassInstance]) -> list[tuple[dataclasses.Field[Any], Any]]:
    """Each field with its type resolved (the modules use `from __future__ import annotations`)."""
    hints = typing.get_type_hints(cls)
    return [(field, hints[field.name]) for field in dataclasses.fields(cls)]


def _embedded(kind: Any) -> bool:
    return isinstance(kind, type) and dataclasses.is_dataclass(kind)


def _parse(raw: str, kind: Any, name: str) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if kind is Path:
        return Path(raw)
    return raw
