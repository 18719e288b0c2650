"""The trusted-proxy setting (CUNBAN_TRUSTED_PROXIES): its default and its check. Standard
library only, like the rest of the settings, so deploy/install can read the settings with the
system python3 of a fresh Debian."""

from __future__ import annotations

import ipaddress

LOOPBACK = "127.0.0.1,::1"  # the default: a proxy on the same machine (deploy/install's Caddy)


def proxies(raw: str) -> list[str]:
    """The addresses and networks of a comma-separated CUNBAN_TRUSTED_PROXIES value."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def proxies_problem(raw: str, name: str) -> str | None:
    """Why `raw` cannot name the trusted proxies (`name` is its variable), or None."""
    for part in proxies(raw):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            return f"{name} must list IP addresses or networks (10.0.0.0/8), not {part!r}"
    return None
