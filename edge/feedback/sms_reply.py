"""我有话说 by SMS (the last inbound handler, the catch-all): any text of at least
MIN_PLAIN_TEXT characters becomes an item of the sender's village (their account's, or a
village the text names, else the township's), routed as `other`: of the kind its first word
names (反映, 投诉, 咨询, 求助, 建议, 留言, 我有话说), else a consultation when it asks, a
problem when it does not. The reply carries the tracking code and the answer date. A short
greeting is left to the node's help reply; at most PER_PHONE_PER_DAY items a phone a day."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from edge.applications.tracking_code import format_code
from edge.feedback import lifecycle, queries
from edge.jurisdictions import queries as places
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import in_locale
from edge.settings import Settings
from edge.sms.inbound import InboundSms
from edge.workdays.working_days import load_working_days

REPLY_LOCALE = "zh_Hans"
MIN_TEXT = 2
MIN_PLAIN_TEXT = 6  # without a kind word: "你好", "收到" are not a problem to follow up
QUESTION_MARKS = ("？", "?", "请问", "怎么", "如何", "吗")
PER_PHONE_PER_DAY = 5
# the first word names the kind; what follows (after a space, colon or plus) is the text
KIND_WORDS = {
    "我有话说": "problem",
    "留言": "problem",
    "反映": "problem",
    "咨询": "consultation",
    "投诉": "complaint",
    "建议": "suggestion",
    "求助": "help",
}
SEPARATORS = " 　:：+＋,，、"


async def _village(db: aiosqlite.Connection, sms: InboundSms, township: str) -> str:
    """The sender's village: their account's, or one the text names, else the township."""
    async with db.execute(
        "SELECT jurisdiction_code FROM accounts WHERE phone = ? AND active = 1", (sms.phone,)
    ) as cursor:
        account = await cursor.fetchone()
    villages = await places.villages_of(db, township)
    codes = {v["code"] for v in villages}
    if account and account["jurisdiction_code"] in codes:
        return str(account["jurisdiction_code"])
    for village in villages:
        name = village["name_zh"]
        if name in sms.text or (len(name) > 2 and name.removesuffix("村") in sms.text):
            return str(village["code"])
    return township


def kind_and_text(text: str) -> tuple[str, str] | None:
    """(kind, the text) of an SMS: the kind its first word names (the rest is the text), else
    a consultation or a problem; None for a text too short to follow up."""
    for word, kind in KIND_WORDS.items():
        if text.startswith(word):
            rest = text[len(word) :].lstrip(SEPARATORS).strip()
            return (kind, rest) if len(rest) >= MIN_TEXT else None
    if len(text) < MIN_PLAIN_TEXT:
        return None
    asks = any(mark in text for mark in QUESTION_MARKS)
    return ("consultation" if asks else "problem", text)


async def claim_sms(db: aiosqlite.Connection, sms: InboundSms, settings: Settings) -> str | None:
    """A new item from an SMS; the reply names its tracking code and answer date. None for a
    text too short, or over the phone's daily limit."""
    parsed = kind_and_text(sms.text)
    township = settings.township_code
    if parsed is None:
        return None
    now = datetime.fromisoformat(sms.received_at)
    if await queries.recent_from_phone(db, sms.phone, stamp(now - timedelta(days=1))) >= (
        PER_PHONE_PER_DAY
    ):
        return None
    days = await load_working_days(db, now, settings.web.timezone, 1)
    new = lifecycle.NewItem(
        village_code=await _village(db, sms, township),
        kind=parsed[0],
        category="other",
        channel="sms",
        body=parsed[1],
        author_phone=sms.phone,
    )
    raised = await lifecycle.raise_item(db, new, now, days, sms=False)
    with in_locale(REPLY_LOCALE):
        return _("【村办】已收到您的留言，查询码{code}，{date}前答复。").format(
            code=format_code(raised.code), date=raised.due_on
        )
