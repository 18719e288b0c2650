"""A listing's photos: up to three from the form, re-encoded on the node with the intake's code
(edge/blobs, edge/intake/uploads), or sent ahead by the agent app's outbox; recorded for upload
to the store, served by position."""

from __future__ import annotations

from collections.abc import Set

import aiosqlite
from starlette.datastructures import FormData, UploadFile

from edge.applications.lifecycle import Upload
from edge.blobs.images import PhotoRejected
from edge.intake.uploads import MAX_UPLOAD, kept_upload, record_blobs, store_photo
from edge.kernel.blobstore import BlobStore
from edge.kernel.i18n import gettext as _

MAX_PHOTOS = 3
MAX_FORM_BYTES = MAX_PHOTOS * MAX_UPLOAD + 1_000_000  # three camera originals without JS
FIELD = "photos"
KEPT = "kept_photos_"  # the outbox names each photo sent ahead kept_photos_1, _2, _3


async def from_form(
    store: BlobStore, form: FormData, staged: Set[tuple[str, str]] = frozenset()
) -> tuple[list[Upload], str]:
    """The photos of a listing form, re-encoded and stored, or else the ones the agent app's
    outbox sent ahead (`kept_photos_1`.. tokens of photos this account `staged`); (uploads,
    problem or '')."""
    files = [f for f in form.getlist(FIELD) if isinstance(f, UploadFile) and f.filename]
    if not files:
        return _kept(store, form, staged)
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


def _kept(
    store: BlobStore, form: FormData, staged: Set[tuple[str, str]]
) -> tuple[list[Upload], str]:
    tokens = [str(form.get(f"{KEPT}{n}", "")) for n in range(1, MAX_PHOTOS + 2)]
    tokens = [token for token in tokens if token]
    if len(tokens) > MAX_PHOTOS:
        return [], _("最多 {n} 张照片。").format(n=MAX_PHOTOS)
    uploads = []
    for position, token in enumerate(tokens, start=1):
        upload = kept_upload(store, staged, "market", str(position), token)
        if upload is None:  # not this account's, or gone: the device sends it again
            return [], _("有照片没有收到，请重新选择照片。")
        uploads.append(upload)
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
