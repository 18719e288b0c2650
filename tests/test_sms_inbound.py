"""SMS residents send to the node: a provider's signed delivery or the demo's admin form; each
message id is taken once, the first handler that claims it answers, an unclaimed one gets help."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
from starlette.testclient import TestClient

from edge.app import create_app
from edge.kernel.db import Database
from edge.settings import Settings
from edge.sms import inbound
from tests.conftest import ADMIN, STAFF, MovableClock, csrf_of, login, prepare
from tests.sms_inbound import deliver, signed

RESIDENT = "13912345678"


def rows(settings: Settings, sql: str, *params: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(settings.database_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def replies(settings: Settings) -> list[sqlite3.Row]:
    return rows(settings, "SELECT phone, body FROM sms_outbox WHERE template = 'reply'")


def test_an_unclaimed_sms_is_kept_once_and_answered_once(client: TestClient, settings: Settings):
    first = deliver(client, RESIDENT, "  你好 ", id="gw-1")  # a greeting: nobody's to follow up
    again = deliver(client, RESIDENT, "你好", id="gw-1")

    assert first.status_code == 200 and first.json() == {"id": "gw-1", "repeated": False}
    assert again.status_code == 200 and again.json() == {"id": "gw-1", "repeated": True}
    kept = rows(settings, "SELECT phone, text, claimed_by FROM sms_inbound")
    assert [tuple(row) for row in kept] == [(RESIDENT, "你好", "")]
    sent = replies(settings)
    assert len(sent) == 1 and sent[0]["phone"] == RESIDENT
    assert sent[0]["body"].startswith("【村办】") and len(sent[0]["body"]) <= 70


def test_a_delivery_without_the_right_signature_is_refused_and_changes_nothing(
    client: TestClient, settings: Settings
):
    body, headers = signed(RESIDENT, "1", "gw-2", "not-the-secret")
    refused = client.post("/sms/inbound", content=body, headers=headers)
    unsigned = client.post("/sms/inbound", content=body, headers={"Content-Type": "text/json"})

    assert refused.status_code == 401 and unsigned.status_code == 401
    assert rows(settings, "SELECT * FROM sms_inbound") == []
    assert replies(settings) == []


def test_a_malformed_delivery_says_what_is_wrong_without_the_number(client: TestClient):
    answer = deliver(client, "1391234567", "1")
    empty = deliver(client, RESIDENT, "   ")
    too_long = deliver(client, RESIDENT, "长" * 501)

    assert answer.status_code == 400 and "11-digit" in answer.json()["error"]
    assert "1391234567" not in answer.text
    assert empty.status_code == 400 and too_long.status_code == 400


def test_the_webhook_is_off_without_a_secret(tmp_path: Path):
    settings = Settings(node_id="lianzhou", township_code="450521100000", data_dir=tmp_path)
    asyncio.run(prepare(settings))
    with TestClient(create_app(settings, MovableClock()), base_url="https://testserver") as client:
        assert deliver(client, RESIDENT, "1").status_code == 404


def test_replies_to_one_phone_stop_after_five_a_day(client: TestClient, settings: Settings):
    for n in range(7):
        assert deliver(client, RESIDENT, f"自动回复 {n}").status_code == 200

    assert len(rows(settings, "SELECT * FROM sms_inbound")) == 7
    assert len(replies(settings)) == inbound.REPLIES_PER_DAY


def test_the_demo_admin_types_an_sms_and_the_node_takes_it(client: TestClient, settings: Settings):
    login(client, ADMIN)
    page = client.get("/admin/sms")
    assert "模拟收到短信" in page.text
    text = "路灯坏了，电话13912345678"
    form = {"csrf_token": csrf_of(page.text), "phone": RESIDENT, "text": text}
    message_id = page.text.split('name="message_id" value="')[1].split('"')[0]
    form["message_id"] = message_id

    taken = client.post("/admin/sms/inbound", data=form, follow_redirects=False)
    resent = client.post("/admin/sms/inbound", data=form, follow_redirects=False)
    bad = client.post("/admin/sms/inbound", data={**form, "phone": "12", "message_id": "x"})

    assert taken.status_code == 303 and resent.status_code == 303
    assert len(rows(settings, "SELECT * FROM sms_inbound WHERE id = ?", message_id)) == 1
    assert len(replies(settings)) == 1
    shown = client.get("/admin/sms").text
    assert "139****5678" in shown and "路灯坏了" in shown
    assert 'href="/admin/sms">短信记录</a>' in shown  # the admin's menu leads here
    # the clock says 09:00 UTC: people read Beijing time, 17:00, on the SMS and its reply
    assert shown.count("2026/11/23 17:00") == 2 and "09:00" not in shown
    assert RESIDENT not in shown
    assert bad.status_code == 400 and "11位手机号码" in bad.text


def test_the_simulator_is_only_for_admins(client: TestClient, settings: Settings):
    login(client, STAFF)
    page = client.get("/staff/")
    form = {"csrf_token": csrf_of(page.text), "phone": RESIDENT, "text": "1", "message_id": "g9"}

    assert client.post("/admin/sms/inbound", data=form).status_code == 403
    assert rows(settings, "SELECT * FROM sms_inbound") == []


class Claims:
    """A handler that claims messages starting with its word, recording what it saw."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.seen: list[str] = []

    async def __call__(
        self, db: aiosqlite.Connection, sms: inbound.InboundSms, settings: Settings
    ) -> str | None:
        self.seen.append(sms.text)
        if not sms.text.startswith(self.word):
            return None
        await db.execute("INSERT INTO sms_inbound_claims VALUES (?)", (sms.id,))
        return f"【村办】{self.word}已收到"


def test_the_first_handler_that_claims_answers_in_the_same_transaction(
    settings: Settings, tmp_path: Path
):
    now = datetime(2026, 12, 3, 9, tzinfo=UTC)

    async def run() -> list[inbound.Received]:
        await prepare(settings)
        database = Database(settings.database_path)
        await database.open()
        try:
            async with database.write() as db:
                await db.execute("CREATE TABLE sms_inbound_claims (id TEXT)")
            handlers = (Claims("续期"), Claims("1"))
            taken = []
            for n, text in enumerate(["1", "续期", "其他"]):
                sms = inbound.message(f"m{n}", RESIDENT, text, now)
                taken.append(await inbound.receive(database, sms, handlers, now, settings))
            return taken
        finally:
            await database.close()

    taken = asyncio.run(run())
    assert [t.claimed_by != "" for t in taken] == [True, True, False]
    assert [r["body"] for r in replies(settings)][:2] == ["【村办】1已收到", "【村办】续期已收到"]
    assert len(rows(settings, "SELECT * FROM sms_inbound_claims")) == 2
