"""SMS: one segment per message in both languages, a durable outbox, a signed HTTP gateway."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from edge.accounts.roles import HOME
from edge.app import node_routes
from edge.catalog.loader import read_catalog
from edge.kernel import claimers
from edge.kernel import outbox as kernel_outbox
from edge.kernel.auth.account import Account
from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import system_clock
from edge.kernel.db import Database, connect_sync
from edge.kernel.i18n import LOCALES
from edge.kernel.static_assets import STATIC_DIR, StaticAssets
from edge.kernel.templating import build_environment
from edge.node import EdgeNode
from edge.schema import migrate_database
from edge.settings import Settings
from edge.sms import outbox, templates
from edge.sms.gateways import GatewayError, HttpGateway, LogGateway, gateway_from
from edge.sms.outbox import SMS, drain, reap
from edge.worker import make_huey
from tests.conftest import ADMIN, AGENT_QIANJIANG, LIANZHOU, login
from tests.sms_provider import Provider, running_provider

PHONE = "13812345678"
MASKED = "138****5678"
CODE = "ABCD-EFGH-JKM"
DATE = "2026-12-31"
SECRET = "test-secret"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider(SECRET) as server:
        yield server


# --- database helpers ------------------------------------------------------------------------


async def _queue(path: Path, *messages: dict) -> list[str | None]:
    db = Database(path)
    await db.open()
    try:
        await migrate_database(db)
        ids = []
        for message in messages:
            async with db.write() as conn:
                ids.append(await outbox.enqueue(conn, **message))
        return ids
    finally:
        await db.close()


def accepted(**extra: object) -> dict:
    params = {"item": "最低生活保障申请", "code": CODE, "date": DATE}
    return {
        "phone": PHONE,
        "template": "accepted",
        "params": params,
        "locale": "zh_Hans",
        "now": T0,
    } | extra


def queue(path: Path, *messages: dict) -> list[str | None]:
    return asyncio.run(_queue(path, *messages))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "edge.db"


def row_of(conn, message_id: str):
    return conn.execute("SELECT * FROM sms_outbox WHERE id = ?", (message_id,)).fetchone()


# --- templates -------------------------------------------------------------------------------


def _cases() -> list[tuple[str, dict[str, str]]]:
    cases = [(name, {}) for name in templates.TEMPLATES if name != "deadline"]
    return cases + [("deadline", {"card": card}) for card in templates.CARDS]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("template", "extra"), _cases())
def test_every_sms_fits_one_segment_with_the_longest_names(template, extra, locale):
    language = "en" if locale == "en" else "zh"
    names = [item["name"][language] for item in read_catalog().items]
    for name in names:
        params = {"item": name, "code": CODE, "date": DATE, **extra}
        body = templates.render(template, params, locale)
        assert len(body) <= templates.MAX_LENGTH, body
        assert body.startswith("【村办】")
        assert CODE in body
        assert name in body or "…" in body
        if template in ("accepted", "deadline"):
            assert DATE in body


def test_english_sms_are_english():
    params = {"item": "Dibao", "code": CODE, "date": DATE, "card": "red"}
    for template in templates.TEMPLATES:
        body = templates.render(template, params, "en")
        assert not any("\u4e00" <= char <= "\u9fff" for char in body[4:]), body
        assert "Dibao" in body


def test_a_long_name_is_cut_never_the_code():
    params = {"item": "长" * 80, "code": CODE, "date": DATE}
    body = templates.render("accepted", params, "zh_Hans")
    assert len(body) == templates.MAX_LENGTH
    assert "长…已受理" in body
    assert CODE in body


def test_rendering_keeps_the_request_locale():
    from edge.kernel import i18n

    i18n.set_locale("zh_Hans")
    templates.render("approved", {"item": "x", "code": CODE}, "en")
    assert i18n.current_locale() == "zh_Hans"


def test_unknown_templates_and_missing_params_are_refused():
    with pytest.raises(templates.TemplateError):
        templates.render("birthday", {"item": "x", "code": CODE}, "zh_Hans")
    with pytest.raises(templates.TemplateError):
        templates.render("accepted", {"item": "x", "code": CODE}, "zh_Hans")
    with pytest.raises(templates.TemplateError):
        templates.render("deadline", {"item": "x", "code": CODE, "date": DATE}, "zh_Hans")


# --- outbox ----------------------------------------------------------------------------------


def test_enqueue_renders_and_dedupes(db_path):
    first, again, other = queue(
        db_path,
        accepted(dedupe_key="accepted:APP1"),
        accepted(dedupe_key="accepted:APP1"),
        accepted(),
    )
    assert first and other and first != other
    assert again is None
    conn = connect_sync(db_path)
    try:
        rows = conn.execute("SELECT * FROM sms_outbox ORDER BY id").fetchall()
    finally:
        conn.close()
    assert len(rows) == 2
    assert (
        rows[0]["body"] == "【村办】最低生活保障申请已受理，查询码ABCD-EFGH-JKM，2026-12-31前办结。"
    )
    assert rows[0]["state"] == "queued"
    assert rows[0]["next_attempt_at"] == "2026-11-23T09:00:00+00:00"


def test_claim_takes_only_due_rows_once(db_path):
    (due,) = queue(db_path, accepted())
    conn = connect_sync(db_path)
    try:
        assert kernel_outbox.claim(conn, SMS, T0 - timedelta(seconds=1), 10) == []
        claimed = kernel_outbox.claim(conn, SMS, T0, 10)
        assert [row["id"] for row in claimed] == [due]
        assert kernel_outbox.claim(conn, SMS, T0, 10) == []
        assert row_of(conn, due)["state"] == "sending"
        assert row_of(conn, due)["claimed_at"] == "2026-11-23T09:00:00+00:00"
    finally:
        conn.close()


def test_reaper_requeues_a_row_stuck_in_sending(db_path):
    (message_id,) = queue(db_path, accepted())
    conn = connect_sync(db_path)
    try:
        kernel_outbox.claim(conn, SMS, T0, 10)
        assert kernel_outbox.reap(conn, SMS, T0 + timedelta(minutes=4)) == 0
        assert kernel_outbox.reap(conn, SMS, T0 + timedelta(minutes=6)) == 1
        row = row_of(conn, message_id)
        assert (row["state"], row["claimed_at"]) == ("queued", None)
        assert [r["id"] for r in kernel_outbox.claim(conn, SMS, T0 + timedelta(minutes=6), 10)] == [
            message_id
        ]
    finally:
        conn.close()


def test_backoff_doubles_up_to_an_hour():
    assert [kernel_outbox.backoff(SMS, n) for n in (1, 2, 3, 5, 6, 20)] == [
        timedelta(minutes=m) for m in (2, 4, 8, 32, 60, 60)
    ]


# --- worker through the HTTP gateway ---------------------------------------------------------


def test_drain_sends_signed_messages_to_the_provider(db_path, provider):
    ids = queue(db_path, accepted(), accepted(phone="13900001111"))
    gateway = HttpGateway(provider.url, SECRET)
    conn = connect_sync(db_path)
    try:
        assert drain(conn, gateway, T0, max_attempts=6) == 2
        assert drain(conn, gateway, T0, max_attempts=6) == 0
        rows = [row_of(conn, message_id) for message_id in ids]
    finally:
        conn.close()
    assert provider.bad_signatures == 0
    assert provider.id_headers == [True, True]
    assert sorted(m["id"] for m in provider.received) == sorted(ids)
    assert {m["phone"] for m in provider.received} == {PHONE, "13900001111"}
    assert provider.received[0]["body"].startswith("【村办】最低生活保障申请已受理")
    assert all(row["state"] == "sent" and row["sent_at"] for row in rows)


def test_failures_back_off_then_succeed(db_path, provider):
    provider.plan = [500, 500]
    (message_id,) = queue(db_path, accepted())
    gateway = HttpGateway(provider.url, SECRET)
    conn = connect_sync(db_path)
    try:
        assert drain(conn, gateway, T0, max_attempts=6) == 0
        row = row_of(conn, message_id)
        assert (row["state"], row["attempts"]) == ("queued", 1)
        assert row["next_attempt_at"] == "2026-11-23T09:02:00+00:00"
        assert "500" in row["last_error"]
        assert MASKED in row["last_error"] and PHONE not in row["last_error"]

        assert drain(conn, gateway, T0 + timedelta(minutes=1), max_attempts=6) == 0
        assert row_of(conn, message_id)["attempts"] == 1  # not due yet: not even tried

        assert drain(conn, gateway, T0 + timedelta(minutes=2), max_attempts=6) == 0
        assert row_of(conn, message_id)["next_attempt_at"] == "2026-11-23T09:06:00+00:00"

        assert drain(conn, gateway, T0 + timedelta(minutes=6), max_attempts=6) == 1
        row = row_of(conn, message_id)
    finally:
        conn.close()
    assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 3, "")
    assert [m["id"] for m in provider.received] == [message_id]


def test_a_message_fails_for_good_after_max_attempts(db_path, provider):
    provider.plan = [503, 503]
    (message_id,) = queue(db_path, accepted())
    gateway = HttpGateway(provider.url, SECRET)
    conn = connect_sync(db_path)
    try:
        drain(conn, gateway, T0, max_attempts=2)
        drain(conn, gateway, T0 + timedelta(minutes=2), max_attempts=2)
        row = row_of(conn, message_id)
        assert (row["state"], row["attempts"]) == ("failed", 2)
        assert drain(conn, gateway, T0 + timedelta(days=1), max_attempts=2) == 0
    finally:
        conn.close()
    assert provider.received == []


def test_a_wrong_secret_or_no_provider_is_a_gateway_error(provider):
    with pytest.raises(GatewayError, match="401"):
        HttpGateway(provider.url, "wrong").send(PHONE, "hello", "01" * 13)
    assert provider.bad_signatures == 1
    closed = Provider(SECRET)
    url = closed.url
    closed.server_close()
    with pytest.raises(GatewayError) as caught:
        HttpGateway(url, SECRET, timeout=2).send(PHONE, "hello", "01" * 13)
    assert PHONE not in str(caught.value)


def test_log_gateway_logs_the_masked_phone_only(caplog):
    caplog.set_level(logging.INFO, logger="edge.sms.gateways")
    LogGateway().send(PHONE, "【村办】测试", "01" * 13)
    assert f"sms to {MASKED}: 【村办】测试" in caplog.messages
    assert PHONE not in caplog.text


def test_gateway_follows_settings(tmp_path, provider):
    base = {"node_id": "lianzhou", "township_code": LIANZHOU, "data_dir": tmp_path}
    assert isinstance(gateway_from(Settings(**base)), LogGateway)
    http = gateway_from(
        Settings(**base, sms_gateway="http", sms_http_url=provider.url, sms_http_secret=SECRET)
    )
    assert isinstance(http, HttpGateway)


def test_huey_send_now_drains_and_ticks_spread_over_a_minute(tmp_path, provider):
    settings = Settings(
        node_id="lianzhou",
        township_code=LIANZHOU,
        data_dir=tmp_path / "edge",
        sms_gateway="http",
        sms_http_url=provider.url,
        sms_http_secret=SECRET,
    )
    (message_id,) = queue(settings.database_path, accepted())
    huey = make_huey(settings, clock=lambda: T0)
    huey.immediate = True
    huey.send_now()
    assert [m["id"] for m in provider.received] == [message_id]
    huey.schedule_ticks()  # six ticks: one now (immediate mode runs it), five every 10 s
    for name in ("sms_tick", "blob_upload_tick"):  # blob uploads ride the same ticks
        etas = sorted(task.eta for task in huey.scheduled() if task.name == name)
        gaps = [round((later - earlier).total_seconds()) for earlier, later in pairwise(etas)]
        assert gaps == [10, 10, 10, 10], name


# --- the admin page --------------------------------------------------------------------------


class WithAccount:
    """Signs every request in as `account` (the real session middleware is not under test)."""

    def __init__(self, app, account: Account) -> None:
        self.app = app
        self.account = account

    async def __call__(self, scope, receive, send) -> None:
        scope["account"] = self.account
        await self.app(scope, receive, send)


def _page_app(db_path: Path, role: str) -> Starlette:
    db = Database(db_path)
    account = Account("01" * 13, "13807710001", "管理员", role, LIANZHOU, None, True)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    app = Starlette(
        routes=node_routes(StaticAssets(STATIC_DIR)),  # the page's layout links to the others
        middleware=[Middleware(WithAccount, account=account)],
        lifespan=lifespan,
    )
    settings = Settings(node_id="lianzhou", township_code=LIANZHOU, data_dir=db_path.parent)
    app.state.node = EdgeNode(
        settings=settings,
        clock=system_clock,
        db=db,
        templates=build_environment(StaticAssets(STATIC_DIR), HOME),
        homes=HOME,
        record_login=None,
        blobs=BlobStore(
            Settings(node_id="lianzhou", township_code=LIANZHOU, data_dir=db_path.parent).blobs_dir
        ),
    )
    return app


def test_admin_sees_the_outbox_with_masked_phones(db_path, provider):
    provider.plan = [500]
    queue(db_path, accepted())
    conn = connect_sync(db_path)
    try:
        drain(conn, HttpGateway(provider.url, SECRET), T0, max_attempts=6)
    finally:
        conn.close()
    with TestClient(_page_app(db_path, "node_admin")) as client:
        page = client.get("/admin/sms")
    assert page.status_code == 200
    assert MASKED in page.text
    assert PHONE not in page.text
    assert "最低生活保障申请已受理" in page.text
    assert "排队中" in page.text
    with TestClient(_page_app(db_path, "agent")) as client:
        assert client.get("/admin/sms").status_code == 403


def test_the_edge_app_serves_the_page_to_its_node_admin(client):
    assert client.get("/admin/sms", follow_redirects=False).status_code == 303
    login(client, ADMIN)
    page = client.get("/admin/sms")
    assert page.status_code == 200
    assert "短信发送记录" in page.text


def test_the_edge_app_refuses_the_page_to_an_agent(client):
    login(client, AGENT_QIANJIANG)
    assert client.get("/admin/sms").status_code == 403


# --- a send cut off by a dead worker: the reaper asks the gateway ---------------------------

DEAD = "01DEADDEADDEADDEADDEADDEAD"  # a claimer whose lock file is gone: its process died


def test_a_dead_workers_batch_is_settled_at_once_asking_the_gateway(db_path, provider, tmp_path):
    ids = queue(db_path, accepted(), accepted(phone="13900001111"), accepted(phone="13900002222"))
    gateway = HttpGateway(provider.url, SECRET)
    conn = connect_sync(db_path)
    try:
        # a worker claimed three, started two, the gateway took the first: then it was killed
        kernel_outbox.claim(conn, SMS, T0, 10, claimer=DEAD)
        kernel_outbox.start(conn, SMS, ids[0], T0)
        gateway.send(PHONE, "【村办】测试", ids[0])
        kernel_outbox.start(conn, SMS, ids[1], T0)
        assert gateway.accepted(ids[0]) is True and gateway.accepted(ids[1]) is False
        assert reap(conn, gateway, T0 + timedelta(seconds=1), tmp_path / "claimers") == 3
        settled = [row_of(conn, message_id) for message_id in ids]
        assert drain(conn, gateway, T0 + timedelta(seconds=1), max_attempts=6) == 2
        final = [row_of(conn, message_id) for message_id in ids]
    finally:
        conn.close()
    assert [(r["state"], r["attempts"], r["unconfirmed"]) for r in settled] == [
        ("sent", 1, 0),  # the gateway had it: not sent again
        ("queued", 1, 0),  # started, never reached the gateway
        ("queued", 0, 0),  # claimed, never tried
    ]
    assert provider.posts == ids  # each id reached the provider once
    assert [(r["state"], r["attempts"], r["unconfirmed"]) for r in final] == [
        ("sent", 1, 0),
        ("sent", 2, 0),
        ("sent", 1, 0),
    ]


def test_a_live_workers_claim_waits_the_five_minutes(db_path, provider, tmp_path):
    (message_id,) = queue(db_path, accepted())
    gateway = HttpGateway(provider.url, SECRET)
    claimers_dir = tmp_path / "claimers"
    conn = connect_sync(db_path)
    try:
        kernel_outbox.claim(conn, SMS, T0, 10, claimer=claimers.this_process(claimers_dir))
        assert reap(conn, gateway, T0 + timedelta(minutes=4), claimers_dir) == 0
        assert reap(conn, gateway, T0 + timedelta(minutes=5), claimers_dir) == 1
        row = row_of(conn, message_id)
    finally:
        conn.close()
    assert (row["state"], row["attempts"], row["unconfirmed"]) == ("queued", 0, 0)


def test_a_gateway_that_cannot_tell_sends_again_and_the_page_says_so(db_path, provider, tmp_path):
    provider.answers = False
    (message_id,) = queue(db_path, accepted())
    gateway = HttpGateway(provider.url, SECRET)
    conn = connect_sync(db_path)
    try:
        kernel_outbox.claim(conn, SMS, T0, 10, claimer=DEAD)
        kernel_outbox.start(conn, SMS, message_id, T0)
        gateway.send(PHONE, "【村办】测试", message_id)
        assert gateway.accepted(message_id) is None
        assert reap(conn, gateway, T0, tmp_path / "claimers") == 1
        assert drain(conn, gateway, T0, max_attempts=6) == 1
        row = row_of(conn, message_id)
    finally:
        conn.close()
    assert provider.posts == [message_id, message_id]  # at least once, and it shows:
    assert (row["state"], row["attempts"], row["unconfirmed"]) == ("sent", 2, 1)
    with TestClient(_page_app(db_path, "node_admin")) as client:
        page = client.get("/admin/sms")
    assert page.status_code == 200
    assert "<td>已发送<br><strong>可能重复发送：网关无法确认此前的发送</strong></td><td>2</td>" in (
        page.text
    )


def test_the_http_gateway_asks_with_a_signed_request(provider):
    gateway = HttpGateway(provider.url, SECRET)
    assert gateway.accepted("01" * 13) is False
    gateway.send(PHONE, "【村办】测试", "01" * 13)
    assert gateway.accepted("01" * 13) is True
    assert HttpGateway(provider.url, "wrong").accepted("01" * 13) is None  # refused: unknown
    closed = Provider(SECRET)
    url = closed.url
    closed.server_close()
    assert HttpGateway(url, SECRET, timeout=2).accepted("01" * 13) is None


def test_log_gateway_takes_each_id_once_and_remembers_it_after_a_restart(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="edge.sms.gateways")
    record = tmp_path / "sms-log-gateway.ids"
    gateway = LogGateway(record)
    assert gateway.accepted("01" * 13) is False
    gateway.send(PHONE, "【村办】测试", "01" * 13)
    gateway.send(PHONE, "【村办】测试", "01" * 13)
    assert caplog.messages.count(f"sms to {MASKED}: 【村办】测试") == 1
    assert LogGateway(record).accepted("01" * 13) is True  # a new process reads the record
    assert LogGateway(record).accepted("02" * 13) is False
    assert LogGateway().accepted("01" * 13) is None  # no record: cannot tell


def test_the_configured_log_gateway_keeps_its_record_in_the_data_folder(tmp_path):
    settings = Settings(node_id="lianzhou", township_code=LIANZHOU, data_dir=tmp_path)
    gateway = gateway_from(settings)
    assert isinstance(gateway, LogGateway)
    gateway.send(PHONE, "【村办】测试", "01" * 13)
    assert gateway_from(settings).accepted("01" * 13) is True


def test_the_materials_sms_names_what_to_bring_and_how_many_more():
    code = CODE
    two = templates.render("materials", {"code": code, "materials": "户口簿、收入证明"}, "zh_Hans")
    assert two == f"【村办】{code}需补正，请带齐：户口簿、收入证明"
    many = "、".join(f"第{n}份很长很长的证明材料原件" for n in range(1, 9))
    cut = templates.render("materials", {"code": code, "materials": many}, "zh_Hans")
    assert len(cut) <= templates.MAX_LENGTH and cut.endswith("等8项") and code in cut
    assert "第1份很长很长的证明材料原件" in cut
    one_huge = templates.render("materials", {"code": code, "materials": "长" * 90}, "zh_Hans")
    assert len(one_huge) <= templates.MAX_LENGTH and one_huge.endswith("等1项")
    english = templates.render("materials", {"code": code, "materials": "户口簿"}, "en")
    assert len(english) <= templates.MAX_LENGTH and code in english


def test_every_materials_sms_of_the_catalog_fits_one_segment():
    for item in read_catalog().items:
        names = "、".join(m["name"]["zh"] for m in item["materials"])
        for locale in LOCALES:
            body = templates.render("materials", {"code": CODE, "materials": names}, locale)
            assert len(body) <= templates.MAX_LENGTH, body
