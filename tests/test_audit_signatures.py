"""Audit rows signed with the node's identity key (issue 12, finding 4): a row appended behind
the app's back with a correct hash chain is named by `audit verify` at the edge and at central;
rows written before signing began are counted as legacy, not failed; keys may rotate."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from central.__main__ import main as central_main
from edge.audit import rotation
from edge.audit import verify as audit_verify
from edge.audit.log import FIELDS, GENESIS, append, row_hash
from edge.audit.signing import message
from edge.kernel.db import Database, connect_sync
from edge.kernel.key_files import key_path
from edge.kernel.signatures import ALGORITHMS
from edge.schema import migrate_database
from edge.settings import Settings
from tests.central_support import central_rows
from tests.conftest import ADMIN, login
from tests.test_central_officer import CIVIL_HEPU
from tests.test_migrations import database_at

COLUMNS = [*FIELDS, "prev_hash", "hash", "key_id", "signature"]
BEFORE_SIGNING = 14  # edge migrations before 0015 signed the rows


def _last(path: Path) -> sqlite3.Row:
    conn = connect_sync(path)
    try:
        return conn.execute("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()


def _signer(key_id: str, private_pem: bytes) -> Callable[[str], tuple[str, str]]:
    """Signs a row's hash as `key_id` with `private_pem` (the forger's own key)."""

    def sign(digest: str) -> tuple[str, str]:
        raw = ALGORITHMS["ed25519"].sign(private_pem, message(key_id, digest))
        return key_id, base64.b64encode(raw).decode("ascii")

    return sign


def _forge(path: Path, signer: Callable[[str], tuple[str, str]] | None = None) -> int:
    """Append a row with a correctly computed chain by a direct write to the file, as someone
    with write access to the database (not to the keys folder) would; its seq."""
    last = _last(path)
    seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS)
    fields = {name: None for name in FIELDS} | {
        "seq": seq + 1,
        "at": "2026-11-30T23:59:00+00:00",
        "role": "township_staff",
        "jurisdiction_code": "450521100000",
        "action": "login",
        "object_type": "account",
        "object_id": "",
        "result": "ok",
    }
    digest = row_hash(prev, fields)
    key_id, signature = signer(digest) if signer else (None, None)
    values = [*(fields[n] for n in FIELDS), prev, digest, key_id, signature]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        marks = ", ".join("?" * len(COLUMNS))
        conn.execute(f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({marks})", values)
    finally:
        conn.close()
    return seq + 1


def _verify(path: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    status = audit_verify.main(path)
    return status, capsys.readouterr().out


async def _append(path: Path, keys_dir: Path, count: int) -> None:
    db = Database(path)
    await db.open()
    try:
        await migrate_database(db)
        for n in range(count):
            async with db.write() as conn:
                await append(
                    conn,
                    keys_dir,
                    actor_id=None,
                    role="agent",
                    jurisdiction_code="450521100201",
                    action="submit",
                    object_type="application",
                    object_id=f"01JAPP{n:020d}",
                    result="ok",
                    at=f"2026-11-24T09:0{n}:00+00:00",
                )
    finally:
        await db.close()


def test_a_legitimate_run_verifies_clean_and_every_row_is_signed(client, capsys):
    assert login(client, ADMIN).status_code == 303
    settings: Settings = client.app.state.node.settings
    path = settings.database_path
    conn = connect_sync(path)
    rows = conn.execute("SELECT action, key_id, signature FROM audit_log").fetchall()
    conn.close()
    assert "login" in {row["action"] for row in rows}
    assert all(row["key_id"] and row["signature"] for row in rows)
    status, out = _verify(path, capsys)
    assert status == 0 and out.startswith("audit log OK"), out
    assert "legacy" not in out


def test_a_forged_row_with_a_valid_chain_is_named(client, capsys):
    assert login(client, ADMIN).status_code == 303
    path = client.app.state.node.settings.database_path
    seq = _forge(path)
    status, out = _verify(path, capsys)
    assert status == 1
    assert f"row {seq} (2026-11-30T23:59:00+00:00 login account) is not signed" in out


def test_a_forged_row_signed_with_another_key_is_named(client, capsys):
    assert login(client, ADMIN).status_code == 303
    path = client.app.state.node.settings.database_path
    key_id = _last(path)["key_id"]
    private_pem, _ = ALGORITHMS["ed25519"].generate()  # the forger's own key, same key id
    seq = _forge(path, _signer(key_id, private_pem))
    status, out = _verify(path, capsys)
    assert status == 1 and f"row {seq} (" in out
    assert "has a signature its key did not make" in out
    seq = _forge(path, _signer("01JNOSUCHKEYNOSUCHKEYNOSUC", private_pem))
    status, out = _verify(path, capsys)
    assert f"row {seq} (" in out and "names a signing key this node does not have" in out


def test_a_signature_cannot_be_changed_in_place(client):
    assert login(client, ADMIN).status_code == 303
    conn = sqlite3.connect(client.app.state.node.settings.database_path)
    try:
        conn.execute("UPDATE audit_log SET signature = 'x' WHERE seq = 1")
    except sqlite3.IntegrityError as exc:
        assert "append-only" in str(exc)
    else:
        raise AssertionError("the signature was changed")
    finally:
        conn.close()


def test_rows_before_signing_are_legacy_and_rows_after_must_be_signed(tmp_path, capsys):
    path = database_at(tmp_path, BEFORE_SIGNING)
    conn = sqlite3.connect(path, isolation_level=None)
    prev = GENESIS
    for seq in (1, 2):  # what the app wrote before 0015: no signature columns yet
        fields = {name: None for name in FIELDS} | {
            "seq": seq,
            "at": f"2026-11-20T09:0{seq}:00+00:00",
            "role": "agent",
            "jurisdiction_code": "450521100201",
            "action": "submit",
            "object_type": "application",
            "object_id": f"01JOLD{seq:020d}",
            "result": "ok",
        }
        digest = row_hash(prev, fields)
        conn.execute(
            f"INSERT INTO audit_log ({', '.join([*FIELDS, 'prev_hash', 'hash'])}) "
            f"VALUES ({', '.join('?' * (len(FIELDS) + 2))})",
            [*(fields[n] for n in FIELDS), prev, digest],
        )
        prev = digest
    conn.close()
    asyncio.run(_append(path, tmp_path / "keys", 2))
    status, out = _verify(path, capsys)
    assert status == 0, out
    assert out == "audit log OK: 4 rows (2 unsigned legacy rows from before signing began)\n"
    seq = _forge(path)
    status, out = _verify(path, capsys)
    assert status == 1 and f"row {seq} (" in out and "not signed, after signed rows" in out


def _key_ids(path: Path) -> list[str]:
    conn = connect_sync(path)
    try:
        return [row[0] for row in conn.execute("SELECT key_id FROM audit_log ORDER BY seq")]
    finally:
        conn.close()


def test_a_rotated_key_is_introduced_by_the_old_one_and_verifies(tmp_path, capsys):
    path, keys = tmp_path / "edge.db", tmp_path / "keys"
    asyncio.run(_append(path, keys, 2))
    first = _last(path)["key_id"]
    assert rotation.main(path, keys) == 0
    out = capsys.readouterr().out
    new = out.split(" -> ")[1].split(",")[0]
    assert out.startswith(f"identity key rotated: {first} -> {new}")
    key_path(keys, first).rename(tmp_path / "archived.pem")  # the old key file is archived
    asyncio.run(_append(path, keys, 2))
    assert _key_ids(path) == [first, first, first, new, new]  # row 3 introduces the new key
    row = _last(path)
    assert row["key_id"] == new
    status, out = _verify(path, capsys)
    assert (status, out) == (0, "audit log OK: 5 rows\n")


def test_a_key_added_behind_the_apps_back_signs_nothing_that_verifies(tmp_path, capsys):
    path, keys = tmp_path / "edge.db", tmp_path / "keys"
    asyncio.run(_append(path, keys, 2))
    private_pem, public_text = ALGORITHMS["ed25519"].generate()  # the forger's own key pair,
    key_id = "01JFORGERFORGERFORGERFORGE"  # published in node_identity by a direct write
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "INSERT INTO node_identity (key_id, algorithm, public_key, created_at) "
        "VALUES (?, 'ed25519', ?, '2026-11-01T00:00:00+00:00')",
        (key_id, public_text),
    )
    conn.close()
    seq = _forge(path, _signer(key_id, private_pem))
    status, out = _verify(path, capsys)
    assert status == 1 and f"row {seq} (" in out
    assert f"is signed by key {key_id}, which no earlier row introduced" in out


def test_a_key_made_after_the_key_file_was_lost_is_reported(tmp_path, capsys):
    path, keys = tmp_path / "edge.db", tmp_path / "keys"
    asyncio.run(_append(path, keys, 2))
    first = _last(path)["key_id"]
    key_path(keys, first).unlink()  # lost: nothing can introduce the next key
    asyncio.run(_append(path, keys, 1))
    assert _key_ids(path)[2] != first
    status, out = _verify(path, capsys)
    assert status == 1 and "row 3 (" in out and "made after the node's key file was lost" in out


def test_central_audit_verify_names_a_forged_row_in_its_own_log(
    central: TestClient, monkeypatch, capsys
):
    login(central, CIVIL_HEPU)
    settings = central.app.state.node.settings
    rows = central_rows(central, "SELECT key_id, signature FROM audit_log")
    assert rows and all(row["key_id"] and row["signature"] for row in rows)
    keys = central_rows(central, "SELECT key_id FROM node_identity")
    assert [row["key_id"] for row in keys] == [rows[0]["key_id"]]  # central's own key
    assert key_path(settings.keys_dir, rows[0]["key_id"]).is_file()
    monkeypatch.setenv("CUNBAN_CENTRAL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CUNBAN_CENTRAL_NODES", settings.nodes)
    capsys.readouterr()
    central_main(["audit", "verify"])
    assert "central audit log OK" in capsys.readouterr().out
    seq = _forge(settings.database_path)
    assert central_main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "central audit log has 1 problem(s)" in out
    assert f"row {seq} (2026-11-30T23:59:00+00:00 login account) is not signed" in out
