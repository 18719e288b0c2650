"""The news form -> (values, errors): where it is posted, a title and a short text."""

from __future__ import annotations

from collections.abc import Container

from starlette.datastructures import FormData

from edge.kernel.i18n import gettext as _
from edge.kernel.text_input import text_problem

TITLE_MAX = 60
BODY_MAX = 1000


def parse_news(form: FormData, places: Container[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(values, errors); `places` are the scope codes this account may post to."""
    values = {
        "place": str(form.get("place", "")),
        "title": str(form.get("title", "")).strip(),
        "body": str(form.get("body", "")).strip(),
    }
    errors: dict[str, str] = {}
    if values["place"] not in places:
        errors["place"] = _("请选择发布到本镇还是哪个村。")
    for name, limit, multiline in (("title", TITLE_MAX, False), ("body", BODY_MAX, True)):
        problem = text_problem(values[name], multiline=multiline)
        if not values[name]:
            errors[name] = _("请填写标题。") if name == "title" else _("请填写内容。")
        elif problem is not None:
            errors[name] = str(problem)
        elif len(values[name]) > limit:
            errors[name] = _("最多 %(n)s 个字。") % {"n": limit}
    return values, errors
