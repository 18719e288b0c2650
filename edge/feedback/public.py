"""How an item shows on a public page (and in Open311): the author as 张* or 匿名, the text in
staff's public version or masked (every ID and mobile number), the photo unless hidden."""

from __future__ import annotations

from typing import Any

from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name, public_text


def author(row: Any) -> str:
    """张* for a named author (unless staff hid the name), else 匿名."""
    name = row["author_name"]
    return mask_name(name) if name and not row["name_hidden"] else _("匿名")


def text(row: Any) -> str:
    """The published text: staff's version if they edited it, else the original, masked."""
    return public_text(row["public_body"] or row["body"])


def answer(row: Any) -> str:
    """The official answer as published (masked like any public text), '' before it."""
    return public_text(row["answer"] or "")


def photo_shown(row: Any) -> bool:
    """Whether the public page offers the photo."""
    return bool(row["photo_sha256"]) and not row["photo_hidden"]
