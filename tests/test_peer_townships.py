"""Other townships as links on the edge home page: central (its follower, at start, after
registering the nodes) sends every township it knows with its public address down the feed
(`townships`); each edge links to the others."""

from __future__ import annotations

import sqlite3

from starlette.testclient import TestClient

from central import nodes
from central.__main__ import main as central_main
from central.feed.publish import publish_townships
from edge.app import create_app as create_edge
from tests.central_support import central_rows, take_feed

NOW = "2026-11-23T09:00:00+00:00"


def _home(settings, clock) -> str:
    with TestClient(create_edge(settings, clock), base_url="https://testserver") as edge:
        return edge.get("/").text


def _start_follower(central: TestClient, moved: tuple[str, str] | None = None) -> list[str]:
    """What `central follow` does at start: register the nodes, announce them if changed."""

    async def run() -> list[str]:
        async with central.app.state.node.db.write() as conn:
            if moved:
                node_id, url = moved
                [row] = [n for n in await nodes.all_nodes(conn) if n["node_id"] == node_id]
                await nodes.register(conn, node_id, row["township_code"], url, NOW)
            return await publish_townships(conn, NOW)

    return central.portal.call(run)


def test_each_edge_home_links_to_the_other_townships_central_knows(central, edges, clock):
    lianzhou, fucheng = edges["lianzhou"], edges["fucheng"]
    before = _home(lianzhou, clock)
    assert "福成镇" in before and 'href="http://127.0.0.3:8102/"' not in before  # plain text

    assert len(_start_follower(central)) == 2
    assert "applied" in take_feed(central, lianzhou)
    home = _home(lianzhou, clock)
    assert '<a href="http://127.0.0.3:8102/">银海区 福成镇</a>' in home  # the other township
    assert 'href="http://127.0.0.2:8101/"' not in home  # not itself
    assert take_feed(central, fucheng)
    assert '<a href="http://127.0.0.2:8101/">合浦县 廉州镇</a>' in _home(fucheng, clock)


def test_the_list_is_sent_again_only_when_the_registry_changes(central):
    sent = "SELECT node_id, payload FROM commands WHERE kind = 'townships' ORDER BY seq"
    _start_follower(central)
    assert sorted(row[0] for row in central_rows(central, sent)) == ["fucheng", "lianzhou"]
    assert _start_follower(central) == []  # restarted with the same registry
    assert len(central_rows(central, sent)) == 2
    _start_follower(central, ("fucheng", "https://fucheng.example.cn"))  # its address changed
    rows = central_rows(central, sent)
    assert len(rows) == 4 and '"base_url": "https://fucheng.example.cn"' in rows[-1][1]


def test_an_operators_publication_also_sends_a_changed_registry(tmp_path, monkeypatch):
    """`python -m central publish-catalog` registers the nodes it is given; a township added
    that way reaches every node's list without waiting for the follower's restart."""
    monkeypatch.setenv("CUNBAN_CENTRAL_DATA_DIR", str(tmp_path / "central"))
    registry = "lianzhou=450521100000=http://127.0.0.2:8101"
    monkeypatch.setenv("CUNBAN_CENTRAL_NODES", registry)
    assert central_main(["publish-catalog"]) == 0
    monkeypatch.setenv("CUNBAN_CENTRAL_NODES", f"{registry},fucheng=450503101000=http://f.cn")
    assert central_main(["publish-catalog"]) == 0
    with sqlite3.connect(tmp_path / "central" / "central.db") as conn:
        rows = conn.execute(
            "SELECT node_id, payload FROM commands WHERE kind = 'townships' ORDER BY seq"
        ).fetchall()
    assert [node for node, _ in rows] == ["lianzhou", "fucheng", "lianzhou"]
    assert '"base_url": "http://f.cn"' in rows[-1][1]
