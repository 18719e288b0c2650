"""What a name and a free-text field accept (issue 12, finding 10): letters, Han characters,
`·` and spaces in a name; no control or bidi characters in text (refused, not cleaned; a text
area keeps line breaks and tabs). One check, kernel.text_input, behind every form."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN, AGENT_QIANJIANG, QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import ITEMS, intake_data, intake_files, open_form, rows, submit
from tests.test_applications import _accept, _decide

BAD_NAMES = ["<b>潘</b>桂兰", "潘桂兰😀", "潘\x00桂兰", "潘\x1b桂兰", "潘桂兰\u202e", "潘桂兰3"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_with_markup_emoji_or_control_characters_is_refused(client, settings, name):
    login(client, AGENT_QIANJIANG)
    response = submit(client, "CW-001", name=name)
    assert response.status_code == 400
    assert "姓名只能包含文字、间隔号“·”和空格。" in response.text
    assert rows(settings, "SELECT count(*) FROM applications")[0][0] == 0
    assert rows(settings, "SELECT count(*) FROM seals")[0][0] == 0


def test_the_name_message_is_in_english_too(client, settings):
    login(client, AGENT_QIANJIANG)
    client.cookies.set("cb_lang", "en")
    response = submit(client, "CW-001", name="潘<i>桂兰")
    assert response.status_code == 400
    assert "A name may contain only letters" in response.text


@pytest.mark.parametrize("name", ["潘桂兰", "阿依古丽·买买提", "Wang Fang", "扎西 顿珠"])
def test_real_names_are_accepted(client, settings, name):
    login(client, AGENT_QIANJIANG)
    assert submit(client, "CW-001", name=name).status_code == 303
    assert rows(settings, "SELECT applicant_name FROM applications")[0][0] == name


def test_an_account_name_goes_through_the_same_check(client, settings):
    login(client, ADMIN)
    page = client.get("/admin/accounts/new")
    assert page.status_code == 200, page.text
    data = {
        "csrf_token": csrf_of(page.text),
        "phone": "13807719999",
        "name": "<script>x</script>",
        "role": "village_agent",
        "jurisdiction_code": QIANJIANG,
        "password": "a long enough password",
    }
    response = client.post("/admin/accounts/new", data=data, follow_redirects=False)
    assert response.status_code == 400
    assert "姓名只能包含文字、间隔号“·”和空格。" in response.text
    assert rows(settings, "SELECT count(*) FROM accounts WHERE phone = '13807719999'")[0][0] == 0


@pytest.mark.parametrize("opinion", ["材料\x00不全", "材料\x07不全", "材料不全\u202e"])
def test_an_opinion_with_control_characters_is_refused_and_nothing_changes(
    client, settings, opinion
):
    application_id = _accept(client, "NY-001")
    refused = _decide(client, settings, STAFF, application_id, "township", "reject", opinion)
    assert refused.status_code == 400
    assert "不能包含控制字符" in refused.text
    step = rows(settings, "SELECT status, opinion FROM steps WHERE department_code = 'township'")
    assert [tuple(s) for s in step] == [("active", "")]


def test_an_opinion_keeps_its_line_breaks_and_tabs(client, settings):
    application_id = _accept(client, "NY-001")
    opinion = "第一，材料齐全；\r\n第二，\t符合条件。"
    done = _decide(client, settings, STAFF, application_id, "township", "approve", opinion)
    assert done.status_code == 303
    step = rows(settings, "SELECT opinion FROM steps WHERE department_code = 'township'")
    assert step[0][0] == opinion


def test_an_eform_text_with_a_nul_is_refused(client, settings):
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "CW-001")
    fields = {f"f_{name}": "x\x00y" for name in _text_fields("CW-001")}
    assert fields, "CW-001 has a text field"
    data = intake_data("CW-001") | fields | {"csrf_token": token, "idempotency_key": key}
    response = client.post("/agent/apply/CW-001", data=data, files=intake_files("CW-001"))
    assert response.status_code == 400
    assert "不能包含控制字符" in response.text
    assert rows(settings, "SELECT count(*) FROM applications")[0][0] == 0


def _text_fields(code: str) -> list[str]:

    return [field["name"] for field in ITEMS[code]["fields"] if field["type"] == "text"]
