"""The command feed: only the node that signed reads its own commands; each applies once."""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
import re
import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from ulid import ULID

from central.feed.publish import publish_calendar, publish_catalog
from central.feed.queries import append
from central.schema import APPLICATION_ID as CENTRAL_APPLICATION_ID
from central.schema import MIGRATIONS_DIR as CENTRAL_MIGRATIONS
from edge.catalog.loader import read_catalog, read_parts
from edge.kernel.db import Database
from edge.kernel.migrate import migrate
from edge.reference import prepare_database
from edge.settings import Settings
from edge.sync.commands import apply
from replication import identity
from replication.feed.commands import Calendar, CalendarDay, parse_command
from replication.feed.pull import FeedEntry, parse
from replication.ingest import ingest_node
from tests.central_support import START, central_rows, ingest, take_feed

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _key(edge: Settings) -> str:
    async def run() -> str:
        db = Database(edge.database_path)
        await db.open()
        try:
            async with db.write() as conn:
                return await identity.ensure_key(conn, edge.keys_dir, "2026-11-20T02:00:00+00:00")
        finally:
            await db.close()

    return asyncio.run(run())


def _queue(client, node_id: str, kind: str, payload: dict) -> str:
    async def run() -> str:
        async with client.app.state.node.db.write() as conn:
            command = parse_command(kind, payload)
            return await append(conn, node_id, command, "2026-11-20T02:00:00+00:00")

    return client.portal.call(run)


def _target(node_id: str, after: int = 0, limit: int = 100) -> str:
    return "/sync/commands?" + urlencode({"node": node_id, "after": after, "limit": limit})


def _signed(
    edge: Settings, key_id: str, target: str, timestamp: int = int(START.timestamp())
) -> dict[str, str]:
    """A request signed by the node at `timestamp` (central's test clock starts at START)."""
    return {
        "Authorization": identity.authorization(
            edge.keys_dir, edge.node_id, key_id, "GET", target, timestamp
        )
    }


def test_only_the_node_that_signed_reads_its_own_commands(central, edges):
    lianzhou, fucheng = edges["lianzhou"], edges["fucheng"]
    keys = {node: _key(edge) for node, edge in edges.items()}
    for edge in edges.values():
        ingest(central, edge)  # central learns each node's public key from its replica
    mine = [_queue(central, "lianzhou", "calendar", {"days": []}) for _ in range(3)]
    _queue(central, "fucheng", "calendar", {"days": []})

    target = _target("lianzhou")
    answer = central.get(target, headers=_signed(lianzhou, keys["lianzhou"], target))
    assert answer.status_code == 200
    assert [c["id"] for c in answer.json()["commands"]] == mine
    assert answer.headers["X-Cunban-More"] == "0"

    assert central.get(target).status_code == 401  # unsigned
    forged = _signed(fucheng, keys["fucheng"], target)  # another node's key
    forged["Authorization"] = forged["Authorization"].replace("node=fucheng", "node=lianzhou")
    assert central.get(target, headers=forged).status_code == 401
    other = _target("lianzhou", after=1)  # signed for one page, used for another
    assert (
        central.get(other, headers=_signed(lianzhou, keys["lianzhou"], target)).status_code == 401
    )
    stale = _signed(lianzhou, keys["lianzhou"], target, timestamp=int(START.timestamp()) - 3600)
    assert central.get(target, headers=stale).status_code == 401


def test_pages_follow_the_cursor_and_travel_gzipped(central, edges):
    lianzhou = edges["lianzhou"]
    key_id = _key(lianzhou)
    ingest(central, lianzhou)
    days = [{"day": f"2027-01-{d:02d}", "is_workday": False, "note": "元旦"} for d in range(1, 30)]
    ids = [_queue(central, "lianzhou", "calendar", {"days": days}) for _ in range(3)]
    first = _target("lianzhou", after=0, limit=2)
    page = central.get(
        first, headers=_signed(lianzhou, key_id, first) | {"Accept-Encoding": "gzip"}
    )
    assert page.headers["Content-Encoding"] == "gzip"
    assert page.headers["X-Cunban-More"] == "1"
    seqs = [c["seq"] for c in page.json()["commands"]]
    assert [c["id"] for c in page.json()["commands"]] == ids[:2]
    second = _target("lianzhou", after=seqs[-1], limit=2)
    rest = central.get(second, headers=_signed(lianzhou, key_id, second))
    assert [c["id"] for c in rest.json()["commands"]] == ids[2:]
    assert rest.headers["X-Cunban-More"] == "0"
    raw = json.dumps(page.json(), ensure_ascii=False).encode()
    assert len(gzip.compress(raw)) < len(raw) / 4


def test_a_command_taken_twice_changes_nothing(central, edges):
    lianzhou = edges["lianzhou"]
    payload = {"days": [{"day": "2027-02-11", "is_workday": False, "note": "春节"}]}
    command_id = _queue(central, "lianzhou", "calendar", payload)
    seq = central_rows(central, "SELECT seq FROM commands WHERE id = ?", command_id)[0][0]
    command = FeedEntry(seq, command_id, "calendar", payload)

    async def run() -> list[str]:
        db = Database(lianzhou.database_path)
        await db.open()
        try:
            results = []
            for _ in range(2):
                async with db.write() as conn:
                    results.append(await apply(conn, lianzhou, command, NOW))
            return results
        finally:
            await db.close()

    assert asyncio.run(run()) == ["applied", "seen"]
    ingest(central, lianzhou)
    taken = central_rows(
        central, "SELECT result FROM edge_applied_commands WHERE id = ?", command.id
    )
    assert [row["result"] for row in taken] == ["applied"]
    with sqlite3.connect(lianzhou.database_path) as conn:
        assert conn.execute(
            "SELECT is_workday, note FROM calendar_days WHERE day = '2027-02-11'"
        ).fetchall() == [(0, "春节")]
        assert conn.execute("SELECT count(*) FROM applied_commands").fetchone()[0] == 1


def test_ingest_repeated_copies_nothing_new(central, edges):
    lianzhou = edges["lianzhou"]
    before = central_rows(
        central, "SELECT count(*) FROM edge_applications WHERE node_id = 'lianzhou'"
    )[0][0]
    result = central.portal.call(
        ingest_node,
        central.app.state.node.db,
        "lianzhou",
        lianzhou.database_path,
        0,
    )
    assert result.rows == 0
    after = central_rows(
        central, "SELECT count(*) FROM edge_applications WHERE node_id = 'lianzhou'"
    )[0][0]
    assert before == after > 0


def test_the_holiday_calendar_published_at_central_reaches_each_node(central, edges):
    lianzhou = edges["lianzhou"]
    with sqlite3.connect(lianzhou.database_path) as conn:  # the node lost a holiday
        conn.execute("DELETE FROM calendar_days WHERE day = '2026-10-01'")

    async def publish() -> list[str]:
        async with central.app.state.node.db.write() as conn:
            return await publish_calendar(conn, range(2026, 2027), "2026-11-20T02:00:00+00:00")

    assert len(central.portal.call(publish)) == 2  # one command per registered node
    assert take_feed(central, lianzhou) == ["applied"]
    with sqlite3.connect(lianzhou.database_path) as conn:
        assert conn.execute(
            "SELECT is_workday, note FROM calendar_days WHERE day = '2026-10-01'"
        ).fetchall() == [(0, "国庆节")]
    assert take_feed(central, lianzhou) == ["seen"]


def test_central_keeps_its_witness_copy_of_an_audit_row_edited_on_the_edge(central, edges):
    lianzhou = edges["lianzhou"]
    original = central_rows(
        central, "SELECT seq, action FROM edge_audit_log WHERE node_id = 'lianzhou' LIMIT 1"
    )[0]
    with sqlite3.connect(lianzhou.database_path) as conn:  # someone behind the app's back
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'audit_log' "
            "AND name NOT LIKE '%rev%'"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("UPDATE audit_log SET action = 'nothing' WHERE seq = ?", (original["seq"],))
    ingest(central, lianzhou)
    kept = central_rows(
        central,
        "SELECT action FROM edge_audit_log WHERE node_id = 'lianzhou' AND seq = ?",
        original["seq"],
    )
    assert kept[0]["action"] == original["action"] != "nothing"


def _catalog_command(central, head: dict, items: list) -> None:
    _queue(central, "lianzhou", "catalog", {"head": head, "items": items})


def _edge_catalog(edge: Settings) -> tuple[str, str]:
    with sqlite3.connect(edge.database_path) as conn:
        version = conn.execute("SELECT version FROM catalog_meta").fetchone()[0]
        name = conn.execute("SELECT name_zh FROM catalog_items WHERE code = 'MZ-002'").fetchone()
    return version, name[0]


def test_a_catalog_published_at_central_reaches_the_node_and_is_never_downgraded(central, edges):
    lianzhou = edges["lianzhou"]

    async def publish() -> tuple[str, list[str]]:
        async with central.app.state.node.db.write() as conn:
            return await publish_catalog(conn, "2026-11-20T02:00:00+00:00")

    version, ids = central.portal.call(publish)
    assert version == read_catalog().version and len(ids) == 2  # the files, to every node
    assert take_feed(central, lianzhou) == ["applied"]  # the same content: nothing changes

    head, items = copy.deepcopy(read_parts())
    head["version"] = "2099.1.1"  # newer than the files, whatever their version
    renamed = next(item for item in items if item["code"] == "MZ-002")
    renamed["name"]["zh"] = "最低生活保障（新）"
    _catalog_command(central, head, items)
    older = copy.deepcopy(read_parts())
    older[0]["version"] = "2026.10.1"
    _catalog_command(central, *older)
    broken = copy.deepcopy(read_parts())
    broken[0]["version"] = "2099.1.2"
    del broken[1][0]["materials"]
    _catalog_command(central, *broken)
    assert take_feed(central, lianzhou) == ["seen", "applied", "refused", "refused"]
    assert _edge_catalog(lianzhou) == ("2099.1.1", "最低生活保障（新）")

    async def restart() -> None:  # the node restarts with its older catalog files
        db = Database(lianzhou.database_path)
        await db.open()
        try:
            await prepare_database(db)
        finally:
            await db.close()

    asyncio.run(restart())
    assert _edge_catalog(lianzhou) == ("2099.1.1", "最低生活保障（新）")
    with sqlite3.connect(lianzhou.database_path) as conn:
        details = [r[0] for r in conn.execute("SELECT detail FROM applied_commands ORDER BY seq")]
    assert "older" in details[-2] and "not valid" in details[-1]


def _store_raw(client, node_id: str, kind: str, payload: str) -> str:
    """A command row as another version of central may have stored it (payload unchecked)."""

    async def run() -> str:
        command_id = str(ULID())
        async with client.app.state.node.db.write() as conn:
            await conn.execute(
                "INSERT INTO commands (id, node_id, kind, payload, created_at) "
                "VALUES (?, ?, ?, ?, '2026-11-20T02:00:00+00:00')",
                (command_id, node_id, kind, payload),
            )
        return command_id

    return client.portal.call(run)


def test_a_malformed_or_unknown_command_is_refused_with_its_reason_and_never_blocks(central, edges):
    lianzhou = edges["lianzhou"]
    bad_day = json.dumps({"days": [{"day": "2027-13-01", "is_workday": False, "note": ""}]})
    _store_raw(central, "lianzhou", "calendar", bad_day)
    _store_raw(central, "lianzhou", "policy", '{"title": "惠民政策"}')
    payload = {"days": [{"day": "2027-02-11", "is_workday": False, "note": "春节"}]}
    _queue(central, "lianzhou", "calendar", payload)
    assert take_feed(central, lianzhou) == ["refused", "refused", "applied"]
    with sqlite3.connect(lianzhou.database_path) as conn:
        taken = conn.execute("SELECT kind, result, detail FROM applied_commands ORDER BY seq")
        assert [tuple(row) for row in taken] == [
            ("calendar", "refused", "day must be a date (YYYY-MM-DD), not '2027-13-01'"),
            ("policy", "refused", "unknown command kind 'policy'"),
            ("calendar", "applied", ""),
        ]
        assert (
            conn.execute("SELECT count(*) FROM calendar_days WHERE day = '2027-02-11'").fetchone()[
                0
            ]
            == 1
        )
    ingest(central, lianzhou)  # central sees each refusal and its reason
    refused = central_rows(
        central, "SELECT detail FROM edge_applied_commands WHERE result = 'refused' ORDER BY seq"
    )
    assert [row["detail"] for row in refused][-1] == "unknown command kind 'policy'"


def test_a_typed_command_travels_the_signed_feed_unchanged(central, edges):
    lianzhou = edges["lianzhou"]
    key_id = _key(lianzhou)
    ingest(central, lianzhou)
    sent = Calendar((CalendarDay(date(2027, 2, 11), False, "春节"),))
    _queue(central, "lianzhou", sent.kind, sent.to_payload())
    target = _target("lianzhou")
    answer = central.get(target, headers=_signed(lianzhou, key_id, target))
    assert answer.status_code == 200
    [entry] = parse(answer.content)
    assert (entry.kind, entry.payload) == ("calendar", sent.to_payload())
    assert entry.command() == sent


def _migrate_central(path: Path, directory: Path) -> int:
    async def run() -> int:
        db = Database(path)
        await db.open()
        try:
            return await migrate(db.writer, directory, CENTRAL_APPLICATION_ID, path)
        finally:
            await db.close()

    return asyncio.run(run())


def test_the_feed_table_keeps_every_command_and_position_when_kinds_leave_its_check(tmp_path):
    before = tmp_path / "before"
    before.mkdir()
    for script in sorted(CENTRAL_MIGRATIONS.glob("*.sql"))[:2]:  # central before typed commands
        shutil.copy(script, before)
    path = tmp_path / "central.db"
    assert _migrate_central(path, before) == 2
    stored = '{"days": [{"day": "2027-02-11", "is_workday": false, "note": "春节"}]}'
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO nodes (node_id, township_code, township_zh, township_en, county_zh, "
            "county_en, base_url, registered_at) VALUES ('lianzhou', '450521100000', '廉州镇', "
            "'Lianzhou', '合浦县', 'Hepu', 'http://127.0.0.2:8101', '2026-11-01T00:00:00+00:00')"
        )
        for n in range(3):
            conn.execute(
                "INSERT INTO commands (id, node_id, kind, payload, created_at, step_id) "
                "VALUES (?, 'lianzhou', 'calendar', ?, '2026-11-20T02:00:00+00:00', ?)",
                (f"01JD00000000000000000000{n:02d}", stored, f"step-{n}"),
            )
        conn.execute("DELETE FROM commands WHERE seq = 3")  # the newest position was used
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(
                "INSERT INTO commands (id, node_id, kind, payload, created_at) "
                "VALUES ('01JD0000000000000000000099', 'lianzhou', 'policy', '{}', 'now')"
            )
    assert _migrate_central(path, CENTRAL_MIGRATIONS) == len(list(CENTRAL_MIGRATIONS.glob("*.sql")))
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT seq, id, kind, payload, step_id FROM commands ORDER BY seq")
        assert [tuple(row) for row in rows] == [
            (1, "01JD0000000000000000000000", "calendar", stored, "step-0"),
            (2, "01JD0000000000000000000001", "calendar", stored, "step-1"),
        ]
        added = conn.execute(
            "INSERT INTO commands (id, node_id, kind, payload, created_at) "
            "VALUES ('01JD0000000000000000000099', 'lianzhou', 'policy', '{}', 'now')"
        )
        assert added.lastrowid == 4  # never a position an edge may already have taken
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(commands)")}
        assert {"commands_node", "commands_step"} <= indexes
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(
                "INSERT INTO commands (id, node_id, kind, payload, created_at) "
                "VALUES ('01JD0000000000000000000098', 'lianzhou', '', '{}', 'now')"
            )


def test_a_captured_signed_request_cannot_be_replayed(central, edges):
    lianzhou = edges["lianzhou"]
    key_id = _key(lianzhou)
    ingest(central, lianzhou)
    _queue(central, "lianzhou", "calendar", {"days": []})
    target = _target("lianzhou")
    captured = _signed(lianzhou, key_id, target)
    assert central.get(target, headers=captured).status_code == 200
    replayed = central.get(target, headers=captured)  # within the +-300 s window
    assert replayed.status_code == 401
    assert replayed.json() == {"error": "this signed request was already used"}
    fresh = _signed(lianzhou, key_id, target)  # the node's next request signs a new nonce
    assert central.get(target, headers=fresh).status_code == 200
    unsigned_nonce = re.sub(r",nonce=[^,]+", "", fresh["Authorization"])
    assert central.get(target, headers={"Authorization": unsigned_nonce}).status_code == 401
