"""A listing's origin proof: product, village and township, the seller masked and the day the
village agent confirmed that the seller farms there, sealed with the village's key (as a
village certificate is) in `market_seals`; `/verify/{id}` checks it."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from edge.kernel.masking import public_text
from edge.seals.signing import seal


async def _name(db: aiosqlite.Connection, code: str) -> str:
    async with db.execute("SELECT name_zh FROM jurisdictions WHERE code = ?", (code,)) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else code


async def seal_origin(db: aiosqlite.Connection, keys_dir: Path, listing_id: str, now: str) -> str:
    """Seal the origin of a listing just written (in its transaction); the seal's id, also
    kept on the listing. No name, ID or phone is in the payload: the seller is masked."""
    async with db.execute("SELECT * FROM market_listings WHERE id = ?", (listing_id,)) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    village = row["village_code"]
    product = row["product"] + (f"（{row['variety']}）" if row["variety"] else "")
    payload = {
        "listing": listing_id,
        "product": public_text(product),
        "village": await _name(db, village),
        "township": await _name(db, village[:9] + "000"),
        "seller": row["seller_label"],
        "confirmed_on": row["origin_confirmed_at"][:10],
    }
    seal_id = await seal(
        db,
        keys_dir,
        office=village,
        kind="market_origin",
        application_id=listing_id,
        payload=payload,
        now=now,
        table="market_seals",
    )
    await db.execute(
        "UPDATE market_listings SET origin_seal_id = ? WHERE id = ?", (seal_id, listing_id)
    )
    return seal_id
