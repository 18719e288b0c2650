"""Application and Step records built from the rows the real intake writes (edge), and from
central's ingested copies of them (same columns plus node_id)."""

from __future__ import annotations

import asyncio
import json
import re

from central.officer import queries as officer_queries
from central.officer.records import NodeApplication
from edge.applications import queries
from edge.applications.records import Application, Step
from edge.catalog.item import CatalogItem
from edge.kernel.auth.account import Account
from edge.kernel.db import Database
from tests.central_support import central_rows, yb002
from tests.conftest import AGENT_QIANJIANG, login
from tests.intake_support import ITEMS, rows, submit

RECEIPT = re.compile(r"/agent/applications/([0-9A-Z]{26})/receipt")
NOT_IN_RECORDS = frozenset({"rev"})  # the replication counter


async def _read(path, application_id: str) -> tuple:
    db = Database(path)
    await db.open()
    try:
        async with db.read() as conn:
            app = await queries.application(conn, application_id)
            assert app is not None
            steps = await queries.steps(conn, application_id)
            return (
                app,
                await queries.by_tracking_code(conn, app.tracking_code),
                steps,
                await queries.step(conn, steps[0].id),
                await queries.application(conn, "0" * 26),
                await queries.step(conn, "0" * 26),
            )
    finally:
        await db.close()


def _columns_match(record: object, row, skip: frozenset[str] = NOT_IN_RECORDS) -> None:
    for column in set(row.keys()) - skip:
        expected = json.loads(row[column]) if column == "form_data" else row[column]
        assert getattr(record, column) == expected, column


def test_records_build_from_the_rows_an_intake_writes(client, settings):
    login(client, AGENT_QIANJIANG)
    response = submit(client, "MZ-002")
    application_id = RECEIPT.search(response.headers["location"]).group(1)
    app, by_code, steps, first, missing_app, missing_step = asyncio.run(
        _read(settings.database_path, application_id)
    )
    assert isinstance(app, Application) and by_code == app
    [row] = rows(settings, "SELECT * FROM applications WHERE id = ?", application_id)
    _columns_match(app, row)
    assert app.form_data["household_size"] == json.loads(row["form_data"])["household_size"]
    assert app.item == CatalogItem.from_dict(ITEMS["MZ-002"])
    assert (app.item_name_zh, app.village_zh) == (ITEMS["MZ-002"]["name"]["zh"], "乾江村")
    step_rows = rows(
        settings,
        "SELECT s.*, d.name_zh AS department_zh, d.name_en AS department_en FROM steps s "
        "JOIN departments d ON d.code = s.department_code WHERE s.application_id = ? "
        "ORDER BY s.stage",
        application_id,
    )
    assert len(steps) == len(step_rows) == 2 and all(isinstance(s, Step) for s in steps)
    for step, step_row in zip(steps, step_rows, strict=True):
        _columns_match(step, step_row)
    assert [(s.level, s.department_code, s.status) for s in steps] == [
        ("township", "township", "active"),
        ("county", "civil", "waiting"),
    ]
    assert steps[1].department_zh == "民政局"
    assert first == steps[0]
    assert missing_app is None and missing_step is None
    # a record printed by a log line or a traceback carries no personal data
    shown = repr(app)
    assert app.id in shown
    for personal in (row["applicant_id_number"], row["applicant_name"], row["applicant_phone"]):
        assert personal not in shown


async def _read_at_central(db: Database, officer: Account, node_id: str, app_id: str) -> tuple:
    async with db.read() as conn:
        return (
            await officer_queries.application(conn, officer, node_id, app_id),
            await officer_queries.steps(conn, node_id, app_id),
        )


def test_central_builds_the_same_records_from_its_ingested_copies(central):
    chosen = yb002(central)
    [officer_row] = central_rows(central, "SELECT * FROM accounts WHERE phone = '13807700100'")
    officer = Account.from_row(officer_row)
    db = central.app.state.node.db
    app, steps = central.portal.call(_read_at_central, db, officer, chosen["node_id"], chosen["id"])
    assert isinstance(app, NodeApplication)
    [row] = central_rows(
        central,
        "SELECT * FROM edge_applications WHERE node_id = ? AND id = ?",
        chosen["node_id"],
        chosen["id"],
    )
    _columns_match(app, row)
    assert (app.node_id, app.township_zh) == ("lianzhou", "廉州镇")
    assert app.item.code == "YB-002" and app.item == CatalogItem.from_dict(ITEMS["YB-002"])
    step_rows = central_rows(
        central,
        "SELECT * FROM edge_steps WHERE node_id = ? AND application_id = ? ORDER BY stage",
        chosen["node_id"],
        chosen["id"],
    )
    assert sorted(s.id for s in steps) == sorted(r["id"] for r in step_rows)
    for step_row in step_rows:
        [step] = [s for s in steps if s.id == step_row["id"]]
        _columns_match(step, step_row, NOT_IN_RECORDS | {"node_id"})  # steps of one node
    assert chosen["step_id"] in {s.id for s in steps if s.department_code == "civil"}
