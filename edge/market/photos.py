"""A listing's photos: up to three from the form, re-encoded on the node with the intake's code
(edge/blobs, edge/intake/uploads), recorded for upload to the store, served by position."""

from __future__ import annotations

import aiosqlite
from starlette.datastructures import FormData, UploadFile

from edge.applications.lifecycle import Upload
from edge.blobs.images import PhotoRejected
from edge.intake.uploads import MAX_UPLOAD, record_blobs, store_photo
from edge.kernel.blobstore import BlobStore
from edge.kernel.i18n import gettext as _

MAX_PHOTOS = 3
MAX_FORM_BYTES = MAX_PHOTOS * MAX_UPLOAD + 1_000_000  # three camera originals without JS
FIELD = "photos"


async def from_form(store: BlobStore, form: FormData) -> tuple[list[Upload], str]:
    """The photos of a listing form, re-encoded and stored; (uploads, problem or '')."""
    files = [f for f in form.getlist(FIELD) if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_PHOTOS:
        return [], _("最多 {n} 张照片。").format(n=MAX_PHOTOS)
    uploads = []
    for position, file in enumerate(files, start=1):
        raw = await file.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            return [], _("照片太大了，请重新拍摄。")
        try:
            uploads.append(await store_photo(store, raw, "market", str(position)))
        except PhotoRejected as exc:
            return [], str(exc)
    return uploads, ""


async def attach(
    db: aiosqlite.Connection, store: BlobStore, listing_id: str, uploads: list[Upload], now: str
) -> None:
    """Record the photos of a new listing, in its transaction (and their blobs for upload)."""
    for position, upload in enumerate(uploads, start=1):
        await record_blobs(db, store, upload, now)
        await db.execute(
            """
            INSERT INTO market_photos (listing_id, position, sha256, content_type, thumb_sha256,
                thumb_content_type, width, height)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                listing_id,
                position,
                upload.sha256,
                upload.content_type,
                upload.thumb_sha256,
                upload.thumb_content_type,
                upload.width,
                upload.height,
            ),
        )


async def of_listing(db: aiosqlite.Connection, listing_id: str) -> list[aiosqlite.Row]:
    """A listing's photos, in order."""
    async with db.execute(
        "SELECT * FROM market_photos WHERE listing_id = ? ORDER BY position", (listing_id,)
    ) as cursor:
        return list(await cursor.fetchall())


async def one(db: aiosqlite.Connection, listing_id: str, position: int) -> aiosqlite.Row | None:
    """One photo of a listing by position, or None."""
    async with db.execute(
        "SELECT * FROM market_photos WHERE listing_id = ? AND position = ?",
        (listing_id, position),
    ) as cursor:
        return await cursor.fetchone()
