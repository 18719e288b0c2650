"""The printable notice-board sheet (公开栏): any disclosure's content, sealed once.

A page builds a `Sheet` (plain, already masked lines) and `sealed` signs its payload with the
township's key the first time that exact content is printed; later prints of the same content
get the same seal, so the paper board, the web page and /verify/{id} say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import segno

from edge.kernel.masking import public_text
from edge.seals.signing import canonical, seal

KIND = "disclosure_sheet"


@dataclass(frozen=True)
class Sheet:
    """What a sheet says: title, village (or township), period, content lines, online URL."""

    title: str
    village: str
    period: str
    lines: tuple[str, ...]
    online: str

    def payload(self) -> dict[str, str]:
        """The sealed payload: masked text only (issue 12 finding 1), no date of printing."""
        return {
            "sheet_title": self.title,
            "village": self.village,
            "period": self.period,
            "content": public_text("\n".join(self.lines)),
            "online": self.online,
        }

    def qr_svg(self) -> str:
        """A QR code of the online version, as inline SVG."""
        return str(segno.make(self.online, error="m").svg_inline(scale=2, omitsize=False))


@dataclass(frozen=True)
class SealedSheet:
    """A sheet with the seal that certifies it and the day that content was first published."""

    sheet: Sheet
    seal_id: str
    published_on: str


async def sealed(
    db: aiosqlite.Connection, keys_dir: Path, office: str, sheet: Sheet, now: str
) -> SealedSheet:
    """The seal of this exact content, made now (inside the caller's write) if there is none."""
    found = await existing(db, sheet)
    if found is not None:
        return found
    seal_id = await seal(
        db, keys_dir, office=office, kind=KIND, application_id="", payload=sheet.payload(), now=now
    )
    return SealedSheet(sheet, seal_id, now[:10])


async def existing(db: aiosqlite.Connection, sheet: Sheet) -> SealedSheet | None:
    """The seal of this exact content if one was made, without writing (a read transaction)."""
    text = canonical(sheet.payload()).decode("utf-8")
    async with db.execute(
        "SELECT id, created_at FROM seals WHERE kind = ? AND payload = ? ORDER BY id LIMIT 1",
        (KIND, text),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else SealedSheet(sheet, row["id"], row["created_at"][:10])
