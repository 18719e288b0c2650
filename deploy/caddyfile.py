"""Caddy in front of a node: HTTPS (automatic, `tls internal`, or a certificate the city
issued), HSTS, zstd/gzip compression, HTTP/1.1, HTTP/2 and HTTP/3; http:// redirects."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MAIN = "/etc/caddy/Caddyfile"
OURS = "# Written by Cunban's deploy/install."
SITES = "/etc/caddy/cunban"
HSTS = "max-age=31536000"
PROXY_PEERS = "127.0.0.1,::1"  # where Caddy reaches the web process from: loopback


class TlsProblem(ValueError):
    """The TLS choice cannot work for this address."""


@dataclass(frozen=True)
class Tls:
    """`auto` (ACME: a public domain, ports 80/443 reachable), `internal` (Caddy's own CA,
    trusted by installing its root on the agents' devices) or `cert` (files the city issued)."""

    mode: str = "auto"
    cert: str = ""
    key: str = ""

    def problem(self, domain: str) -> str | None:
        """Why this TLS choice cannot serve `domain`, or None."""
        if self.mode not in ("auto", "internal", "cert"):
            return f"--tls must be auto, internal or cert, not {self.mode!r}"
        if self.mode == "cert" and not (self.cert and self.key):
            return "--tls cert needs --tls-cert and --tls-key (PEM files)"
        if self.mode == "auto" and _is_address(domain):
            return (
                f"{domain} is an IP address: no public CA issues for it; "
                "use --tls internal or --tls cert"
            )
        return None

    def directive(self) -> str:
        """The site's `tls` line, or none for automatic HTTPS."""
        if self.mode == "internal":
            return "\ttls internal\n"
        if self.mode == "cert":
            return f"\ttls {self.cert} {self.key}\n"
        return ""


def _is_address(domain: str) -> bool:
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return False
    return True


def main_file(email: str = "", domain: str = "") -> str:
    """/etc/caddy/Caddyfile: global options and every Cunban site. A node named by an IP
    address is its `default_sni`: clients send no server name for an address, and Caddy then
    fails the QUIC (HTTP/3) handshake without one (seen with Caddy 2.6, bench/weaklink.secure)."""
    contact = f"\temail {email}\n" if email else ""
    if _is_address(domain):
        contact += f"\tdefault_sni {domain}\n"
    return (
        f"{OURS} Sites: cunban/*.caddy, one per node.\n"
        "{\n"
        f"{contact}"
        "\tservers {\n"
        "\t\tprotocols h1 h2 h3\n"
        "\t}\n"
        "}\n"
        "\n"
        "import cunban/*.caddy\n"
    )


def site(node: str, domain: str, upstream: str, tls: Tls) -> str:
    """One node's site: TLS, HSTS, compression, and the proxy to its web process on loopback.
    Caddy's reverse_proxy replaces X-Forwarded-For with the client's address and sets
    X-Forwarded-Proto; the node believes both from PROXY_PEERS (CUNBAN_TRUSTED_PROXIES), so
    its cookies are Secure and its sign-in limit counts the real client."""
    return (
        f"# Cunban {node}\n"
        f"{domain} {{\n"
        f"{tls.directive()}"
        "\tencode zstd gzip\n"
        "\theader {\n"
        f'\t\tStrict-Transport-Security "{HSTS}"\n'
        "\t\t-Server\n"
        "\t}\n"
        f"\treverse_proxy {upstream}\n"
        "}\n"
    )
