"""The feature-phone channel: an applicant with a rating invitation replies 1-5 to the SMS
(1 非常满意 … 5 非常不满意); changes within 24 hours like the other channels."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import aiosqlite

from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import in_locale
from edge.ratings import queries
from edge.ratings.levels import INDICATORS, label
from edge.ratings.recording import Given, RatingClosed, record
from edge.settings import Settings
from edge.sms.inbound import InboundSms
from edge.workdays.working_days import load_working_days

REPLY_LOCALE = "zh_Hans"
# the handler is given no settings: the node's day is counted in the default zone, and the
# yellow window does not matter to a due date


def digit_of(text: str) -> int | None:
    """The level a reply gives: one digit 1-5 (full-width too), else None."""
    text = unicodedata.normalize("NFKC", text).strip().rstrip("。.!！")
    return int(text) if len(text) == 1 and text in "12345" else None


async def claim_sms(db: aiosqlite.Connection, sms: InboundSms, settings: Settings) -> str | None:
    """Rate the newest invitation sent to the sender; None (untouched) if the text is not a
    digit 1-5 or the sender has no invitation."""
    level = digit_of(sms.text)
    if level is None:
        return None
    row = await queries.latest_for_phone(db, sms.phone)
    if row is None:
        return None
    now = datetime.fromisoformat(sms.received_at)
    days = await load_working_days(db, now, settings.web.timezone, 1)
    kept = {name: row[name] for name in INDICATORS}
    with in_locale(REPLY_LOCALE):
        try:
            await record(db, row, Given(level, kept, row["comment"]), "sms", now, days)
        except RatingClosed:
            return _("【村办】评价提交已超过24小时，不能再修改。谢谢您的参与！")
        return _("【村办】已收到您的评价：{level}。24小时内可回复1-5修改。谢谢！").format(
            level=label(level)
        )
