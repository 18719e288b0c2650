"""A seller's renewal by SMS reply: "续期" or "XQ" from the phone of a seller whose listing
ends within 3 days (or ended within the last 7) renews each such listing for 30 more days."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import aiosqlite

from edge.audit.log import append as audit
from edge.kernel.i18n import format_date, in_locale
from edge.kernel.i18n import gettext as _
from edge.market import queries
from edge.market.forms import DEFAULT_DAYS, MAX_DAYS
from edge.settings import Settings
from edge.sms.inbound import InboundSms
from edge.workdays.local import local_today

WORDS = {"续期", "XQ", "续", "续期30天"}
NOTICE_DAYS = 3  # the reminder goes out this many days before the end
GRACE_DAYS = 7  # a reply after the end still renews, this long
SELLER_LOCALE = "zh_Hans"


def is_renewal(text: str) -> bool:
    """Whether a reply asks to renew (spaces and punctuation ignored, any case)."""
    return re.sub(r"[\W_]+", "", text).upper() in WORDS


def renewed_until(current: str, today: date) -> date:
    """DEFAULT_DAYS more from the later of today and the current end, at most MAX_DAYS ahead
    (so a second renewal the same day changes nothing more)."""
    start = max(today, date.fromisoformat(current))
    return min(start + timedelta(days=DEFAULT_DAYS), today + timedelta(days=MAX_DAYS))


async def claim_sms(db: aiosqlite.Connection, sms: InboundSms, settings: Settings) -> str | None:
    """Renew the sender's listings about to end (None, touching nothing, if the message is not
    a renewal or the sender has no such listing); the reply says until when."""
    if not is_renewal(sms.text):
        return None
    now = datetime.fromisoformat(sms.received_at)
    today = local_today(now, settings.web.timezone)
    rows = await queries.renewable_of_phone(
        db, sms.phone, today - timedelta(days=GRACE_DAYS), today + timedelta(days=NOTICE_DAYS)
    )
    if not rows:
        return None
    until = today
    for row in rows:
        until = renewed_until(row["available_until"], today)
        await queries.renew(db, row["id"], until, sms.received_at)
        await audit(
            db,
            settings.keys_dir,
            actor_id=None,
            role="seller",
            jurisdiction_code="",
            action="market_renew",
            object_type="market_listing",
            object_id=row["id"],
            result="sms",
            at=sms.received_at,
        )
    with in_locale(SELLER_LOCALE):
        return _("【村办】已续期{n}条供求信息，展示到{date}。").format(
            n=len(rows), date=format_date(until, "short")
        )
