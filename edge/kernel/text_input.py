"""What a person may type: the one check of every name field and of every free-text field.

Text with control or invisible formatting characters is refused, never silently cleaned.
"""

from __future__ import annotations

import re
import unicodedata

from babel.support import LazyProxy

from edge.kernel.i18n import lazy_gettext

BAD_NAME = lazy_gettext("姓名只能包含文字、间隔号“·”和空格。")
BAD_TEXT = lazy_gettext("不能包含控制字符或不可见的格式字符，请删去后再提交。")

MIDDLE_DOT = "·"
# the dots people type between the parts of a name (· ・ ‧ •), all stored as ·
OTHER_DOTS = re.compile("[\u30fb\u2027\u2022\uff65]")
SPACES = re.compile(r"\s+")
# allowed in a text area: line breaks and tabs; everything else of category Cc is refused
LINE_CHARACTERS = frozenset("\n\r\t")
# format characters that reorder or hide text (bidi overrides and isolates)
HIDING = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normal_name(raw: str) -> str:
    """A name as stored: NFC, spaces collapsed and trimmed, every middle dot as ·."""
    name = unicodedata.normalize("NFC", raw)
    return SPACES.sub(" ", OTHER_DOTS.sub(MIDDLE_DOT, name)).strip()


def name_problem(name: str) -> LazyProxy | None:
    """Why `name` (as `normal_name` gives it) is not a name, or None: letters of any script
    (Han characters included, with their combining marks), `·` and spaces only."""
    previous = ""
    for character in name:
        kind = unicodedata.category(character)
        letter = kind.startswith("L") or (kind.startswith("M") and previous.isalpha())
        if not (letter or character in (" ", MIDDLE_DOT)):
            return BAD_NAME
        previous = character if kind.startswith("L") else previous
    return None


def text_problem(text: str, *, multiline: bool = False) -> LazyProxy | None:
    """Why free text may not be stored, or None: a control character (a text area may hold
    line breaks and tabs), a lone surrogate, a noncharacter, or a bidi override."""
    for character in text:
        if multiline and character in LINE_CHARACTERS:
            continue
        kind = unicodedata.category(character)
        if kind in ("Cc", "Cs") or character in HIDING or _noncharacter(character):
            return BAD_TEXT
    return None


def _noncharacter(character: str) -> bool:
    code = ord(character)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE
