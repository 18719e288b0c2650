"""阳光红页 part 1 on the edge: the power list and its flow charts, results disclosure with
per-item declarations and withholding, and sealed notice-board sheets, through the real app."""

from __future__ import annotations

import re
import shutil
import sqlite3
import tomllib

import pytest

from edge.catalog.loader import read_catalog
from edge.catalog.schema import check_item
from edge.powers.loader import POWERS_DIR, PowerListError, power_list, read_power_list
from tests.conftest import AGENT_QIANJIANG, HUANZHU, QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import KEY_FIELD, resident_id, rows, submit
from tests.test_budgets import _measure

RECEIPT = re.compile(r"/agent/applications/([0-9A-Z]{26})/receipt")
SEAL_ID = re.compile(r"/verify/([0-9A-Z]{26})")
# form fields no item may ever declare public: identity, contact, address, health, money
DENY = re.compile(
    r"id_number|phone|name$|address|location|destination|disease|health|condition|diagnos|"
    r"hospital|income|cost|amount|price|account|bank|salary|situation|description|reason|"
    r"members|certificate_no|serial|body_weight|self_care|disability|hardship"
)


def _accept(client, code: str, **applicant: str) -> str:
    login(client, AGENT_QIANJIANG)
    response = submit(client, code, **applicant)
    assert response.status_code == 303, response.text
    return RECEIPT.match(response.headers["location"]).group(1)


# the power list as data


def test_the_power_list_ships_36_powers_in_12_areas_each_with_a_flow():
    powers = power_list()
    assert powers.count >= 36 and len(powers.areas) >= 11
    catalog = {item["code"] for item in read_catalog().items}
    for area in powers.areas:
        assert len(area.powers) >= 3, area.code
        for power in area.powers:
            assert len(power.steps) >= 2 and set(power.items) <= catalog
            assert power.name.zh and power.name.en and power.legal_basis


def test_the_format_carries_the_seed_citys_72_powers_in_14_areas(tmp_path):
    shutil.copy(POWERS_DIR / "powers.toml", tmp_path / "powers.toml")
    head = (tmp_path / "powers.toml").read_text(encoding="utf-8")
    (tmp_path / "areas").mkdir()
    one = tomllib.loads((POWERS_DIR / "areas" / "JC.toml").read_text(encoding="utf-8"))
    template = (POWERS_DIR / "areas" / "JC.toml").read_text(encoding="utf-8")
    areas = [f"Q{letter}" for letter in "ABCDEFGHIJKLMN"]
    for area in areas:
        head += (
            f'\n[[areas]]\ncode = "{area}"\nname = {{ zh = "方面{area}", en = "Area {area}" }}\n'
        )
        text = template.replace('area = "JC"', f'area = "{area}"').replace('"JC-', f'"{area}-')
        # six powers an area: the three of JC twice, numbered 01..06
        second = text.split("[[powers]]", 1)[1]
        for n in range(len(one["powers"])):
            second = second.replace(f'"{area}-0{n + 1}"', f'"{area}-0{n + 4}"')
        (tmp_path / "areas" / f"{area}.toml").write_text(text + "\n[[powers]]" + second)
    (tmp_path / "powers.toml").write_text(head, encoding="utf-8")
    big = read_power_list(tmp_path)
    filled = [area for area in big.areas if area.powers]
    assert big.count == 84 >= 72 and len(filled) == 14
    assert big.power("QN-06") is not None


def test_a_broken_power_file_is_refused_listing_every_problem(tmp_path):
    shutil.copytree(POWERS_DIR / "areas", tmp_path / "areas")
    shutil.copy(POWERS_DIR / "powers.toml", tmp_path / "powers.toml")
    path = tmp_path / "areas" / "ZJ.toml"
    text = path.read_text(encoding="utf-8").replace('actor = "group"', 'actor = "mayor"', 1)
    path.write_text(text.replace('items = ["NY-001", "ZR-001"]', 'items = ["XX-999"]'))
    with pytest.raises(PowerListError) as refused:
        read_power_list(tmp_path, items={"NY-001", "ZR-001"})
    assert "unknown body 'mayor'" in str(refused.value)
    assert "unknown catalog items ['XX-999']" in str(refused.value)


# pages


def test_the_power_list_page_is_searchable_without_js(client):
    page = client.get("/disclosure/powers")
    assert page.status_code == 200
    for area in power_list().areas:
        assert area.name.zh in page.text
    assert page.text.count('href="/disclosure/powers/') == power_list().count
    found = client.get("/disclosure/powers", params={"q": "宅基地"})
    assert "/disclosure/powers/ZJ-01" in found.text and "/disclosure/powers/JC-01" not in found.text
    area = client.get("/disclosure/powers", params={"area": "DB"})
    assert "/disclosure/powers/DB-01" in area.text and "/disclosure/powers/ZJ-01" not in area.text
    nothing = client.get("/disclosure/powers", params={"q": "火星"})
    assert "没有找到符合条件的权力" in nothing.text
    english = client.get("/disclosure/powers", params={"lang": "en"})
    assert "Homesteads and house building" in english.text


def test_a_power_page_draws_its_flow_chart_from_the_step_data(client):
    page = client.get("/disclosure/powers/JC-01")
    assert page.status_code == 200
    flow = page.text.split('<ol class="flow"', 1)[1].split("</ol>", 1)[0]
    power = power_list().power("JC-01")
    assert flow.count("<li>") == len(power.steps) == 5
    positions = [flow.index(step.action.zh) for step in power.steps]
    assert positions == sorted(positions)  # in order
    assert "村民代表会议" in flow and "12388" in page.text
    assert "<script" not in page.text.split("<main>", 1)[1]
    english = client.get("/disclosure/powers/JC-01?lang=en")
    assert "The Party organisation proposes the matter" in english.text
    missing = client.get("/disclosure/powers/XX-99?lang=zh")
    assert missing.status_code == 404 and "没有找到这项权力" in missing.text


def test_a_power_page_lists_its_items_and_the_real_cases_that_used_it(client, settings):
    _accept(client, "CW-001", name="覃海燕")
    client.cookies.clear()
    page = client.get("/disclosure/powers/ZM-01")
    assert '<a href="/services/CW-001">居住证明</a>' in page.text
    cases = page.text.split("用这项权力办结的事项", 1)[1]
    assert "覃*" in cases and "覃海燕" not in page.text and "批准" in cases
    other = client.get("/disclosure/powers/ZJ-01")
    assert "还没有公开的办结事项" in other.text


# results disclosure


def test_results_show_decided_cases_masked_and_never_personal_fields(client, settings):
    id_number = resident_id("19790605", "418")
    _accept(
        client,
        "CW-001",
        name="莫文娟",
        id_number=id_number,
        phone="13977123456",
        f_residence_address="廉州镇乾江村三巷十二号",
    )
    _accept(client, "MZ-001", name="庞月英", id_number=resident_id("19400101", "422"))  # in review
    client.cookies.clear()
    page = client.get("/disclosure/results")
    assert page.status_code == 200
    assert "莫*" in page.text and "居住证明" in page.text and "按时办结" in page.text
    for secret in ("莫文娟", id_number, id_number[6:14], "13977123456", "三巷十二号", "庞"):
        assert secret not in page.text


def test_results_filter_by_village_item_and_month_and_paginate_in_bounded_queries(client, settings):
    application_id = _accept(client, "CW-001", name="甘秀珍")
    source = rows(settings, "SELECT * FROM applications WHERE id = ?", application_id)[0]
    columns = list(source.keys())
    with sqlite3.connect(settings.database_path) as conn:
        for n in range(24):  # copies of the decided case: earlier months, the other village
            copy = dict(source) | {
                "id": f"01JDISCLOSURECOPYCASE{n:05d}",
                "tracking_code": f"COPY{n:04d}",
                "finished_at": f"2026-10-{n + 1:02d}T02:00:00+00:00",
                "village_code": HUANZHU if n % 2 else QIANJIANG,
            }
            conn.execute(
                f"INSERT INTO applications ({','.join(columns)}) "
                f"VALUES ({','.join('?' * len(columns))})",
                [copy[c] for c in columns],
            )
    client.cookies.clear()
    first = client.get("/disclosure/results")
    assert "共 25 件" in first.text and "第 1 / 2 页" in first.text
    assert first.text.count("<li><strong>") == 20
    second = client.get("/disclosure/results?page=2")
    assert second.text.count("<li><strong>") == 5
    october = client.get(f"/disclosure/results?month=2026-10&village={HUANZHU}")
    assert "共 12 件" in october.text
    junk = client.get("/disclosure/results?month=13&village=x&item=<b>&page=-4")
    assert junk.status_code == 200 and "共 25 件" in junk.text
    for path in ("/disclosure/results", "/disclosure/results?page=2", "/disclosure/powers/ZM-01"):
        _size, queries = _measure(client, path)
        assert queries <= 8, (path, queries)


def test_every_items_disclosure_declaration_passes_the_personal_field_review():
    catalog = read_catalog()
    for item in catalog.items:
        declared = item.get("disclosure", {})
        types = {f["name"]: f["type"] for f in item["fields"]}
        for name in declared.get("form_fields", []):
            assert not DENY.search(name), (item["code"], name)
            assert types[name] in ("number", "choice", "text"), (item["code"], name)
        if item["code"].startswith(("CL-", "YB-002", "YB-003")):  # health: no name at all
            assert "applicant" not in declared.get("fields", []), item["code"]
    phone = dict(next(i for i in catalog.items if i["code"] == "MZ-001"))
    phone["disclosure"] = {"form_fields": ["payee_phone"], "fields": ["item"]}
    errors = check_item(phone, {d["code"] for d in catalog.departments})
    assert any("'payee_phone' is personal" in e for e in errors)
    assert any("must include" in e for e in errors)


# withholding


def _withhold(client, application_id: str, **data: str):
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}/disclosure")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_of(page.text),
        "idempotency_key": KEY_FIELD.search(page.text).group(1),
        **data,
    }
    return form, client.post(
        f"/staff/applications/{application_id}/disclosure", data=form, follow_redirects=False
    )


def test_staff_withhold_a_case_with_a_reason_and_can_release_it(client, settings):
    application_id = _accept(client, "CW-001", name="钟丽萍")
    login(client, STAFF)
    file = client.get(f"/staff/applications/{application_id}")
    assert f"/staff/applications/{application_id}/disclosure" in file.text
    _form, refused = _withhold(client, application_id, action="withhold", reason="")
    assert refused.status_code == 400 and "请选择暂不公开的理由" in refused.text
    assert rows(settings, "SELECT * FROM disclosure_withholdings") == []
    form, done = _withhold(
        client, application_id, action="withhold", reason="third_party_privacy", note="涉及家暴"
    )
    assert done.status_code == 303
    again = client.post(done.headers["location"], data=form, follow_redirects=False)
    assert again.status_code in (303, 405)  # a retry of the same key changes nothing
    retry = client.post(
        f"/staff/applications/{application_id}/disclosure", data=form, follow_redirects=False
    )
    assert retry.status_code == 303
    audit = rows(
        settings,
        "SELECT action, result FROM audit_log WHERE object_id = ? AND action LIKE '%disclosure'",
        application_id,
    )
    assert [tuple(a) for a in audit] == [("withhold_disclosure", "third_party_privacy")]
    client.cookies.clear()
    assert "钟*" not in client.get("/disclosure/results").text
    assert "钟*" not in client.get("/disclosure/powers/ZM-01").text
    assert "涉及家暴" not in client.get("/disclosure/results").text
    _form, released = _withhold(client, application_id, action="release")
    assert released.status_code == 303
    client.cookies.clear()
    assert "钟*" in client.get("/disclosure/results").text


def test_only_township_staff_may_withhold(client, settings):
    application_id = _accept(client, "CW-001")
    page = client.get(f"/staff/applications/{application_id}/disclosure", follow_redirects=False)
    assert page.status_code in (302, 303, 403)
    client.cookies.clear()
    anonymous = client.post(
        f"/staff/applications/{application_id}/disclosure",
        data={"action": "withhold", "reason": "minor"},
        follow_redirects=False,
    )
    assert anonymous.status_code in (302, 303, 403)
    assert rows(settings, "SELECT * FROM disclosure_withholdings") == []


# the notice-board sheet


def test_a_months_results_print_as_a_sealed_sheet_that_verifies(client, settings):
    _accept(client, "CW-001", name="黎美华", phone="13977100001")
    month = rows(settings, "SELECT substr(finished_at, 1, 7) FROM applications")[0][0]
    client.cookies.clear()
    query = f"/disclosure/results/sheet?village={QIANJIANG}&month={month}"
    sheet = client.get(query)
    assert sheet.status_code == 200
    assert "乾江村" in sheet.text and "黎*" in sheet.text and "<svg" in sheet.text
    assert "data-print" in sheet.text and "请使用浏览器菜单中的“打印”" in sheet.text
    seal_id = SEAL_ID.search(sheet.text).group(1)
    assert client.get(query).text.count(seal_id) >= 1
    assert len(rows(settings, "SELECT id FROM seals WHERE kind = 'disclosure_sheet'")) == 1
    verify = client.get(f"/verify/{seal_id}")
    assert "签章有效" in verify.text and "黎*" in verify.text and "乾江村" in verify.text
    payload = rows(settings, "SELECT payload FROM seals WHERE id = ?", seal_id)[0][0]
    for secret in ("黎美华", "13977100001", resident_id(), "19560312"):
        assert secret not in payload
    _accept(client, "CW-001", name="韩桂香")  # the content changes: a new sheet, a new seal
    client.cookies.clear()
    changed = client.get(query)
    assert SEAL_ID.search(changed.text).group(1) != seal_id and "韩*" in changed.text
    asked = client.get("/disclosure/results/sheet")
    assert asked.status_code == 400 and "请先选择村和月份" in asked.text


def test_a_power_prints_as_a_sealed_sheet_for_a_village_board(client, settings):
    sheet = client.get(f"/disclosure/powers/ZJ-01/sheet?village={HUANZHU}")
    assert sheet.status_code == 200 and "还珠村" in sheet.text
    for step in power_list().power("ZJ-01").steps:
        assert step.action.zh in sheet.text
    seal_id = SEAL_ID.search(sheet.text).group(1)
    verify = client.get(f"/verify/{seal_id}")
    assert "签章有效" in verify.text and "宅基地申请审查" in verify.text


# the crawler: every public page, with applications full of personal data


PEOPLE = [
    ("CW-001", "卢国栋", resident_id("19660812", "371"), "13707791234", "三巷十二号"),
    ("CW-003", "苏丽娟", resident_id("19830214", "542"), "13807795678", "北街七号"),
    ("CW-006", "宁家豪", resident_id("19910930", "633"), "13607794321", "东村口五号"),
]


def _public_paths(client, settings) -> set[str]:
    seals = [r[0] for r in rows(settings, "SELECT id FROM seals")]
    codes = [r[0] for r in rows(settings, "SELECT tracking_code FROM applications")]
    paths = {
        route.path
        for route in client.app.routes
        if "{" not in getattr(route, "path", "{")
        and not route.path.startswith(("/staff", "/agent", "/admin", "/static", "/sync", "/me"))
    }
    paths |= {f"/disclosure/powers/{p.code}" for a in power_list().areas for p in a.powers}
    paths |= {f"/disclosure/powers/{a.powers[0].code}/sheet" for a in power_list().areas}
    paths |= {f"/verify/{s}" for s in seals} | {f"/track/{c}" for c in codes}
    paths |= {f"/services/{i['code']}" for i in read_catalog().items}
    month = rows(settings, "SELECT substr(max(finished_at), 1, 7) FROM applications")[0][0]
    paths |= {
        f"/disclosure/results/sheet?village={QIANJIANG}&month={month}",
        f"/disclosure/results?village={QIANJIANG}",
    }
    return paths


def test_no_public_page_shows_an_id_number_a_phone_or_an_address(client, settings):
    for code, name, id_number, phone, address in PEOPLE:
        fields = {f"f_{f}": address for f in ("residence_address", "work_location")}
        other = {"f_relative_id_number": resident_id("19580101", "777")}
        _accept(client, code, name=name, id_number=id_number, phone=phone, **fields, **other)
    client.cookies.clear()
    secrets = [s for _c, name, number, phone, address in PEOPLE for s in (name, number, phone)]
    secrets += [number[6:14] for _c, _n, number, _p, _a in PEOPLE]  # birth dates
    secrets += [address for *_rest, address in PEOPLE] + ["19580101"]
    walked = 0
    for path in sorted(_public_paths(client, settings)):
        page = client.get(path)
        if page.status_code != 200 or "html" not in page.headers.get("content-type", ""):
            continue
        walked += 1
        for secret in secrets:
            assert secret not in page.text, (path, secret)
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", page.text), path
    assert walked >= 36 + 40


def test_demo_results_cover_every_village_with_one_case_withheld_and_load_once(settings):
    import asyncio
    from datetime import UTC, datetime

    from edge.demo import load_demo_node
    from edge.disclosure.demo import STORIES

    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    asyncio.run(load_demo_node(settings, now))
    asyncio.run(load_demo_node(settings, now))  # again: nothing more
    withheld = rows(settings, "SELECT application_id, reason FROM disclosure_withholdings")
    assert [r["reason"] for r in withheld] == ["third_party_privacy"]
    decided = rows(
        settings,
        "SELECT village_code, finished_at, promised_due_on FROM applications "
        "WHERE status IN ('approved', 'rejected') AND id NOT IN "
        "(SELECT application_id FROM disclosure_withholdings)",
    )
    assert len(decided) >= len(STORIES) - 1
    assert {r["village_code"] for r in decided} >= {QIANJIANG, HUANZHU}
    assert all(r["finished_at"] < "2026-12-03T10" for r in decided)  # none in the future
    assert any(r["finished_at"][:10] > r["promised_due_on"] for r in decided)  # one overdue


def test_a_power_page_leads_to_我有话说_about_that_power(client):
    page = client.get("/disclosure/powers/ZJ-01").text
    link = re.search(r'href="(/feedback/new\?[^"]+)"', page)
    assert link and "ref=ZJ-01" in link.group(1), page[-800:]
    form = client.get(link.group(1).replace("&amp;", "&")).text
    assert 'value="village_affairs" selected' in form
