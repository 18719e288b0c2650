"""Village certificates: the printable 证明 with its facts, seal and offline QR; who may open
it; the public check page in words; the receipt of a closed file; print buttons."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import UTC, datetime

from edge.demo import load_demo_node
from edge.seals import compact
from tests.conftest import AGENT_HUANZHU, AGENT_QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import intake_data, intake_files, open_form, rows

STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S)  # the inline stylesheet of every page

FACTS = {
    "f_residence_address": "乾江村第三村民小组12号",
    "f_residence_since": "2015-03",
    "f_housing_type": "own",
    "f_purpose": "school",
    "f_receiving_body": "合浦县廉州镇中心小学",
}
QR_TEXT = re.compile(r'data-qr="([^"]+)"')
QR_VERSION = re.compile(r'data-qr-version="(\d+)"')


def certify(client, settings) -> tuple[str, str]:
    """An agent takes in a residence certificate (CW-001); (application id, seal id)."""
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "CW-001")
    data = intake_data("CW-001") | FACTS | {"csrf_token": token, "idempotency_key": key}
    response = client.post(
        "/agent/apply/CW-001", data=data, files=intake_files("CW-001"), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    application_id = response.headers["location"].split("/")[3]
    (seal,) = rows(settings, "SELECT id FROM seals WHERE application_id = ?", application_id)
    return application_id, seal["id"]


def _keys(client) -> dict[str, str]:
    return {key["kid"]: key["public_key"] for key in client.get("/seals/keys.json").json()}


def test_certificate_carries_the_facts_the_seal_and_an_offline_qr(client, settings):
    application_id, seal_id = certify(client, settings)
    page = client.get(f"/certificates/{seal_id}")
    assert page.status_code == 200
    text = page.text
    for shown in (
        "居住证明",
        "潘桂兰",
        "4505**********",
        "乾江村第三村民小组12号",
        "自有住房",
        "子女入学",
        "合浦县廉州镇中心小学",
        "乾江村村民委员会",
        "电子印章",
        seal_id,
    ):
        assert shown in text, shown
    assert "450521" + "19560312" not in text  # never the full ID number
    assert text.index("乾江村第三村民小组12号") < text.index("合浦县廉州镇中心小学")  # form order
    assert "data-print" in text and "请使用浏览器的打印功能" not in text
    qr = QR_TEXT.search(text).group(1)
    token = qr.rpartition("#")[2]
    assert qr.startswith(settings.web.public_base + f"/verify/{seal_id}#")
    checked = compact.check(qr, _keys(client))
    assert checked is not None and checked.valid
    assert checked.body[:5] == [
        "CW-001",
        "450521100201",
        "2026-11-23",
        "潘桂兰",
        "45051230"[:4] + checked.body[4][4:],
    ]
    assert "合浦县廉州镇中心小学" in checked.body[5] and "school" in checked.body[5]
    assert len(token) <= 380  # alphanumeric characters: with the URL, a version 13 QR at level M
    assert int(QR_VERSION.search(text).group(1)) <= 13  # 69 modules: 0.43 mm each at 3 cm
    audit = rows(settings, "SELECT action FROM audit_log WHERE object_id = ?", seal_id)
    assert [a["action"] for a in audit] == ["read_personal_data"]
    assert application_id


def test_an_altered_or_foreign_token_does_not_check(client, settings):
    _application_id, seal_id = certify(client, settings)
    qr = QR_TEXT.search(client.get(f"/certificates/{seal_id}").text).group(1)
    address, _hash, token = qr.rpartition("#")
    keys = _keys(client)
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    altered = raw.replace("潘桂兰".encode(), "潘桂英".encode())
    forged = base64.b32encode(altered).decode().rstrip("=")
    result = compact.check(f"{address}#{forged}", keys)
    assert result is not None and not result.valid and result.body[3] == "潘桂英"
    other_seal = address[:-26] + "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert not compact.check(f"{other_seal}#{token}", keys).valid  # bound to its seal id
    assert compact.check(qr, {}).valid is False  # unknown key
    assert compact.check("not a certificate", keys) is None


def test_where_the_certificate_is_found(client, settings):
    application_id, seal_id = certify(client, settings)
    receipt = client.get(f"/agent/applications/{application_id}/receipt").text
    assert f"/certificates/{seal_id}" in receipt
    assert "前办理" not in receipt and "接下来" not in receipt  # a closed file
    assert "data-print" in receipt and "请使用浏览器的打印功能" not in receipt
    assert f"/certificates/{seal_id}" in client.get(f"/agent/applications/{application_id}").text
    assert "/agent/check" in client.get("/agent/").text
    login(client, STAFF)
    assert f"/certificates/{seal_id}" in client.get(f"/staff/applications/{application_id}").text
    assert client.get(f"/certificates/{seal_id}").status_code == 200


def test_only_the_village_agent_and_staff_open_a_certificate(client, settings):
    _application_id, seal_id = certify(client, settings)
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/agent/").text)})
    signed_out = client.get(f"/certificates/{seal_id}", follow_redirects=False)
    assert signed_out.status_code in (302, 303)
    login(client, AGENT_HUANZHU)
    assert client.get(f"/certificates/{seal_id}").status_code == 404


def test_verify_page_speaks_words_not_keys(client, settings):
    _application_id, seal_id = certify(client, settings)
    page = client.get(f"/verify/{seal_id}")
    assert page.status_code == 200
    text = STYLE.sub("", page.text)  # what the page shows, not its inline stylesheet's classes
    for shown in (
        "申请人",
        "批准",
        "乾江村村民委员会",
        "潘*",
        "身份证号码",
        "证明提交单位",
        "合浦县廉州镇中心小学",
        "子女入学",
        "data-print",
    ):
        assert shown in text, shown
    assert "潘桂兰" not in text
    assert "<dd>450521100201</dd>" not in text  # the office's code only beside its key
    for raw in (
        "applicant",
        "approved",
        "id_number",
        "office_name",
        "opinion",
        ">civil<",
        "receiving_body",
    ):
        assert raw not in text, raw
    english = client.get(f"/verify/{seal_id}?lang=en").text
    assert "Approved" in english and "Qianjiang" in english and "Applicant" in english


def test_agent_check_page_keeps_keys_and_words_for_offline_use(client, settings):
    certify(client, settings)
    page = client.get("/agent/check")
    assert page.status_code == 200
    assert "核验证明" in page.text and "seal-check" in page.text
    kid = next(iter(_keys(client)))
    assert kid in page.text and "证明提交单位" in page.text
    worker = client.get("/sw.js").text
    assert '"/agent/check"' in worker and '"/seals/keys.json"' in worker


def test_notice_has_a_print_button_not_a_hint(client):
    page = client.get("/services/CW-001/notice").text
    assert "data-print" in page and "请使用浏览器的打印功能" not in page
    assert re.search(r'src="/static/js/print\.[0-9a-f]{12}\.js" type="after-load"', page)


def test_demo_certificates_load_once_and_print(client, settings):
    asyncio.run(load_demo_node(settings, datetime(2026, 11, 23, 9, tzinfo=UTC)))
    asyncio.run(load_demo_node(settings, datetime(2026, 11, 24, 9, tzinfo=UTC)))
    sealed = rows(
        settings,
        "SELECT s.id, a.item_code FROM seals s JOIN applications a ON a.id = s.application_id "
        "WHERE a.applicant_name IN ('黄秋菊', '庞德明') ORDER BY a.item_code",
    )
    assert [s["item_code"] for s in sealed] == ["CW-001", "CW-002"]
    login(client, AGENT_QIANJIANG)
    hardship = client.get(f"/certificates/{sealed[1]['id']}").text
    assert "庞德明" in hardship and "尿毒症" in hardship and "大病医疗救助" in hardship
    qr = QR_TEXT.search(hardship).group(1)
    checked = compact.check(qr, _keys(client))
    assert checked.valid and None in checked.body[5]  # the long account is checked online


def test_id_numbers_and_phones_in_the_facts_are_masked_when_sealed(client, settings):
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "CW-006")
    data = intake_data("CW-006") | {"csrf_token": token, "idempotency_key": key}
    response = client.post(
        "/agent/apply/CW-006", data=data, files=intake_files("CW-006"), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    application_id = response.headers["location"].split("/")[3]
    (sealed,) = rows(
        settings, "SELECT id, payload FROM seals WHERE application_id = ?", application_id
    )
    for stored in (sealed["payload"], client.get(f"/certificates/{sealed['id']}").text):
        assert "450521196807210034" not in stored and "13912345678" not in stored
        assert "4505**********0034" in stored and "139****5678" in stored
