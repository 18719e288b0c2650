"""China resident identity numbers (GB 11643-1999): normalize, verify, read birth date and sex."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from edge.kernel.i18n import gettext as _

MAX_AGE = 130
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
SHAPE = re.compile(r"[0-9]{17}[0-9X]")
FIRST17 = re.compile(r"[0-9]{17}")

# what people type from a phone IME: full-width digits and X, lowercase x
_TO_ASCII = str.maketrans(
    {**{chr(0xFF10 + digit): str(digit) for digit in range(10)}, "Ｘ": "X", "ｘ": "X", "x": "X"}
)


class InvalidIdNumber(ValueError):
    """An ID number that cannot be right; str() is a message for the person who typed it."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ResidentId:
    """A verified 18-character resident identity number and what it says about its holder."""

    number: str
    birth_date: date
    sex: str
    region_code: str

    def age_on(self, day: date) -> int:
        """Whole years of age on `day` (a 29 February birthday counts from 1 March)."""
        return age_between(self.birth_date, day)


def age_between(birth: date, day: date) -> int:
    """Whole years from `birth` to `day` (a 29 February birthday counts from 1 March)."""
    not_yet = int((day.month, day.day) < (birth.month, birth.day))
    return day.year - birth.year - not_yet



def normalize(raw: str) -> str:
    """Drop all whitespace, turn full-width digits into ASCII and x into X."""
    return "".join(raw.split()).translate(_TO_ASCII)


def check_character(first17: str) -> str:
    """The 18th character (0-9 or X) that GB 11643 computes from the first 17 digits."""
    if not FIRST17.fullmatch(first17):
        raise ValueError("check_character needs exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def birth_date_of(number: str) -> date | None:
    """The birth date written in digits 7-14, or None when no such day exists."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def sex_of(number: str) -> str:
    """Sex from the 17th digit (last of the sequence number): odd is "male", even "female"."""
    return "male" if int(number[16]) % 2 else "female"


def _verify_characters(number: str) -> None:
    if not SHAPE.fullmatch(number):
        message = _("身份证号码应为18位，由数字组成，最后一位可能是X，请核对。")
        raise InvalidIdNumber(message, "shape")
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber(_("身份证号码校验不通过，可能有输错的数字，请核对。"), "checksum")


def _verify_birth_date(birth: date | None, today: date) -> date:
    if birth is None:
        raise InvalidIdNumber(_("身份证号码中的出生日期不存在，请核对。"), "birth_date")
    if birth > today:
        raise InvalidIdNumber(_("身份证号码中的出生日期晚于今天，请核对。"), "future")
    if age_between(birth, today) > MAX_AGE:
        raise InvalidIdNumber(_("身份证号码中的出生日期距今超过130年，请核对。"), "too_old")
    return birth


def parse(raw: str, today: date) -> ResidentId:
    """Normalize and verify `raw`; raise InvalidIdNumber with a message saying what is wrong."""
    number = normalize(raw)
    _verify_characters(number)
    birth = _verify_birth_date(birth_date_of(number), today)
    return ResidentId(number=number, birth_date=birth, sex=sex_of(number), region_code=number[:6])
