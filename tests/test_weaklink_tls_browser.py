"""bench/weaklink through Caddy works: in the rig's namespaces (unshaped), Chromium in the
client namespace gets a resident page from Caddy (`tls internal`, deploy/install's Caddyfile)
over TLS 1.3 with HTTP/2 and, forced, over QUIC with HTTP/3, byte for byte the page the node
serves over plain HTTP; with QUIC allowed but not forced, it learns Caddy's Alt-Svc yet stays
on TCP, as the bench's doc section says. Needs root (network namespaces)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.weaklink.caddy import CADDY, CERTUTIL, Proxy, start_caddy, trust
from bench.weaklink.edge_node import EDGE_PORT, start_edge
from bench.weaklink.rig import Rig
from bench.weaklink.secure import browse, parse_args
from bench.weaklink.secure_browse import SecureLoad
from tests.browser_support import ensure_chromium, ensure_debian

PAGE = "/services/MZ-002"


@dataclass
class Rigged:
    rig: Rig
    urls: dict[str, str]
    proxy: Proxy


@pytest.fixture(scope="module")
def rigged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rigged]:
    if os.geteuid() != 0:
        pytest.fail("the weak-link rig builds network namespaces: run this test as root")
    ensure_chromium()
    ensure_debian(CADDY, "caddy")
    ensure_debian(CERTUTIL, "libnss3-tools")
    folder: Path = tmp_path_factory.mktemp("weaklink-tls")
    rig = Rig.named_for(os.getpid())
    try:
        rig.build()
        urls = {"plain": start_edge(rig, folder)}
        proxy = start_caddy(rig, folder, f"{rig.server.address}:{EDGE_PORT}")
        trust(proxy)
        yield Rigged(rig, urls, proxy)
    finally:
        rig.destroy()


def _visits(rigged: Rigged, mode: str) -> list[SecureLoad]:
    args = parse_args(["--pages", PAGE, "--repeats", "1"])
    return browse(rigged.rig, mode, rigged.urls, rigged.proxy, args)


def test_a_page_through_caddy_over_tls13_h2_and_quic_h3_is_the_nodes_page(rigged):
    plain = _visits(rigged, "plain")
    assert [(x.visit, x.protocol, x.tls) for x in plain] == [
        ("cold", "http/1.1", ""),
        ("warm", "http/1.1", ""),
    ]
    page = plain[0].body_sha256
    tls = _visits(rigged, "tls")
    assert [(x.visit, x.protocol, x.tls) for x in tls] == [
        ("cold", "h2", "TLS 1.3"),
        ("warm", "h2", "TLS 1.3"),
    ]
    assert tls[0].connect_ms > 0 and tls[1].connect_ms == 0  # the warm tab reuses it
    h3 = _visits(rigged, "h3")
    assert [(x.visit, x.protocol, x.tls) for x in h3] == [
        ("cold", "h3", "QUIC"),
        ("warm", "h3", "QUIC"),
    ]
    assert {x.body_sha256 for x in [*tls, *h3]} == {page}
    assert all(x.document_bytes > 0 and x.link_bytes > 0 for x in [plain[0], tls[0], h3[0]])


def test_alt_svc_is_learned_but_chromium_keeps_tcp_with_a_locally_trusted_root(rigged):
    visits = _visits(rigged, "alt-svc")
    assert [(x.visit, x.protocol) for x in visits] == [
        ("learn", "h2"),
        ("cold", "h2"),
        ("warm", "h2"),
    ]
