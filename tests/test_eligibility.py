"""Conditions intake checks from ID numbers (the catalog's age_checks): a 78-year-old is not
accepted for the 80+ allowance, nor a 4-year-old for first grade, and the agent is told why."""

from __future__ import annotations

from datetime import date

import pytest

from edge.applications.eligibility import age_day, problems
from edge.catalog.item import AgeCheck, Bilingual, CatalogItem
from edge.catalog.loader import from_parts, read_catalog, read_parts
from tests.conftest import AGENT_QIANJIANG, login
from tests.intake_support import intake_data, intake_files, open_form, resident_id, rows

TODAY = date(2026, 11, 23)  # MovableClock's first day


def _submit(client, code: str, **data: str):
    token, key = open_form(client, code)
    form = intake_data(code) | {"csrf_token": token, "idempotency_key": key} | data
    return client.post(
        f"/agent/apply/{code}", data=form, files=intake_files(code), follow_redirects=False
    )


def test_a_78_year_old_is_refused_the_80_plus_allowance_with_the_rule_and_age(client, settings):
    login(client, AGENT_QIANJIANG)
    before = len(rows(settings, "SELECT id FROM applications"))
    refused = _submit(client, "MZ-001", id_number=resident_id("19480301"))
    assert refused.status_code == 400
    assert "不符合办理条件：年满80周岁。按身份证号码，现在是 78 周岁。" in refused.text
    assert len(rows(settings, "SELECT id FROM applications")) == before
    accepted = _submit(client, "MZ-001", id_number=resident_id("19460301"))
    assert accepted.status_code == 303, accepted.text


def test_first_grade_counts_the_childs_age_on_31_august_from_the_childs_id(client, settings):
    login(client, AGENT_QIANJIANG)
    page = client.get("/agent/apply/JY-001")
    assert "f_child_birth_date" not in page.text  # the birth date is in the child's ID number
    four = _submit(client, "JY-001", f_child_id_number=resident_id("20220601", "012"))
    assert four.status_code == 400
    assert "按身份证号码，到 2027-08-31 是 5 周岁。" in four.text
    six_by_august = _submit(client, "JY-001", f_child_id_number=resident_id("20210831", "012"))
    assert six_by_august.status_code == 303, six_by_august.text


def test_an_orphan_allowance_child_must_be_under_18(client):
    login(client, AGENT_QIANJIANG)
    adult = _submit(client, "MZ-007", f_child_id_number=resident_id("20080101", "012"))
    assert adult.status_code == 400 and "儿童未满18周岁" in adult.text


def test_outbox_submissions_get_the_same_refusal_naming_the_field(client):
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, "MZ-001")
    form = intake_data("MZ-001", id_number=resident_id("19480301"))
    form |= {"csrf_token": token, "idempotency_key": key}
    answer = client.post(
        "/agent/apply/MZ-001",
        data=form,
        files=intake_files("MZ-001"),
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"]["id_number"].startswith("申请人身份证号码：不符合办理条件")


def _check(min_age: int | None = None, max_age: int | None = None, as_of: str | None = None):
    return AgeCheck("applicant", min_age, max_age, as_of, Bilingual("规则", "rule"))


def test_the_day_the_age_counts_on():
    assert age_day(_check(80), TODAY) == TODAY
    assert age_day(_check(6, as_of="08-31"), date(2026, 5, 1)) == date(2026, 8, 31)
    assert age_day(_check(6, as_of="08-31"), date(2026, 8, 31)) == date(2026, 8, 31)
    assert age_day(_check(6, as_of="08-31"), date(2026, 9, 1)) == date(2027, 8, 31)


def test_the_80th_birthday_itself_is_in_and_the_day_before_is_out():
    item = next(i for i in read_catalog().items if i["code"] == "MZ-001")
    allowance = CatalogItem.from_dict(item)
    assert problems(allowance, date(1946, 11, 23), {}, TODAY) == {}
    assert "id_number" in problems(allowance, date(1946, 11, 24), {}, TODAY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"of": "spouse_id_number"}, "of: must be applicant or an id_number field"),
        ({"min": None}, "needs min and/or max"),
        ({"min": 200}, "needs min and/or max"),
        ({"as_of": "31-08"}, "as_of: must be a day of the year"),
    ],
)
def test_a_wrong_age_check_is_refused_when_the_catalog_loads(change, message):
    head, items = read_parts()
    item = next(i for i in items if i["code"] == "MZ-001")
    check = {"of": "applicant", "min": 80, "rule": {"zh": "年满80周岁", "en": "80+"}}
    item["age_checks"] = [{k: v for k, v in (check | change).items() if v is not None}]
    with pytest.raises(ValueError, match=message):
        from_parts(head, items)
