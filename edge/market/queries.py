"""The market's SQL at the edge: sellers, listings and their search, contacts, reports."""

from __future__ import annotations

from datetime import date

import aiosqlite
from ulid import ULID

from edge.kernel.masking import mask_name, public_text
from edge.market.forms import ListingDraft, SellerCheck
from edge.market.search import Filters, result_page
from edge.market.search import search_grams as grams_of

LISTING_COLUMNS = "l.*, s.kind AS seller_kind, s.suspended_at AS seller_suspended_at"


async def _one(db: aiosqlite.Connection, sql: str, params: tuple = ()) -> aiosqlite.Row | None:
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(db: aiosqlite.Connection, sql: str, params: tuple = ()) -> list[aiosqlite.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


def seller_label(kind: str, name: str, cooperative: str) -> str:
    """How a seller is shown everywhere public: 张* for a person, the cooperative's name (IDs
    and numbers masked) with its responsible person masked."""
    if kind == "cooperative":
        return f"{public_text(cooperative)}（{mask_name(name)}）"
    return mask_name(name)


# --- sellers ---------------------------------------------------------------------------------


async def save_seller(
    db: aiosqlite.Connection, check: SellerCheck, by: str, now: str, within: str = ""
) -> str | None:
    """Record a checked seller (again: a new phone or village, a fresh check); their id. None
    if they are already registered in a village outside `within` (a code prefix): another
    village's agent cannot take over a seller (and their buyers' SMS)."""
    found = await _one(
        db,
        "SELECT id, village_code FROM market_sellers WHERE id_number = ? AND cooperative = ?",
        (check.id_number, check.cooperative),
    )
    if found is not None and not found["village_code"].startswith(within):
        return None
    if found is not None:
        await db.execute(
            "UPDATE market_sellers SET name = ?, phone = ?, village_code = ?, checked_by = ?, "
            "checked_at = ? WHERE id = ?",
            (check.name, check.phone, check.village_code, by, now, found["id"]),
        )
        return str(found["id"])
    seller_id = str(ULID())
    await db.execute(
        """
        INSERT INTO market_sellers (id, kind, name, cooperative, id_number, phone, village_code,
            checked_by, checked_at, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            seller_id,
            check.kind,
            check.name,
            check.cooperative,
            check.id_number,
            check.phone,
            check.village_code,
            by,
            now,
            now,
        ),
    )
    return seller_id


async def seller(db: aiosqlite.Connection, seller_id: str) -> aiosqlite.Row | None:
    """One seller, or None."""
    return await _one(db, "SELECT * FROM market_sellers WHERE id = ?", (seller_id,))


async def sellers_in(db: aiosqlite.Connection, prefix: str) -> list[aiosqlite.Row]:
    """The sellers of a village (or every village of a township), with live listing counts."""
    return await _all(
        db,
        """
        SELECT s.*, (SELECT count(*) FROM market_listings l
                     WHERE l.seller_id = s.id AND l.state = 'active') AS active_listings
        FROM market_sellers s WHERE s.village_code LIKE ? || '%'
        ORDER BY s.village_code, s.created_at DESC LIMIT 500
        """,
        (prefix,),
    )


# --- listings --------------------------------------------------------------------------------


async def create_listing(
    db: aiosqlite.Connection,
    seller_row: aiosqlite.Row,
    draft: ListingDraft,
    *,
    by: str,
    token_hash: str,
    now: str,
) -> str:
    """A new active listing of a checked seller, from their village, confirmed by `by`."""
    listing_id = str(ULID())
    label = seller_label(seller_row["kind"], seller_row["name"], seller_row["cooperative"])
    await db.execute(
        """
        INSERT INTO market_listings (id, seller_id, seller_label, side, category, product,
            variety, grade, quantity, unit, price_fen, available_from, available_until,
            village_code, delivery_note, description, search_grams, state,
            origin_confirmed_by, origin_confirmed_at, posted_by, manage_token_hash,
            created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)
        """,
        (
            listing_id,
            seller_row["id"],
            label,
            draft.side,
            draft.category,
            draft.product,
            draft.variety,
            draft.grade,
            draft.quantity,
            draft.unit,
            draft.price_fen,
            draft.available_from.isoformat(),
            draft.available_until.isoformat(),
            seller_row["village_code"],
            draft.delivery_note,
            draft.description,
            grams_of(draft.product, draft.variety, draft.description),
            seller_row["checked_by"],
            seller_row["checked_at"],
            by,
            token_hash,
            now,
            now,
        ),
    )
    return listing_id


async def listing(db: aiosqlite.Connection, listing_id: str) -> aiosqlite.Row | None:
    """One listing with its seller's kind and suspension, or None."""
    return await _one(
        db,
        f"SELECT {LISTING_COLUMNS} FROM market_listings l "
        "JOIN market_sellers s ON s.id = l.seller_id WHERE l.id = ?",
        (listing_id,),
    )


async def listing_by_token(db: aiosqlite.Connection, token_hash: str) -> aiosqlite.Row | None:
    """The listing a management link opens, or None."""
    return await _one(
        db,
        f"SELECT {LISTING_COLUMNS} FROM market_listings l "
        "JOIN market_sellers s ON s.id = l.seller_id WHERE l.manage_token_hash = ?",
        (token_hash,),
    )


async def listings_of_seller(db: aiosqlite.Connection, seller_id: str) -> list[aiosqlite.Row]:
    """A seller's listings, newest first."""
    return await _all(
        db,
        "SELECT * FROM market_listings WHERE seller_id = ? ORDER BY created_at DESC LIMIT 100",
        (seller_id,),
    )


async def search(
    db: aiosqlite.Connection, filters: Filters, today: date
) -> tuple[list[aiosqlite.Row], bool]:
    """One page of live listings matching `filters`, and whether another page follows: one
    query (two nearest first), the words on the trigram index."""
    return await result_page(db, "market_listings", "market_listings_fts", filters, today)


async def set_state(db: aiosqlite.Connection, listing_id: str, state: str, now: str) -> None:
    """Sold out, withdrawn or active again."""
    await db.execute(
        "UPDATE market_listings SET state = ?, updated_at = ? WHERE id = ?",
        (state, now, listing_id),
    )


async def set_price(db: aiosqlite.Connection, listing_id: str, fen: int | None, now: str) -> None:
    """A new price per unit (None: 面议)."""
    await db.execute(
        "UPDATE market_listings SET price_fen = ?, updated_at = ? WHERE id = ?",
        (fen, now, listing_id),
    )


async def renew(db: aiosqlite.Connection, listing_id: str, until: date, now: str) -> None:
    """Move the end of the window to `until`."""
    await db.execute(
        "UPDATE market_listings SET available_until = ?, updated_at = ? WHERE id = ?",
        (until.isoformat(), now, listing_id),
    )


async def expiring(db: aiosqlite.Connection, first: date, last: date) -> list[aiosqlite.Row]:
    """Active listings whose window ends between `first` and `last`, with the seller's phone."""
    return await _all(
        db,
        """
        SELECT l.id, l.product, l.available_until, s.phone FROM market_listings l
        JOIN market_sellers s ON s.id = l.seller_id
        WHERE l.state = 'active' AND l.available_until BETWEEN ? AND ?
        """,
        (first.isoformat(), last.isoformat()),
    )


async def renewable_of_phone(
    db: aiosqlite.Connection, phone: str, first: date, last: date
) -> list[aiosqlite.Row]:
    """The active listings of the sellers with this phone whose window ends in [first, last]."""
    return await _all(
        db,
        """
        SELECT l.id, l.product, l.available_until FROM market_listings l
        JOIN market_sellers s ON s.id = l.seller_id
        WHERE s.phone = ? AND s.suspended_at IS NULL AND l.state = 'active'
            AND l.available_until BETWEEN ? AND ?
        """,
        (phone, first.isoformat(), last.isoformat()),
    )


# --- contacts --------------------------------------------------------------------------------


async def contact_counts(
    db: aiosqlite.Connection, buyer_key: str, source_key: str, since: str
) -> tuple[int, int]:
    """Contact requests since `since` by this buyer's number and from this address."""
    row = await _one(
        db,
        """
        SELECT (SELECT count(*) FROM market_contacts WHERE buyer_key = ? AND created_at >= ?),
               (SELECT count(*) FROM market_contacts WHERE source_key = ? AND created_at >= ?)
        """,
        (buyer_key, since, source_key, since),
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def record_contact(
    db: aiosqlite.Connection,
    *,
    contact_id: str,
    listing_id: str,
    buyer_phone: str,
    buyer_key: str,
    message: str,
    source_key: str,
    origin: str,
    dedupe_key: str,
    now: str,
) -> bool:
    """Record a contact request; False if one with this dedupe key was recorded before."""
    cursor = await db.execute(
        """
        INSERT INTO market_contacts (id, listing_id, buyer_phone, buyer_key, message,
            source_key, origin, dedupe_key, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
        """,
        (
            contact_id,
            listing_id,
            buyer_phone,
            buyer_key,
            message,
            source_key,
            origin,
            dedupe_key,
            now,
        ),
    )
    return cursor.rowcount == 1


async def asked_since(db: aiosqlite.Connection, listing_id: str, since: str) -> int:
    """How many different buyers asked about a listing since `since`."""
    row = await _one(
        db,
        "SELECT count(DISTINCT buyer_key) FROM market_contacts "
        "WHERE listing_id = ? AND created_at >= ?",
        (listing_id, since),
    )
    return int(row[0]) if row else 0


# --- reports and moderation ------------------------------------------------------------------


async def add_report(
    db: aiosqlite.Connection, listing_id: str, reason: str, note: str, source_key: str, now: str
) -> str:
    """A report about a listing, open until staff resolve it."""
    report_id = str(ULID())
    await db.execute(
        "INSERT INTO market_reports (id, listing_id, reason, note, source_key, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (report_id, listing_id, reason, note, source_key, now),
    )
    return report_id


async def reports_from(db: aiosqlite.Connection, source_key: str, since: str) -> int:
    """Reports sent from this address since `since`."""
    row = await _one(
        db,
        "SELECT count(*) FROM market_reports WHERE source_key = ? AND created_at >= ?",
        (source_key, since),
    )
    return int(row[0]) if row else 0


async def reported_listings(db: aiosqlite.Connection, prefix: str) -> list[aiosqlite.Row]:
    """Listings with open reports in the jurisdiction, and hidden ones, most reported first."""
    return await _all(
        db,
        """
        SELECT l.id, l.product, l.variety, l.seller_label, l.village_code, l.state,
            l.hidden_reason, l.created_at,
            count(r.id) FILTER (WHERE r.resolved_at IS NULL) AS open_reports,
            group_concat(DISTINCT r.reason) AS reasons
        FROM market_listings l LEFT JOIN market_reports r ON r.listing_id = l.id
        WHERE l.village_code LIKE ? || '%'
        GROUP BY l.id
        HAVING open_reports > 0 OR l.state = 'hidden'
        ORDER BY open_reports DESC, l.created_at DESC LIMIT 200
        """,
        (prefix,),
    )


async def reports_of(db: aiosqlite.Connection, listing_id: str) -> list[aiosqlite.Row]:
    """Every report about a listing, newest first."""
    return await _all(
        db,
        "SELECT * FROM market_reports WHERE listing_id = ? ORDER BY created_at DESC LIMIT 100",
        (listing_id,),
    )


async def resolve_reports(
    db: aiosqlite.Connection, listing_id: str, resolution: str, by: str, now: str
) -> None:
    """Close the listing's open reports."""
    await db.execute(
        "UPDATE market_reports SET resolved_at = ?, resolved_by = ?, resolution = ? "
        "WHERE listing_id = ? AND resolved_at IS NULL",
        (now, by, resolution, listing_id),
    )


async def hide(
    db: aiosqlite.Connection, listing_id: str, reason: str, suspend_after: int, now: str
) -> bool:
    """Hide a listing with a reason and count it against its seller; a seller hidden
    `suspend_after` times is suspended and all their live listings hidden. True if suspended."""
    await db.execute(
        "UPDATE market_listings SET state = 'hidden', hidden_reason = ?, updated_at = ? "
        "WHERE id = ?",
        (reason, now, listing_id),
    )
    row = await _one(
        db,
        "UPDATE market_sellers SET hidden_count = hidden_count + 1 WHERE id = "
        "(SELECT seller_id FROM market_listings WHERE id = ?) RETURNING id, hidden_count, "
        "suspended_at",
        (listing_id,),
    )
    if row is None or row["hidden_count"] < suspend_after or row["suspended_at"]:
        return False
    await db.execute("UPDATE market_sellers SET suspended_at = ? WHERE id = ?", (now, row["id"]))
    await db.execute(
        "UPDATE market_listings SET state = 'hidden', hidden_reason = 'seller suspended', "
        "updated_at = ? WHERE seller_id = ? AND state = 'active'",
        (now, row["id"]),
    )
    return True


async def restore(db: aiosqlite.Connection, listing_id: str, now: str) -> None:
    """Show a hidden listing again (the seller's count stays; a suspension is lifted by
    restoring: the count goes back below the limit)."""
    await db.execute(
        "UPDATE market_listings SET state = 'active', hidden_reason = '', updated_at = ? "
        "WHERE id = ? AND state = 'hidden'",
        (now, listing_id),
    )
    await db.execute(
        "UPDATE market_sellers SET hidden_count = max(hidden_count - 1, 0), suspended_at = NULL "
        "WHERE id = (SELECT seller_id FROM market_listings WHERE id = ?)",
        (listing_id,),
    )
