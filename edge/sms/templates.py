"""SMS texts in the recipient's locale, each one segment: ≤ 70 characters, signature included.

Params: item (name, already in the recipient's language), code (tracking code), date, card,
link (a rating link: the closing texts with it fall back to their plain form when it leaves
too little room for the item's name). A `reply` (the answer to an SMS a resident sent) is a
text a feature already wrote: param text. `materials` (一次性告知: what to bring for a
supplement, sent after `returned`): params code and materials (names joined by "、"); as many
whole names as fit, then how many more.
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
    "urge",
    "escalation",
    "feedback_accepted",
    "feedback_answered",
    "feedback_urged",
)
RATING_TEMPLATES = ("rate_fix",)  # no tracking code: params item and link
CARDS = ("yellow", "red")
# texts that carry the rating link (好差评) when given one and it leaves room for the item's name
WITH_LINK = ("approved", "rejected", "rate_fix")
MIN_ITEM_ROOM = 6
REPLY = "reply"
LOGIN_CODE = "login_code"  # a resident's sign-in code (param code)
MATERIALS = "materials"
SEPARATOR = "、"
# the market's texts to a seller (params: item, url, phone, message, date); no tracking code
MARKET_TEMPLATES = ("market_posted", "market_contact", "market_expiring")


class TemplateError(ValueError):
    """An unknown template, a missing parameter, or a text that cannot fit one SMS."""


def _deadline_text(card: str) -> str:
    if card == "yellow":
        return _("【村办】黄牌：{item}（{code}）{date}到期，请尽快办理")
    if card == "red":
        return _("【村办】红牌：{item}（{code}）{date}到期，已超期")
    raise TemplateError(f"deadline card must be yellow or red, not {card!r}")


def _market_text(template: str) -> str:
    if template == "market_posted":
        return _("【村办】{item}已上架，管理：{url}")
    if template == "market_contact":
        return _("【村办】买家{phone}问{item}：{message}")
    return _("【村办】您的{item}将于{date}下架，回复XQ续期30天")


def _text(template: str, params: Mapping[str, str]) -> str:
    """The translated text of `template` with its {placeholders} still in it."""
    if template == "accepted":
        return _("【村办】{item}已受理，查询码{code}，{date}前办结。")
    if template == "returned":
        return _("【村办】{item}（{code}）需补正材料，请到村便民服务点补交。")
    if params.get("link") and template in WITH_LINK:
        return _with_link(template)
    if template == "approved":
        return _("【村办】{item}（{code}）已办结，审批通过。")
    if template == "rejected":
        return _("【村办】{item}（{code}）未获批准，原因可凭查询码查询或问代办员。")
    if template == "deadline":
        return _deadline_text(params.get("card", ""))
    if template == "rate_fix":
        return _("【村办】您对{item}的差评已整改，请回复1-5再评价（1为非常满意）。")
    if template in MARKET_TEMPLATES:
        return _market_text(template)
    if template == "urge":
        return _("【村办】催办：{item}（{code}）期限{date}，请尽快办理")
    if template == "escalation":
        return _("【村办】督办：{item}（{code}）{date}到期，超期未办，请督促")
    if template == "feedback_accepted":
        return _("【村办】您的{item}已受理，查询码{code}，{date}前答复。")
    if template == "feedback_answered":
        return _("【村办】您的{item}（{code}）已答复，凭查询码查看并评价。")
    if template == "feedback_urged":
        return _("【村办】催办：{item}（{code}）{date}到期，请尽快答复。")
    raise TemplateError(f"unknown SMS template {template!r}")


def _with_link(template: str) -> str:
    """The closing texts with the rating link (the tracking code is on the link's page)."""
    if template == "approved":
        return _("【村办】{item}已办结，获批准。评价请回1-5或点{link}")
    if template == "rejected":
        return _("【村办】{item}未获批准，原因和评价见{link}，或回1-5评价")
    if template == "rate_fix":
        return _("【村办】您对{item}的差评已整改，请再评价：回1-5或点{link}")
    raise TemplateError(f"SMS template {template!r} takes no link")


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


def _with_room(template: str, params: dict[str, str], locale: str) -> dict[str, str]:
    """`params`, without the link when the template takes none or it leaves too little room
    for the item's name (the plain text is sent then)."""
    if not params.get("link"):
        return params
    if template in WITH_LINK:
        with in_locale(locale):
            text = _text(template, params)
        if MAX_LENGTH - len(_fill(text, params, "")) >= MIN_ITEM_ROOM:
            return params
    return {name: value for name, value in params.items() if name != "link"}


def _reply(text: str) -> str:
    if not text or len(text) > MAX_LENGTH:
        raise TemplateError(f"an SMS reply must be 1-{MAX_LENGTH} characters, not {len(text)}")
    return text


def _materials_text(params: Mapping[str, str], locale: str) -> str:
    names = [name for name in params.get("materials", "").split(SEPARATOR) if name]
    if not names:
        raise TemplateError("the materials SMS needs at least one material")
    with in_locale(locale):
        whole = _("【村办】{code}需补正，请带齐：{materials}")
        cut = _("{materials}等{count}项")
        joiner = _("、")
    for shown in range(len(names), 0, -1):
        listed = joiner.join(names[:shown])
        if shown < len(names):
            listed = cut.format(materials=listed, count=len(names))
        body = whole.format(code=params.get("code", ""), materials=listed)
        if len(body) <= MAX_LENGTH:
            return body
    first = cut.format(materials="", count=len(names))
    room = MAX_LENGTH - len(whole.format(code=params.get("code", ""), materials=first))
    return whole.format(
        code=params.get("code", ""),
        materials=cut.format(materials=_shorten(names[0], room), count=len(names)),
    )


def render(template: str, params: dict[str, str], locale: str) -> str:
    """One SMS body in `locale`; a long item name is cut with …, never the tracking code."""
    if template == REPLY:
        return _reply(params.get("text", ""))
    if template == MATERIALS:
        return _materials_text(params, locale)
    if template == LOGIN_CODE:
        with in_locale(locale):
            text = _("【村办】登录验证码{code}，10分钟内有效，请勿告诉他人。")
        return text.format(code=params.get("code", ""))
    params = _with_room(template, params, locale)
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
