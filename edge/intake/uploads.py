"""Photos of materials and the signature: re-encoded, stored by hash, kept across form errors,
recorded with their content types when the application that attaches them is written. A kept
token names a photo by hash: it attaches only when the signed-in account staged that photo."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence, Set
from typing import Any

import aiosqlite
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from edge.agent_outbox.queries import stage, staged_pairs
from edge.applications.lifecycle import Upload
from edge.blobs.images import (
    CONTENT_TYPES,
    PhotoRejected,
    PreparedImage,
    prepare_photo,
    prepare_signature,
)
from edge.blobs.queries import record as record_blob
from edge.catalog.item import Material
from edge.kernel.blobstore import BlobStore
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import pick

KEPT_TYPE = "(" + "|".join(re.escape(kind) for kind in CONTENT_TYPES) + ")"
TOKEN = re.compile(
    rf"^([0-9a-f]{{64}}):([0-9a-f]{{64}}):(\d{{1,5}}):(\d{{1,5}}):{KEPT_TYPE}:{KEPT_TYPE}$"
)
DATA_URL = "data:image/png;base64,"
MAX_UPLOAD = 15_000_000
MAX_FORM_BYTES = 64_000_000  # six materials and a signature as full-size camera photos


def token_of(upload: Upload) -> str:
    """The hidden-field form of a stored upload, so a form shown again keeps it (content types
    included: the intake records each blob with the type it was stored as)."""
    return (
        f"{upload.sha256}:{upload.thumb_sha256}:{upload.width}:{upload.height}:"
        f"{upload.content_type}:{upload.thumb_content_type}"
    )


def _from_token(
    store: BlobStore, owned: Set[tuple[str, str]], kind: str, key: str, token: str
) -> Upload | None:
    match = TOKEN.match(token)
    if not match or (match.group(1), match.group(2)) not in owned:
        return None
    if not (store.has(match.group(1)) and store.has(match.group(2))):
        return None
    sha, thumb, width, height, content_type, thumb_type = match.groups()
    return Upload(kind, key, sha, thumb, int(width), int(height), content_type, thumb_type)


def kept_upload(
    store: BlobStore, owned: Set[tuple[str, str]], kind: str, key: str, token: str
) -> Upload | None:
    """The photo a kept token names, if this account staged it (its outbox sent it ahead, or a
    refused form kept it) and its blobs are here; else None."""
    return _from_token(store, owned, kind, key, token)


async def store_photo(store: BlobStore, raw: bytes, kind: str, key: str) -> Upload:
    """Re-encode a photo (PhotoRejected if it is not one) and keep it and its thumbnail."""
    return await _store(store, await run_in_threadpool(prepare_photo, raw), kind, key)


def keep(store: BlobStore, prepared: PreparedImage, kind: str, key: str) -> Upload:
    """Store a prepared photo and its thumbnail; the upload to attach, with their types."""
    return Upload(
        kind,
        key,
        store.put(prepared.data),
        store.put(prepared.thumb),
        prepared.width,
        prepared.height,
        prepared.content_type,
        prepared.thumb_content_type,
    )


async def _store(store: BlobStore, prepared: PreparedImage, kind: str, key: str) -> Upload:
    return await run_in_threadpool(keep, store, prepared, kind, key)


async def owned(
    db: aiosqlite.Connection, account_id: str, form: FormData
) -> frozenset[tuple[str, str]]:
    """The (photo, thumbnail) pairs the form's kept tokens name that this account staged: a
    hash learnt from someone else's application attaches nothing."""
    pairs = []
    for name, value in form.multi_items():
        match = TOKEN.match(value) if name.startswith("kept_") and isinstance(value, str) else None
        if match:
            pairs.append((match.group(1), match.group(2)))
    return await staged_pairs(db, account_id, pairs)


async def keep_for_retry(
    db: aiosqlite.Connection, account_id: str, uploads: Sequence[Upload], now: str
) -> None:
    """Stage what a refused form uploaded, so the form shown again may attach it by token."""
    for upload in uploads:
        await stage(db, account_id, upload.sha256, upload, now)


async def record_blobs(
    db: aiosqlite.Connection, store: BlobStore, upload: Upload, now: str
) -> None:
    """Record the photo's and the thumbnail's blobs with their content types, due for upload."""
    for sha256, content_type in upload.blobs:
        await record_blob(db, sha256, content_type, store.path(sha256).stat().st_size, now)


async def _file_bytes(value: Any) -> bytes | None:
    if isinstance(value, UploadFile) and value.filename:
        data = await value.read(MAX_UPLOAD + 1)
        return data or None
    return None


async def material_uploads(
    store: BlobStore,
    form: FormData,
    materials: Sequence[Material],
    *,
    require: bool,
    owned: Set[tuple[str, str]],
) -> tuple[list[Upload], dict[str, str]]:
    """One photo per material: new files, or the tokens of photos the account staged."""
    uploads, errors = [], {}
    for material in materials:
        key = material.key
        upload = None
        raw = await _file_bytes(form.get(f"material_{key}"))
        if raw is not None:
            try:
                upload = await store_photo(store, raw, "material", key)
            except PhotoRejected as exc:
                errors[key] = str(exc)
                continue
        else:
            kept = str(form.get(f"kept_{key}", ""))
            upload = _from_token(store, owned, "material", key, kept)
        if upload is not None:
            uploads.append(upload)
        elif require and material.required:
            errors[key] = _("请拍摄或上传“%(name)s”。") % {
                "name": pick(material.name.zh, material.name.en)
            }
    return uploads, errors


async def signature_upload(
    store: BlobStore, form: FormData, owned: Set[tuple[str, str]]
) -> tuple[Upload | None, str]:
    """The signature from the canvas, a photo of the signed paper form, or a kept token of a
    photo the account staged."""
    drawn = str(form.get("signature_data", ""))
    photo = await _file_bytes(form.get("signature_photo"))
    try:
        if drawn.startswith(DATA_URL):
            raw = base64.b64decode(drawn[len(DATA_URL) :], validate=True)
            prepared = await run_in_threadpool(prepare_signature, raw)
            return await _store(store, prepared, "signature", "signature"), ""
        if photo is not None:
            return await store_photo(store, photo, "signature", "signature"), ""
    except (PhotoRejected, ValueError) as exc:
        return None, str(exc) if isinstance(exc, PhotoRejected) else _("签名无法识别，请重新签名。")
    token = str(form.get("kept_signature", ""))
    kept = _from_token(store, owned, "signature", "signature", token)
    if kept is None:
        return None, _("请申请人在框内签名，或上传签字后的纸质申请表照片。")
    return kept, ""
