"""The audit chain anchored at central (issue 12, finding 4): each tampering the chain alone
misses is found by central's check of the node's mirror, by `python -m edge audit verify`
against central's witness, and shows red on /nodes."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from central.audit import anchor
from edge.audit import rotation, signing
from edge.audit import verify as audit_verify
from edge.audit.log import FIELDS, append, row_hash
from edge.audit.triggers import GUARDS
from edge.kernel.clock import stamp
from edge.kernel.db import Database, connect_sync
from edge.kernel.key_files import key_path
from edge.kernel.signatures import ALGORITHMS
from edge.settings import Settings
from edge.sync.heartbeat import beat
from replication import identity
from replication.anchor import Witness, parse_witness, witness_target
from tests.central_support import START, central_rows, ingest
from tests.conftest import login

NODE = "lianzhou"
CITY_ADMIN = "13807700001"
COLUMNS = ", ".join([*FIELDS, "prev_hash", "hash", "key_id", "signature"])


async def _beat_and_key(edge: Settings) -> str:
    db = Database(edge.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            key_id = await identity.ensure_key(conn, edge.keys_dir, stamp(START))
            await beat(conn, int(START.timestamp() * 1000))
        return key_id
    finally:
        await db.close()


def _publish(central: TestClient, edge: Settings) -> str:
    """What the sync loop and the follower do: a heartbeat with the head, then ingest."""
    key_id = asyncio.run(_beat_and_key(edge))
    ingest(central, edge)
    return key_id


def _witness_of(central: TestClient, edge: Settings, key_id: str) -> Callable[[], Witness]:
    """The edge's signed request for its witness, answered by central's real route."""

    def fetch() -> Witness:
        target = witness_target(edge.node_id)
        header = identity.authorization(
            edge.keys_dir, edge.node_id, key_id, "GET", target, int(START.timestamp())
        )
        response = central.get(target, headers={"Authorization": header})
        assert response.status_code == 200
        return parse_witness(response.content)

    return fetch


def _rows(path: Path) -> list[sqlite3.Row]:
    conn = connect_sync(path)
    try:
        return conn.execute(f"SELECT {COLUMNS} FROM audit_log ORDER BY seq").fetchall()
    finally:
        conn.close()


def _forged(
    keys_dir: Path, prev_hash: str, row: sqlite3.Row, **changes: object
) -> tuple[object, ...]:
    """The row with `changes`, chained to `prev_hash`, its hash recomputed and signed again with
    the node's key, as a forger who took the key file too would: only the anchor can tell."""
    fields = {name: changes.get(name, row[name]) for name in FIELDS}
    digest = row_hash(prev_hash, fields)
    return (
        *(fields[name] for name in FIELDS),
        prev_hash,
        digest,
        *_signed(keys_dir, row["key_id"], digest),
    )


def _signed(keys_dir: Path, key_id: str, digest: str) -> tuple[str, str]:
    """(key id, signature) of `digest` made with the stolen key file of that key id."""
    pem = key_path(keys_dir, key_id).read_bytes()
    signature = ALGORITHMS["ed25519"].sign(pem, signing.message(key_id, digest))
    return key_id, base64.b64encode(signature).decode("ascii")


def _tamper(path: Path, *steps: tuple[str, tuple[object, ...]], restore: bool = True) -> None:
    """Drop the guard triggers, run the statements, and (by default) put the triggers back
    exactly as they were, so only the anchor can tell."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for name in GUARDS:
            conn.execute(f"DROP TRIGGER {name}")
        for sql, params in steps:
            conn.execute(sql, params)
        for sql in GUARDS.values() if restore else ():
            conn.execute(sql)
    finally:
        conn.close()


def _insert(values: tuple[object, ...], verb: str = "INSERT") -> tuple[str, tuple[object, ...]]:
    marks = ", ".join("?" * len(values))
    return f"{verb} INTO audit_log ({COLUMNS}) VALUES ({marks})", values


def _central_finds(central: TestClient, edge: Settings) -> list[str]:
    db = central.app.state.node.db
    return central.portal.call(anchor.check, db, edge.node_id, edge.database_path, 2_000)


def _edge_finds(central: TestClient, edge: Settings, key_id: str, capsys) -> str:
    capsys.readouterr()
    assert audit_verify.main(edge.database_path, _witness_of(central, edge, key_id)) == 1
    return capsys.readouterr().out


def _chain_alone(path: Path) -> list[str]:
    conn = connect_sync(path)
    try:
        return audit_verify.verify_chain(conn)
    finally:
        conn.close()


def _nodes_row(central: TestClient) -> str:
    assert login(central, CITY_ADMIN).status_code == 303
    page = central.get("/nodes").text
    return page[page.index(f'<tr id="node-{NODE}"') :].split("</tr>")[0]


@pytest.fixture
def anchored(central: TestClient, edges: dict[str, Settings]) -> tuple[Settings, str]:
    """Lianzhou's chain as central witnessed it before anyone touched it."""
    edge = edges[NODE]
    key_id = _publish(central, edge)
    assert len(_rows(edge.database_path)) >= 4
    head = _rows(edge.database_path)[-1]
    heads = central_rows(central, "SELECT seq, hash FROM audit_heads WHERE node_id = ?", NODE)
    assert [tuple(h) for h in heads] == [(head["seq"], head["hash"])]  # the heartbeat's head
    assert _central_finds(central, edge) == []
    assert "audit-diverged" not in _nodes_row(central)
    return edge, key_id


def test_an_untouched_chain_matches_the_witness_at_both_ends(central, anchored, capsys):
    edge, key_id = anchored
    capsys.readouterr()
    assert audit_verify.main(edge.database_path, _witness_of(central, edge, key_id)) == 0
    assert capsys.readouterr().out.startswith("audit log OK")
    assert "审计链与中心见证一致" in _nodes_row(central)


def test_the_witness_is_only_for_the_node_itself(central, anchored):
    assert central.get(witness_target(NODE)).status_code == 401
    edge, key_id = anchored
    target = witness_target("fucheng")
    header = identity.authorization(
        edge.keys_dir, edge.node_id, key_id, "GET", target, int(START.timestamp())
    )
    assert central.get(target, headers={"Authorization": header}).status_code == 401


def test_the_last_rows_deleted_are_found(central, anchored, capsys):
    edge, key_id = anchored
    last = _rows(edge.database_path)[-1]["seq"]
    _tamper(edge.database_path, ("DELETE FROM audit_log WHERE seq >= ?", (last - 1,)))
    _publish(central, edge)
    assert _chain_alone(edge.database_path) == []  # what verify saw before the anchor
    found = _central_finds(central, edge)
    assert any(f"row {last - 1}, {last}" in p and "cut back" in p for p in found), found
    assert "cut back" in _edge_finds(central, edge, key_id, capsys)
    row = _nodes_row(central)
    assert 'class="card-red"' in row and "audit-diverged" in row


def test_insert_or_replace_over_the_last_row_is_found(central, anchored, capsys):
    edge, key_id = anchored
    rows = _rows(edge.database_path)
    replaced = _forged(edge.keys_dir, rows[-2]["hash"], rows[-1], result="refused")
    conn = sqlite3.connect(edge.database_path, isolation_level=None)
    conn.execute(*_insert(replaced, "INSERT OR REPLACE"))  # the append-only triggers let it by
    conn.close()
    _publish(central, edge)
    assert _chain_alone(edge.database_path) == []
    assert audit_verify.main(edge.database_path) == 0  # the log alone looks intact
    last = rows[-1]["seq"]
    found = _central_finds(central, edge)
    assert any(f"row {last}: differs from central's witness" in p for p in found), found
    assert f"row {last}: differs" in _edge_finds(central, edge, key_id, capsys)
    assert "audit-diverged" in _nodes_row(central)


def test_the_chain_rewritten_forward_from_a_middle_row_is_found(central, anchored, capsys):
    edge, key_id = anchored
    rows = _rows(edge.database_path)
    middle = len(rows) // 2
    steps = [("DELETE FROM audit_log WHERE seq >= ?", (rows[middle]["seq"],))]
    prev = rows[middle - 1]["hash"]
    for row in rows[middle:]:
        values = _forged(edge.keys_dir, prev, row, result="refused")
        steps.append(_insert(values))
        prev = str(values[len(FIELDS) + 1])  # its hash
    _tamper(edge.database_path, *steps)
    _publish(central, edge)
    assert _chain_alone(edge.database_path) == []
    found = _central_finds(central, edge)
    assert any(f"row {rows[middle]['seq']}" in p and "rewritten" in p for p in found), found
    assert "differs from central's witness" in _edge_finds(central, edge, key_id, capsys)
    assert "audit-diverged" in _nodes_row(central)


def test_dropped_triggers_are_found(central, anchored, capsys):
    edge, key_id = anchored
    _tamper(edge.database_path, restore=False)
    _publish(central, edge)
    found = _central_finds(central, edge)
    assert any("trigger audit_log_no_delete is missing" in p for p in found), found
    assert "trigger audit_log_no_update is missing" in _edge_finds(central, edge, key_id, capsys)
    assert "audit-diverged" in _nodes_row(central)


def test_a_changed_trigger_is_found(anchored):
    edge, _ = anchored
    conn = sqlite3.connect(edge.database_path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log WHEN 0 BEGIN "
        "SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    conn.close()
    conn = connect_sync(edge.database_path)
    problems = audit_verify.verify_log(conn)
    conn.close()
    assert problems == ["trigger audit_log_no_delete is not the one the migrations created"]


def test_a_forged_row_appended_with_a_valid_chain_is_found(central, anchored, capsys):
    edge, key_id = anchored
    rows = _rows(edge.database_path)
    forged = _forged(edge.keys_dir, rows[-1]["hash"], rows[-1], seq=rows[-1]["seq"] + 1)
    unsigned = (*forged[: len(FIELDS) + 2], None, None)  # the forger has no key file
    conn = sqlite3.connect(edge.database_path, isolation_level=None)
    conn.execute(*_insert(unsigned))
    conn.close()
    _publish(central, edge)  # central's witness sees a longer chain extending its last head
    seq = rows[-1]["seq"] + 1
    found = _central_finds(central, edge)
    assert f"row {seq} witnessed by central is not signed, after signed rows" in found[0], found
    assert f"row {seq} (" in _edge_finds(central, edge, key_id, capsys)
    assert "audit-diverged" in _nodes_row(central)
    assert _central_finds(central, edge) == found  # checked once, and still reported


def test_a_witness_row_signed_by_a_key_the_node_does_not_have_is_found(central, anchored):
    edge, _ = anchored
    rows = _rows(edge.database_path)
    forged = _forged(edge.keys_dir, rows[-1]["hash"], rows[-1], seq=rows[-1]["seq"] + 1)
    other = (*forged[: len(FIELDS) + 2], "01JNOSUCHKEYNOSUCHKEYNOSUC", forged[-1])
    conn = sqlite3.connect(edge.database_path, isolation_level=None)
    conn.execute(*_insert(other))
    conn.close()
    _publish(central, edge)
    found = _central_finds(central, edge)
    assert any("names a signing key this node does not have" in p for p in found), found
    assert "audit-diverged" in _nodes_row(central)


def _append_signed_as(path: Path, key_id: str, private_pem: bytes) -> int:
    """A row chained to the end and signed as `key_id` with `private_pem`, by a direct write."""
    rows = _rows(path)
    last = rows[-1]
    fields = {name: last[name] for name in FIELDS} | {"seq": last["seq"] + 1, "result": "forged"}
    digest = row_hash(last["hash"], fields)
    raw = ALGORITHMS["ed25519"].sign(private_pem, signing.message(key_id, digest))
    signature = base64.b64encode(raw).decode("ascii")
    values = (*(fields[n] for n in FIELDS), last["hash"], digest, key_id, signature)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(*_insert(values))
    conn.close()
    return last["seq"] + 1


def test_a_key_the_forger_published_in_node_identity_is_found(central, anchored):
    edge, _ = anchored
    private_pem, public_text = ALGORITHMS["ed25519"].generate()
    key_id = "01JFORGERFORGERFORGERFORGE"
    conn = sqlite3.connect(edge.database_path, isolation_level=None)
    conn.execute(
        "INSERT INTO node_identity (key_id, algorithm, public_key, created_at) "
        "VALUES (?, 'ed25519', ?, '2026-11-01T00:00:00+00:00')",
        (key_id, public_text),
    )
    conn.close()
    seq = _append_signed_as(edge.database_path, key_id, private_pem)
    _publish(central, edge)  # central ingests the forger's key and the row
    assert central_rows(
        central, "SELECT 1 FROM edge_node_identity WHERE node_id = ? AND key_id = ?", NODE, key_id
    )
    found = _central_finds(central, edge)
    assert any(
        p.startswith(f"row {seq} witnessed by central is signed by key {key_id}, which no")
        for p in found
    ), found
    assert "audit-diverged" in _nodes_row(central)


def test_a_public_key_swapped_on_the_node_is_not_taken_by_central(central, anchored):
    edge, key_id = anchored
    private_pem, public_text = ALGORITHMS["ed25519"].generate()
    conn = sqlite3.connect(edge.database_path, isolation_level=None)
    conn.execute("UPDATE node_identity SET public_key = ? WHERE key_id = ?", (public_text, key_id))
    conn.close()
    seq = _append_signed_as(edge.database_path, key_id, private_pem)
    _publish(central, edge)
    found = _central_finds(central, edge)
    assert f"row {seq} witnessed by central has a signature its key did not make" in found[0]
    db = central.app.state.node.db  # what `central audit verify --node` finds in the mirror
    whole = central.portal.call(anchor.compare, db, NODE, edge.database_path, True)
    assert any(p.startswith(f"row {seq} (") and "did not make" in p for p in whole), whole


async def _append_one(edge: Settings) -> None:
    db = Database(edge.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            await append(
                conn,
                edge.keys_dir,
                actor_id=None,
                role="township_staff",
                jurisdiction_code="450521100000",
                action="read_personal_data",
                object_type="application",
                object_id="01JAPPAPPAPPAPPAPPAPPAPPAP",
                result="ok",
                at=stamp(START),
            )
    finally:
        await db.close()


def test_a_rotation_at_the_node_keeps_central_green(central, anchored, capsys):
    edge, key_id = anchored
    capsys.readouterr()
    assert rotation.main(edge.database_path, edge.keys_dir) == 0
    _publish(central, edge)
    assert _central_finds(central, edge) == []  # the rotation row, signed by the old key
    asyncio.run(_append_one(edge))  # the app's next row, signed with the new key
    _publish(central, edge)
    new = _rows(edge.database_path)[-1]["key_id"]
    assert new != key_id and new == capsys.readouterr().out.split(" -> ")[1].split(",")[0]
    assert _central_finds(central, edge) == []  # checked in a later pass: trusted all the same
    assert "audit-diverged" not in _nodes_row(central)


def test_many_forged_rows_make_a_few_lines_on_nodes(central, anchored):
    edge, _ = anchored
    rows = _rows(edge.database_path)
    prev, last, steps = rows[-1]["hash"], rows[-1], []
    for n in range(1, 6):
        forged = _forged(edge.keys_dir, prev, last, seq=last["seq"] + n)
        steps.append(_insert((*forged[: len(FIELDS) + 2], None, None)))
        prev = str(forged[len(FIELDS) + 1])
    _tamper(edge.database_path, *steps)
    _publish(central, edge)
    found = _central_finds(central, edge)
    assert len(found) == 4 and found[3] == "and 2 more rows whose signatures do not hold", found
    assert f"row {last['seq'] + 1} witnessed by central is not signed" in found[0]
