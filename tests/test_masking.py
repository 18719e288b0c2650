"""Masking (DESIGN §6): names, phones and ID numbers, alone and inside log lines."""

from __future__ import annotations

import pytest

from edge.kernel.masking import mask_id_number, mask_name, mask_phone, mask_text

ID = "450521199001011232"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("李小明", "李**"),
        ("阿依古丽·买买提", "阿*******"),
        (" 张 三 ", "张*"),
        ("张", "*"),
        ("Wang Fang", "W*** F***"),
        ("José García", "J*** G***"),
        ("Li", "L***"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("0771-7201234", "*********34"),
        ("07717201234", "*********34"),
        ("1381234567", "********67"),
        ("12", "**"),
        ("", ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_mask_id_number_hides_the_birth_date():
    masked = mask_id_number(ID)
    assert masked == "4505**********1232"
    assert "19900101" not in masked and "1990" not in masked
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("450521 19900101 1232") == "4505**********1232"
    assert mask_id_number("45052119900101") == "************01"


def test_mask_text_masks_ids_and_phones_in_a_log_line():
    line = f"申请提交失败：张三 身份证{ID}，手机13812345678，代办员 13907710011。"
    masked = mask_text(line)
    assert masked == (
        "申请提交失败：张三 身份证4505**********1232，手机138****5678，代办员 139****0011。"
    )


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("id=11010519491231002x", "id=1101**********002x"),
        ("id=11010519491231002100;", "id=11010519491231002100;"),
        ("身份证 450521 19900101 1232 有误", "身份证 4505**********1232 有误"),
        ("tel:+8613812345678", "tel:+86138****5678"),
        ("电话 +86 138-1234-5678", "电话 +86 138****5678"),
        ("phone=13812345678&x=1", "phone=138****5678&x=1"),
        ("No. 2026112300001 at 2026-11-23 09:00", "No. 2026112300001 at 2026-11-23 09:00"),
        ("ID 110101199003074514", "ID 1101**********4514"),
    ],
)
def test_mask_text_cases(text, masked):
    assert mask_text(text) == masked


def test_mask_text_leaves_no_digits_of_the_birth_date():
    assert "19900101" not in mask_text(f"{ID} 与 {ID}")
