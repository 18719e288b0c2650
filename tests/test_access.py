"""Jurisdiction isolation: nobody reads or writes outside their jurisdiction."""

from __future__ import annotations

import asyncio
import sqlite3

from starlette.testclient import TestClient

from edge.app import create_app
from edge.kernel.csrf import FIELD
from edge.settings import Settings
from tests.conftest import (
    ADMIN,
    AGENT_HUANZHU,
    FUCHENG,
    HUANZHU,
    LIANZHOU,
    QIANJIANG,
    MovableClock,
    csrf_of,
    login,
    prepare,
)

OUTSIDER_ID = "01JZZZZZZZZZZZZZZZZZZZZZZZ"


def _add_fucheng_account(settings) -> None:
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute(
            "INSERT INTO accounts (id, phone, name, role, jurisdiction_code, password_hash, "
            "created_at, updated_at) VALUES (?, '13999990000', '外镇人员', 'agent', ?, 'x', "
            "'2026-01-01', '2026-01-01')",
            (OUTSIDER_ID, FUCHENG[:9] + "201"),
        )


def test_node_admin_sees_only_their_townships_accounts(client, settings):
    _add_fucheng_account(settings)
    login(client, ADMIN)
    listing = client.get("/admin/accounts")
    assert "盛巧云" in listing.text
    assert "外镇人员" not in listing.text
    assert client.get(f"/admin/accounts/{OUTSIDER_ID}").status_code == 404
    token = csrf_of(listing.text)
    edit = client.post(
        f"/admin/accounts/{OUTSIDER_ID}",
        data={"name": "改名", "role": "agent", "jurisdiction_code": QIANJIANG, FIELD: token},
    )
    assert edit.status_code == 404
    with sqlite3.connect(settings.database_path) as conn:
        name = conn.execute("SELECT name FROM accounts WHERE id = ?", (OUTSIDER_ID,)).fetchone()
    assert name == ("外镇人员",)


def test_agent_of_one_village_cannot_reach_another_villages_objects(client, settings):
    _add_fucheng_account(settings)
    login(client, AGENT_HUANZHU)
    home = client.get("/agent/")
    assert "还珠村" in home.text and "乾江村" not in home.text
    with sqlite3.connect(settings.database_path) as conn:
        other = conn.execute(
            "SELECT id FROM accounts WHERE jurisdiction_code = ? AND role = 'agent'", (QIANJIANG,)
        ).fetchone()[0]
    assert client.get(f"/admin/accounts/{other}").status_code == 403
    assert client.get("/admin/accounts").status_code == 403


def test_admin_creates_an_account_inside_the_township(client, settings):
    login(client, ADMIN)
    token = csrf_of(client.get("/admin/accounts/new").text)
    form = {
        "phone": "13712345678",
        "name": "新代办员",
        "role": "agent",
        "jurisdiction_code": HUANZHU,
        "password": "a-long-password",
        FIELD: token,
    }
    response = client.post("/admin/accounts/new", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert login(client, "13712345678", "a-long-password").headers["location"] == "/agent/"


def test_admin_cannot_create_outside_the_township_and_nothing_is_saved(client, settings):
    login(client, ADMIN)
    token = csrf_of(client.get("/admin/accounts/new").text)
    form = {
        "phone": "13712345679",
        "name": "越权账号",
        "role": "agent",
        "jurisdiction_code": FUCHENG,
        "password": "short",
        FIELD: token,
    }
    response = client.post("/admin/accounts/new", data=form)
    assert response.status_code == 400
    assert "请选择本镇范围内的辖区" in response.text
    assert "密码至少需要 10 个字符" in response.text
    assert 'value="越权账号"' in response.text
    with sqlite3.connect(settings.database_path) as conn:
        assert (
            conn.execute("SELECT count(*) FROM accounts WHERE phone = '13712345679'").fetchone()[0]
            == 0
        )


def test_duplicate_phone_is_a_message_not_a_crash(client):
    login(client, ADMIN)
    token = csrf_of(client.get("/admin/accounts/new").text)
    form = {
        "phone": AGENT_HUANZHU,
        "name": "重复",
        "role": "agent",
        "jurisdiction_code": HUANZHU,
        "password": "a-long-password",
        FIELD: token,
    }
    response = client.post("/admin/accounts/new", data=form)
    assert response.status_code == 400
    assert "这个手机号码已经有账号了" in response.text


def test_deactivating_an_account_ends_its_sessions(client, settings):
    login(client, AGENT_HUANZHU)
    agent_cookie = client.cookies.get("cb_session")
    login(client, ADMIN)  # same browser, now the admin; the agent's token is kept aside
    with sqlite3.connect(settings.database_path) as conn:
        agent_id = conn.execute(
            "SELECT id FROM accounts WHERE phone = ?", (AGENT_HUANZHU,)
        ).fetchone()[0]
    token = csrf_of(client.get(f"/admin/accounts/{agent_id}").text)
    response = client.post(
        f"/admin/accounts/{agent_id}",
        data={"name": "庞海燕", "role": "agent", "jurisdiction_code": HUANZHU, FIELD: token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    client.cookies.clear()
    client.cookies.set("cb_session", agent_cookie)
    assert client.get("/agent/", follow_redirects=False).status_code == 303
    assert login(client, AGENT_HUANZHU).status_code == 401


def _new_account(client, **fields: str):
    login(client, ADMIN)
    form = {
        "phone": "13712345670",
        "name": "新账号",
        "password": "a-long-password",
        FIELD: csrf_of(client.get("/admin/accounts/new").text),
        **fields,
    }
    return client.post("/admin/accounts/new", data=form, follow_redirects=False)


def _saved(settings, phone: str = "13712345670") -> int:
    with sqlite3.connect(settings.database_path) as conn:
        return conn.execute("SELECT count(*) FROM accounts WHERE phone = ?", (phone,)).fetchone()[0]


def test_an_agent_must_serve_a_village_not_the_whole_township(client, settings):
    township = _new_account(client, role="agent", jurisdiction_code=LIANZHOU)
    assert township.status_code == 400
    assert "代办员的辖区必须是一个村" in township.text
    assert _saved(settings) == 0
    staff = _new_account(client, role="township_staff", jurisdiction_code=LIANZHOU)
    assert staff.status_code == 303 and _saved(settings) == 1


def test_no_new_officer_on_a_node_whose_county_steps_are_decided_at_central(tmp_path):
    settings = Settings(
        node_id="lianzhou",
        township_code=LIANZHOU,
        data_dir=tmp_path / "edge",
        central_url="http://127.0.0.1:9",
        allow_plain_http=True,
    )
    asyncio.run(prepare(settings))
    app = create_app(settings, MovableClock())
    with TestClient(app, base_url="https://testserver") as client:
        fields = {"role": "officer", "jurisdiction_code": LIANZHOU, "department_code": "civil"}
        refused = _new_account(client, **fields)
        assert refused.status_code == 400
        assert "部门审批人员的账号请由中心管理员开设" in refused.text
        assert _saved(settings) == 0
