"""Other townships as links on the edge home page: central sends every township it knows,
with its public address, down the feed (`townships`); each edge links to the others."""

from __future__ import annotations

from dataclasses import replace

from starlette.testclient import TestClient

from central.app import create_app as create_central
from edge.app import create_app as create_edge
from tests.central_support import central_rows, take_feed


def _home(settings, clock) -> str:
    with TestClient(create_edge(settings, clock), base_url="https://testserver") as edge:
        return edge.get("/").text


def test_each_edge_home_links_to_the_other_townships_central_knows(central, edges, clock):
    lianzhou, fucheng = edges["lianzhou"], edges["fucheng"]
    before = _home(lianzhou, clock)
    assert "福成镇" in before and 'href="http://127.0.0.3:8102/"' not in before  # plain text

    assert "applied" in take_feed(central, lianzhou)
    home = _home(lianzhou, clock)
    assert '<a href="http://127.0.0.3:8102/">银海区 福成镇</a>' in home  # the other township
    assert 'href="http://127.0.0.2:8101/"' not in home  # not itself
    assert take_feed(central, fucheng)
    assert '<a href="http://127.0.0.2:8101/">合浦县 廉州镇</a>' in _home(fucheng, clock)


def test_the_list_is_sent_again_only_when_the_registry_changes(central, tmp_path, clock):
    sent = "SELECT node_id FROM commands WHERE kind = 'townships' ORDER BY seq"
    assert sorted(row[0] for row in central_rows(central, sent)) == ["fucheng", "lianzhou"]
    settings = central.app.state.node.settings
    with TestClient(create_central(settings, clock)):  # restarted with the same registry
        pass
    assert len(central_rows(central, sent)) == 2
    moved = replace(settings, nodes=settings.nodes.replace("127.0.0.3:8102", "fucheng.example.cn"))
    with TestClient(create_central(moved, clock)):  # a township's address changed
        pass
    rows = central_rows(central, "SELECT payload FROM commands WHERE kind = 'townships'")
    assert len(rows) == 4 and '"base_url": "http://fucheng.example.cn"' in rows[-1][0]
