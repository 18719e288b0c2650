"""Seals: sign, check, tampering found, lost private key replaced, public page and key list."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from ulid import ULID

from edge.accounts.roles import HOME
from edge.app import node_routes
from edge.kernel import errors
from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import system_clock
from edge.kernel.db import Database
from edge.kernel.key_files import key_path
from edge.kernel.static_assets import STATIC_DIR, StaticAssets
from edge.kernel.templating import build_environment
from edge.node import EdgeNode
from edge.seals.signing import canonical, seal, verify
from edge.settings import Settings
from tests.conftest import AGENT_QIANJIANG, QIANJIANG, prepare

NOW = "2026-11-23T09:00:00+00:00"
LATER = "2026-12-01T09:00:00+00:00"
OFFICE = "450521000000:civil"
PAYLOAD = {
    "tracking_code": "LZ20261123001",
    "item_code": "MZ-001",
    "applicant_name": "潘*兰",
    "applicant_id_number": "4505**********1234",
    "decision": "准予",
    "decided_on": "2026-11-23",
}


async def _application(db: Database) -> str:
    application_id = str(ULID())
    async with db.write() as conn:
        agent = await (
            await conn.execute("SELECT id FROM accounts WHERE phone = ?", (AGENT_QIANJIANG,))
        ).fetchone()
        await conn.execute(
            """
            INSERT INTO applications (id, tracking_code, item_code, village_code, agent_id,
                applicant_id_number, applicant_name, applicant_phone, form_data, status,
                submitted_at, submitted_on, promised_due_on)
            VALUES (?, 'LZ20261123001', 'MZ-001', ?, ?, '450521198001011234', '潘桂兰',
                '13800000000', '{}', 'approved', ?, '2026-11-23', '2026-12-04')
            """,
            (application_id, QIANJIANG, agent["id"], NOW),
        )
    return application_id


async def _seal(db: Database, keys_dir: Path, application_id: str, now: str = NOW) -> str:
    async with db.write() as conn:
        return await seal(
            conn,
            keys_dir,
            office=OFFICE,
            kind="decision",
            application_id=application_id,
            payload=PAYLOAD,
            now=now,
        )


async def _sealed(settings: Settings) -> str:
    await prepare(settings)
    db = Database(settings.database_path)
    await db.open()
    try:
        return await _seal(db, settings.keys_dir, await _application(db))
    finally:
        await db.close()


async def _check(settings: Settings, seal_id: str):
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.read() as conn:
            return await verify(conn, seal_id)
    finally:
        await db.close()


def _tamper(settings: Settings, statement: str, *params: str) -> None:
    conn = sqlite3.connect(settings.database_path, isolation_level=None)
    try:
        conn.execute(statement, params)
    finally:
        conn.close()


@pytest.fixture
def sealed(settings: Settings) -> str:
    return asyncio.run(_sealed(settings))


def test_canonical_is_stable_and_keeps_chinese():
    assert canonical({"b": 1, "a": "准予"}) == '{"a":"准予","b":1}'.encode()


def test_a_fresh_seal_is_valid(settings, sealed):
    result = asyncio.run(_check(settings, sealed))
    assert result is not None and result.valid
    assert result.kind == "decision" and result.office == OFFICE
    assert result.algorithm == "ed25519" and result.created_at == NOW
    assert result.payload == PAYLOAD
    pem = key_path(settings.keys_dir, result.key_id)
    assert pem.stat().st_mode & 0o777 == 0o600
    assert asyncio.run(_check(settings, str(ULID()))) is None


def test_altered_payload_is_not_valid(settings, sealed):
    _tamper(
        settings,
        "UPDATE seals SET payload = json_set(payload, '$.decision', '不予') WHERE id = ?",
        sealed,
    )
    result = asyncio.run(_check(settings, sealed))
    assert result is not None and not result.valid
    assert result.payload["decision"] == "不予"


def test_altered_date_is_not_valid(settings, sealed):
    _tamper(settings, "UPDATE seals SET created_at = ? WHERE id = ?", LATER, sealed)
    assert not asyncio.run(_check(settings, sealed)).valid


def test_altered_signature_is_not_valid(settings, sealed):
    conn = sqlite3.connect(settings.database_path)
    signature = conn.execute("SELECT signature FROM seals WHERE id = ?", (sealed,)).fetchone()[0]
    conn.close()
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    _tamper(settings, "UPDATE seals SET signature = ? WHERE id = ?", flipped, sealed)
    assert not asyncio.run(_check(settings, sealed)).valid
    _tamper(settings, "UPDATE seals SET signature = 'not base64!' WHERE id = ?", sealed)
    assert not asyncio.run(_check(settings, sealed)).valid


def test_lost_private_key_is_replaced_and_old_seals_stay_valid(settings, sealed):
    async def scenario() -> tuple[str, str, str, str]:
        db = Database(settings.database_path)
        await db.open()
        try:
            async with db.read() as conn:
                first = await verify(conn, sealed)
            application = (
                await (await db.writer.execute("SELECT id FROM applications")).fetchone()
            )["id"]
            again = await _seal(db, settings.keys_dir, application)
            key_path(settings.keys_dir, first.key_id).unlink()  # restored from a backup
            second = await _seal(db, settings.keys_dir, application, LATER)
            async with db.read() as conn:
                results = [await verify(conn, seal_id) for seal_id in (sealed, again, second)]
        finally:
            await db.close()
        assert all(result.valid for result in results)
        return first.key_id, results[1].key_id, results[2].key_id, second

    first_key, reused_key, new_key, _second = asyncio.run(scenario())
    assert reused_key == first_key
    assert new_key != first_key
    assert key_path(settings.keys_dir, new_key).is_file()


@pytest.fixture
def seal_client(settings: Settings, sealed: str) -> Iterator[TestClient]:
    db = Database(settings.database_path)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    app = Starlette(
        routes=node_routes(StaticAssets(STATIC_DIR)),  # the pages' layout links to the others
        exception_handlers=errors.handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.node = EdgeNode(
        settings=settings,
        clock=system_clock,
        db=db,
        templates=build_environment(StaticAssets(STATIC_DIR), HOME),
        homes=HOME,
        record_login=None,
        blobs=BlobStore(settings.blobs_dir),
    )
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def test_verify_page_says_genuine(seal_client, sealed):
    page = seal_client.get(f"/verify/{sealed}")
    assert page.status_code == 200
    assert "签章有效" in page.text and "签章无效" not in page.text
    assert "审批决定" in page.text and OFFICE in page.text
    assert "2026年11月23日" in page.text
    assert "申请人" in page.text and "潘*兰" in page.text
    assert "潘桂兰" not in page.text and "450521198001011234" not in page.text


def test_verify_page_says_not_valid_after_tampering(settings, seal_client, sealed):
    _tamper(
        settings,
        "UPDATE seals SET payload = json_set(payload, '$.extra', 'x') WHERE id = ?",
        sealed,
    )
    page = seal_client.get(f"/verify/{sealed}")
    assert page.status_code == 200
    assert "签章无效" in page.text and "签章有效" not in page.text
    assert "extra" in page.text  # unknown keys shown as they are


def test_unknown_seal_is_404(seal_client):
    for seal_id in (str(ULID()), "nonsense"):
        page = seal_client.get(f"/verify/{seal_id}")
        assert page.status_code == 404
        assert "没有找到这个签章" in page.text


def test_key_list_is_public_json(seal_client, sealed):
    keys = seal_client.get("/seals/keys").json()
    assert len(keys) == 1
    assert keys[0]["office"] == OFFICE and keys[0]["algorithm"] == "ed25519"
    assert keys[0]["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert set(keys[0]) == {"id", "office", "algorithm", "public_key", "created_at"}
    assert "PRIVATE" not in seal_client.get("/seals/keys").text
