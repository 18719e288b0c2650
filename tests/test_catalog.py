"""The service catalog: files, loader, list, search, filters, guide and one-time notice."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import sqlite3
from typing import Any

import pytest

from edge.catalog.item import CatalogItem
from edge.catalog.loader import from_parts, load_catalog, read_catalog, read_parts
from edge.kernel.db import Database
from edge.schema import migrate_database
from tests.conftest import AGENT_QIANJIANG, login
from tests.intake_support import intake_data, intake_files, open_form, rows

ITEM_LINK = re.compile(r'<a href="/services/([A-Z]+-\d{3})">')


def test_catalog_files_have_forty_complete_items():
    catalog = read_catalog()  # raises listing every incomplete element
    assert len(catalog.items) >= 40
    modes = {item["mode"] for item in catalog.items}
    assert modes == {"direct", "forwarded"}
    joint = [i["code"] for i in catalog.items if any(len(s["departments"]) > 1 for s in i["route"])]
    assert len(joint) >= 3
    types = {f["type"] for item in catalog.items for f in item["fields"]}
    assert types == {"text", "number", "date", "month", "choice", "id_number", "phone"}


def test_loader_is_idempotent_and_versioned(tmp_path):
    async def scenario():
        db = Database(tmp_path / "edge.db")
        await db.open()
        await migrate_database(db)
        catalog = read_catalog()
        async with db.write() as conn:
            first = await load_catalog(conn, catalog)
        async with db.read() as conn:
            revs = await (await conn.execute("SELECT sum(rev) FROM catalog_items")).fetchone()
        async with db.write() as conn:
            second = await load_catalog(conn, catalog)
        async with db.read() as conn:
            again = await (await conn.execute("SELECT sum(rev) FROM catalog_items")).fetchone()
            meta = await (await conn.execute("SELECT version FROM catalog_meta")).fetchone()
        await db.close()
        return first, second, revs[0], again[0], meta[0]

    first, second, revs, again, version = asyncio.run(scenario())
    assert first.changed >= 40 + 11
    assert second.changed == 0
    assert revs == again
    assert version == read_catalog().version


def _as_file(value: Any) -> Any:
    """A record spelled as its item file: tables and arrays, no key for what is unset."""
    if dataclasses.is_dataclass(value):
        pairs = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        return {name: _as_file(v) for name, v in pairs if v is not None and v != ()}
    if isinstance(value, tuple):
        return [_as_file(v) for v in value]
    return value


def test_every_stored_item_body_builds_a_record_that_keeps_all_of_it(client, settings):
    stored = dict(rows(settings, "SELECT code, body FROM catalog_items WHERE active = 1"))
    files = read_catalog().items
    assert sorted(stored) == sorted(item["code"] for item in files)
    for item in files:
        record = CatalogItem.from_body(stored[item["code"]])
        assert _as_file(record) == item, item["code"]
    joint = CatalogItem.from_body(stored["NY-001"])
    assert joint.route_departments == ["township", "agri", "land"]
    assert joint.material_keys == [
        "application_form",
        "commitment_letter",
        "hukou_book",
        "group_meeting_record",
        "building_plan",
        "old_homestead_cert",
    ]


def test_list_shows_every_item(client):
    page = client.get("/services")
    assert page.status_code == 200
    assert len(set(ITEM_LINK.findall(page.text))) == len(read_catalog().items)


def test_search_by_short_name_finds_the_item(client):
    page = client.get("/services", params={"q": "低保"})
    codes = set(ITEM_LINK.findall(page.text))
    assert "MZ-002" in codes
    assert "GA-001" not in codes
    assert "找到" in page.text


def test_search_in_english(client):
    page = client.get("/services", params={"q": "pension", "lang": "en"})
    codes = set(ITEM_LINK.findall(page.text))
    assert "RS-001" in codes and "MZ-002" not in codes


def test_search_with_nothing_found_says_so(client):
    page = client.get("/services", params={"q": "不存在的事项名称"})
    assert page.status_code == 200
    assert not ITEM_LINK.findall(page.text)
    assert "没有找到符合条件的事项" in page.text


def test_filter_by_department_and_mode(client):
    codes = set(ITEM_LINK.findall(client.get("/services", params={"dept": "civil"}).text))
    assert codes and all(code.startswith("MZ-") for code in codes)
    direct = set(ITEM_LINK.findall(client.get("/services", params={"mode": "direct"}).text))
    assert direct == {i["code"] for i in read_catalog().items if i["mode"] == "direct"}
    forwarded = set(ITEM_LINK.findall(client.get("/services?mode=forwarded").text))
    assert forwarded and not forwarded & direct


def test_unknown_filter_values_are_ignored_not_errors(client):
    page = client.get("/services", params={"dept": "nope", "mode": "<script>"})
    assert page.status_code == 200
    assert len(set(ITEM_LINK.findall(page.text))) == len(read_catalog().items)


def test_htmx_search_returns_only_the_results_fragment(client):
    page = client.get(
        "/services",
        params={"q": "医保"},
        headers={"HX-Request": "true", "HX-Request-Type": "partial"},
    )
    assert page.status_code == 200
    assert page.text.lstrip().startswith('<section id="results"')
    assert "<html" not in page.text
    assert "YB-001" in page.text
    assert "HX-Request" in page.headers["Vary"]
    assert "HX-Request" in client.get("/services").headers["Vary"]


def test_guide_page_shows_every_element(client):
    item = next(i for i in read_catalog().items if i["code"] == "MZ-002")
    page = client.get("/services/MZ-002")
    assert page.status_code == 200
    text = page.text
    assert item["name"]["zh"] in text
    assert "MZ-002" in text
    assert "民政局" in text
    for law in item["legal_basis"]:
        assert law["zh"] in text
    for condition in item["conditions"]:
        assert condition["zh"] in text
    for material in item["materials"]:
        assert material["name"]["zh"] in text
    for step in item["process"]:
        assert step["zh"] in text
    assert f"{item['statutory_days']} 个工作日" in text
    assert f"{item['promised_days']} 个工作日" in text
    assert item["fee"]["zh"] in text and item["where"]["zh"] in text
    assert 'href="/services/MZ-002/notice"' in text


def test_guide_of_a_joint_review_item_names_every_department(client):
    item = next(i for i in read_catalog().items if i["code"] == "NY-001")
    text = client.get("/services/NY-001").text
    assert "联合审查" in text
    assert "农业农村局" in text and "自然资源局" in text
    english = client.get("/services/NY-001?lang=en").text
    assert item["name"]["en"].replace("'", "&#39;") in english
    assert "joint review" in english.lower()


def test_printable_notice(client):
    item = next(i for i in read_catalog().items if i["code"] == "CW-001")
    page = client.get("/services/CW-001/notice")
    assert page.status_code == 200
    assert "一次性告知单" in page.text
    for material in item["materials"]:
        assert material["name"]["zh"] in page.text
    css = re.search(r"<style>(.*?)</style>", page.text, re.DOTALL).group(1)  # inline
    assert "@media print" in css


def test_unknown_item_is_a_404_page_in_the_users_language(client):
    page = client.get("/services/XX-999")
    assert page.status_code == 404
    assert "没有找到这个办事事项" in page.text
    english = client.get("/services/XX-999", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.status_code == 404
    assert "could not find" in english.text.lower() or "not found" in english.text.lower()
    assert '<html lang="en">' in english.text


def test_a_date_people_remember_roughly_is_asked_as_a_year_and_month(client, settings):
    """ "记不清的填写大致年月" sat under an input that required an exact day."""
    login(client, AGENT_QIANJIANG)
    page = client.get("/agent/apply/CW-001")
    assert 'name="f_residence_since" type="month"' in page.text
    assert "记不清" not in page.text
    token, key = open_form(client, "CW-001")
    data = intake_data("CW-001") | {"csrf_token": token, "idempotency_key": key}
    bad = client.post("/agent/apply/CW-001", data=data | {"f_residence_since": "2020-13"})
    assert bad.status_code == 400 and "请按 年-月 填写" in bad.text
    future = client.post("/agent/apply/CW-001", data=data | {"f_residence_since": "2099-01"})
    assert future.status_code == 400 and "年月不能晚于本月" in future.text
    good = client.post(
        "/agent/apply/CW-001",
        data=data | {"f_residence_since": "2019-08"},
        files=intake_files("CW-001"),
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text


def test_a_long_text_field_has_one_limit_in_a_box_of_several_lines(client, settings):
    """家庭困难情况说明 takes what the catalog says (500), in a multi-line box, and the server
    keeps all 500: the form and the server no longer disagree (500 typed, 200 kept)."""
    login(client, AGENT_QIANJIANG)
    page = client.get("/agent/apply/MZ-002")
    assert '<textarea id="f_situation" name="f_situation" rows="4" maxlength="500"' in page.text
    token, key = open_form(client, "MZ-002")
    data = intake_data("MZ-002") | {"csrf_token": token, "idempotency_key": key}
    data["f_situation"] = "家" * 480
    accepted = client.post(
        "/agent/apply/MZ-002", data=data, files=intake_files("MZ-002"), follow_redirects=False
    )
    assert accepted.status_code == 303, accepted.text
    with sqlite3.connect(settings.database_path) as conn:
        kept = conn.execute("SELECT form_data FROM applications").fetchone()[0]
    assert json.loads(kept)["situation"] == "家" * 480


def test_a_field_longer_than_we_keep_is_refused_when_the_catalog_loads():
    head, items = read_parts()
    item = next(i for i in items if i["code"] == "MZ-002")
    situation = next(f for f in item["fields"] if f["name"] == "situation")
    situation["max_length"] = 501
    with pytest.raises(ValueError, match="max_length: must be 1 to 500"):
        from_parts(head, items)
