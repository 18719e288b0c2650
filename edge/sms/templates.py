"""SMS texts in the recipient's locale, each one segment: ≤ 70 characters, signature included.

Params: item (name, already in the recipient's language), code (tracking code), date, card;
the feedback_* templates take the feedback kind's name as the item.
A `reply` (the answer to an SMS a resident sent) is a text a feature already wrote: param text.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import in_locale

MAX_LENGTH = 70
ELLIPSIS = "…"
TEMPLATES = (
    "accepted",
    "returned",
    "approved",
    "rejected",
    "deadline",
    "feedback_accepted",
    "feedback_answered",
    "feedback_urged",
)
CARDS = ("yellow", "red")
REPLY = "reply"


class TemplateError(ValueError):
    """An unknown template, a missing parameter, or a text that cannot fit one SMS."""


def _deadline_text(card: str) -> str:
    if card == "yellow":
        return _("【村办】黄牌：{item}（{code}）{date}到期，请尽快办理")
    if card == "red":
        return _("【村办】红牌：{item}（{code}）{date}到期，已超期")
    raise TemplateError(f"deadline card must be yellow or red, not {card!r}")


def _text(template: str, params: Mapping[str, str]) -> str:
    """The translated text of `template` with its {placeholders} still in it."""
    if template == "accepted":
        return _("【村办】{item}已受理，查询码{code}，{date}前办结。")
    if template == "returned":
        return _("【村办】{item}（{code}）需补正材料，请到村便民服务点补交。")
    if template == "approved":
        return _("【村办】{item}（{code}）已办结，审批通过。")
    if template == "rejected":
        return _("【村办】{item}（{code}）未获批准，原因可凭查询码查询或问代办员。")
    if template == "deadline":
        return _deadline_text(params.get("card", ""))
    if template == "feedback_accepted":
        return _("【村办】您的{item}已受理，查询码{code}，{date}前答复。")
    if template == "feedback_answered":
        return _("【村办】您的{item}（{code}）已答复，凭查询码查看并评价。")
    if template == "feedback_urged":
        return _("【村办】催办：{item}（{code}）{date}到期，请尽快答复。")
    raise TemplateError(f"unknown SMS template {template!r}")


def _fill(text: str, params: Mapping[str, str], item: str) -> str:
    try:
        return text.format_map({**params, "item": item})
    except KeyError as missing:
        raise TemplateError(f"SMS template needs parameter {missing}") from None


def _shorten(item: str, room: int) -> str:
    """`item` cut with an ellipsis to at most `room` characters."""
    if len(item) <= room:
        return item
    return item[: room - 1].rstrip() + ELLIPSIS


def _reply(text: str) -> str:
    if not text or len(text) > MAX_LENGTH:
        raise TemplateError(f"an SMS reply must be 1-{MAX_LENGTH} characters, not {len(text)}")
    return text


def render(template: str, params: dict[str, str], locale: str) -> str:
    """One SMS body in `locale`; a long item name is cut with …, never the tracking code."""
    if template == REPLY:
        return _reply(params.get("text", ""))
    with in_locale(locale):
        text = _text(template, params)
    item = str(params.get("item", ""))
    room = MAX_LENGTH - len(_fill(text, params, ""))
    if room < 2 and item:
        raise TemplateError(f"SMS template {template!r} leaves no room for the item name")
    body = _fill(text, params, _shorten(item, room))
    if len(body) > MAX_LENGTH:
        raise TemplateError(f"SMS template {template!r} renders {len(body)} > 70 characters")
    return body
