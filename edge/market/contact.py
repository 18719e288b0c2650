"""A buyer's contact request: who may be contacted, the limits per buyer number and address,
and delivery: recorded once, the seller texted once (the buyer's number and message)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

import aiosqlite

from edge.audit.log import append as audit
from edge.kernel.clock import stamp
from edge.kernel.masking import mask_phone
from edge.market import queries
from edge.sms.outbox import enqueue

PER_NUMBER_PER_DAY = 10  # a buyer asking more than this a day is not buying
PER_ADDRESS_PER_DAY = 30  # one market office or internet café behind one address
WINDOW = timedelta(days=1)
SELLER_LOCALE = "zh_Hans"


def buyer_key(phone: str) -> str:
    """The pseudonym a buyer's number is counted under (limits, this week's distinct buyers)."""
    return hashlib.sha256(f"cunban-market-buyer:{phone}".encode()).hexdigest()[:32]


def dedupe_key(listing_id: str, phone: str, message: str, day: date) -> str:
    """One request per listing, buyer, text and day: a form sent twice is one request."""
    raw = f"{listing_id}\n{phone}\n{message}\n{day.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def contactable(listing: aiosqlite.Row, today: date) -> bool:
    """Active, inside its window, seller not suspended: only then may buyers ask."""
    return (
        listing["state"] == "active"
        and listing["available_until"] >= today.isoformat()
        and not listing["seller_suspended_at"]
    )


def over_limit(by_number: int, by_address: int) -> bool:
    """Whether one more request from this number or address is too many today."""
    return by_number >= PER_NUMBER_PER_DAY or by_address >= PER_ADDRESS_PER_DAY


async def seller_phone(db: aiosqlite.Connection, listing_id: str) -> str | None:
    """The number the seller of a listing is texted at."""
    async with db.execute(
        "SELECT s.phone FROM market_listings l JOIN market_sellers s ON s.id = l.seller_id "
        "WHERE l.id = ?",
        (listing_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def deliver(
    db: aiosqlite.Connection,
    keys_dir: Path,
    listing: aiosqlite.Row,
    *,
    contact_id: str,
    buyer_phone: str,
    message: str,
    source_key: str,
    origin: str,
    dedupe: str,
    now: datetime,
) -> bool:
    """Record the request and queue the seller's SMS, in the caller's transaction, once: False
    (nothing new) if this request was recorded before."""
    at = stamp(now)
    fresh = await queries.record_contact(
        db,
        contact_id=contact_id,
        listing_id=listing["id"],
        buyer_phone=buyer_phone,
        buyer_key=buyer_key(buyer_phone),
        message=message,
        source_key=source_key,
        origin=origin,
        dedupe_key=dedupe,
        now=at,
    )
    if not fresh:
        return False
    phone = await seller_phone(db, listing["id"])
    assert phone is not None  # a listing always has its seller
    item = listing["product"] + (f"（{listing['variety']}）" if listing["variety"] else "")
    await enqueue(
        db,
        phone=phone,
        template="market_contact",
        params={"item": item, "phone": buyer_phone, "message": message or "请回电"},
        locale=SELLER_LOCALE,
        now=now,
        dedupe_key=f"market-contact:{contact_id}",
    )
    await record(db, keys_dir, listing, f"{origin}:{mask_phone(buyer_phone)}", at)
    return True


async def record(
    db: aiosqlite.Connection, keys_dir: Path, listing: aiosqlite.Row, result: str, at: str
) -> None:
    """A buyer's request in the audit log: sent (origin and number masked) or refused."""
    await audit(
        db,
        keys_dir,
        actor_id=None,
        role="public",
        jurisdiction_code=listing["village_code"],
        action="market_contact",
        object_type="market_listing",
        object_id=listing["id"],
        result=result,
        at=at,
    )
