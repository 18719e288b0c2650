"""Resident ID numbers: checksum, normalization, birth date, sex and age, and the messages."""

from __future__ import annotations

from datetime import date

import pytest

from edge.kernel.id_numbers import InvalidIdNumber, ResidentId, check_character, normalize, parse

TODAY = date(2026, 11, 23)
FIRST17 = "45052119900101123"  # Hepu county (450521), born 1990-01-01, sequence 123


def valid(first17: str) -> str:
    return first17 + check_character(first17)


def refused(raw: str) -> InvalidIdNumber:
    with pytest.raises(InvalidIdNumber) as caught:
        parse(raw, TODAY)
    return caught.value


def test_check_character_of_the_standard_examples():
    # the worked examples printed in GB 11643-1999
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"


def test_check_character_needs_17_digits():
    with pytest.raises(ValueError):
        check_character("4505211990")
    with pytest.raises(ValueError):
        check_character("4505211990010112X")


def test_a_valid_number_is_read():
    number = valid(FIRST17)
    assert number == "450521199001011232"
    resident = parse(number, TODAY)
    assert resident == ResidentId(
        number=number, birth_date=date(1990, 1, 1), sex="male", region_code="450521"
    )


def test_sex_from_the_17th_digit():
    assert parse(valid("45052119900101122"), TODAY).sex == "female"
    assert parse(valid("45052119900101121"), TODAY).sex == "male"


def test_x_check_character_in_any_case_and_width():
    assert parse("11010519491231002X", TODAY).number == "11010519491231002X"
    assert parse("11010519491231002x", TODAY).number == "11010519491231002X"
    assert parse("１１０１０５１９４９１２３１００２Ｘ", TODAY).number == "11010519491231002X"


def test_normalize_drops_spaces_and_full_width():
    assert normalize(" 450521 19900101 123５ ") == "450521199001011235"
    assert normalize("450521\u300019900101123x") == "45052119900101123X"


def test_a_one_digit_typo_fails_the_checksum():
    number = valid(FIRST17)
    typo = number[:8] + ("1" if number[8] != "1" else "2") + number[9:]
    error = refused(typo)
    assert error.reason == "checksum"
    assert str(error) == "身份证号码校验不通过，可能有输错的数字，请核对。"


def test_every_single_digit_typo_is_caught():
    number = valid(FIRST17)
    for position in range(18):
        for replacement in "0123456789X":
            if replacement == number[position] or (replacement == "X" and position < 17):
                continue
            typo = number[:position] + replacement + number[position + 1 :]
            assert refused(typo).reason == "checksum", typo


@pytest.mark.parametrize(
    "raw", ["", "45052119900101123", "4505211990010112355", "4505211990010112X5", "身份证"]
)
def test_wrong_length_or_characters(raw):
    error = refused(raw)
    assert error.reason == "shape"
    assert str(error).startswith("身份证号码应为18位")


def test_february_30_is_refused():
    error = refused(valid("45052119900230123"))
    assert error.reason == "birth_date"
    assert "出生日期不存在" in str(error)


def test_month_13_and_day_0_are_refused():
    assert refused(valid("45052119901301123")).reason == "birth_date"
    assert refused(valid("45052119900100123")).reason == "birth_date"


def test_february_29_only_in_leap_years():
    assert parse(valid("45052120000229123"), TODAY).birth_date == date(2000, 2, 29)
    assert refused(valid("45052119000229123")).reason == "birth_date"


def test_birth_in_the_future_is_refused():
    error = refused(valid("45052120261124123"))
    assert error.reason == "future"
    assert "晚于今天" in str(error)
    assert parse(valid("45052120261123123"), TODAY).age_on(TODAY) == 0


def test_older_than_130_years_is_refused():
    assert refused("440524188001010014").reason == "too_old"
    assert parse(valid("45052118951124123"), TODAY).age_on(TODAY) == 130
    assert refused(valid("45052118951123123")).reason == "too_old"


def test_age_before_and_on_the_birthday():
    resident = parse(valid("45052119901124123"), TODAY)
    assert resident.age_on(TODAY) == 35
    assert resident.age_on(date(2026, 11, 24)) == 36


def test_age_of_a_leap_day_birth():
    resident = parse(valid("45052120000229123"), TODAY)
    assert resident.age_on(date(2018, 2, 28)) == 17
    assert resident.age_on(date(2018, 3, 1)) == 18
    assert resident.age_on(date(2020, 2, 29)) == 20
