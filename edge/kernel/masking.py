"""Masking for public pages, logs and errors (DESIGN §6): 张*, 138****5678, 4505**********1234;
and `public_text`, the one form in which free text appears publicly or in a sealed document."""

from __future__ import annotations

import re

# an 18-character ID number, also written in groups 6-8-4; any run of digits longer than that
# is something else (an order number) and left alone
ID_IN_TEXT = re.compile(r"(?<!\d)\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx](?!\d)")
# a mainland mobile number, optionally after +86 / 0086 / 86, also written 3-4-4
MOBILE_IN_TEXT = re.compile(r"(?<!\d)((?:\+|00)?86[ -]?)?(1\d{2}[ -]?\d{4}[ -]?\d{4})(?!\d)")
SEPARATORS = re.compile(r"[\s-]+")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


def _mask_all_but_last(value: str, keep: int) -> str:
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def _compact(value: str) -> str:
    return SEPARATORS.sub("", value)


def mask_name(name: str) -> str:
    """First character only (per word if Latin): 张三 -> 张*, Wang Fang -> W*** F***."""
    words = name.split()
    if not words:
        return ""
    if not HAN.search(name):
        return " ".join(word[0] + "***" for word in words)
    han = "".join(words)
    return "*" if len(han) == 1 else han[0] + "*" * (len(han) - 1)


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile number (11 digits from 1); anything else keeps only its last 2."""
    compact = _compact(phone)
    if len(compact) == 11 and compact.isdecimal() and compact[0] == "1":
        return compact[:3] + "****" + compact[7:]
    return _mask_all_but_last(compact, 2)


def mask_id_number(number: str) -> str:
    """4505**********1234: region prefix and last 4 only, never the birth date."""
    compact = _compact(number)
    if len(compact) == 18:
        return compact[:4] + "*" * 10 + compact[14:]
    return _mask_all_but_last(compact, 2)


def _mask_mobile_match(match: re.Match[str]) -> str:
    return (match.group(1) or "") + mask_phone(match.group(2))


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number inside free text, for log lines and errors."""
    without_ids = ID_IN_TEXT.sub(lambda match: mask_id_number(match.group()), text)
    return MOBILE_IN_TEXT.sub(_mask_mobile_match, without_ids)


def public_text(text: str) -> str:
    """Free text (an opinion, a note) as a public page or a sealed payload may carry it: every
    ID number and mobile number masked. Names cannot be found reliably in free text, so the
    forms that take such text warn staff that it is shown publicly."""
    return mask_text(text)
