"""Photos of materials and the signature: re-encoded, stored by hash, kept across form errors."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from edge.applications.lifecycle import Upload
from edge.blobs.images import PhotoRejected, PreparedImage, prepare_photo, prepare_signature
from edge.catalog.item import Material
from edge.kernel.blobstore import BlobStore
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import pick

TOKEN = re.compile(r"^([0-9a-f]{64}):([0-9a-f]{64}):(\d{1,5}):(\d{1,5})$")
DATA_URL = "data:image/png;base64,"
MAX_UPLOAD = 15_000_000


def token_of(upload: Upload) -> str:
    """The hidden-field form of a stored upload, so a form shown again keeps it."""
    return f"{upload.sha256}:{upload.thumb_sha256}:{upload.width}:{upload.height}"


def _from_token(store: BlobStore, kind: str, key: str, token: str) -> Upload | None:
    match = TOKEN.match(token)
    if not match or not (store.has(match.group(1)) and store.has(match.group(2))):
        return None
    return Upload(
        kind, key, match.group(1), match.group(2), int(match.group(3)), int(match.group(4))
    )


async def store_photo(store: BlobStore, raw: bytes, kind: str, key: str) -> Upload:
    """Re-encode a photo (PhotoRejected if it is not one) and keep it and its thumbnail."""
    return await _store(store, await run_in_threadpool(prepare_photo, raw), kind, key)


async def _store(store: BlobStore, prepared: PreparedImage, kind: str, key: str) -> Upload:
    sha = await run_in_threadpool(store.put, prepared.data)
    thumb = await run_in_threadpool(store.put, prepared.thumb)
    return Upload(kind, key, sha, thumb, prepared.width, prepared.height)


async def _file_bytes(value: Any) -> bytes | None:
    if isinstance(value, UploadFile) and value.filename:
        data = await value.read(MAX_UPLOAD + 1)
        return data or None
    return None


async def material_uploads(
    store: BlobStore, form: FormData, materials: Sequence[Material], *, require: bool
) -> tuple[list[Upload], dict[str, str]]:
    """One photo per material: new files, or the tokens kept from a previous try."""
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
            upload = _from_token(store, "material", key, str(form.get(f"kept_{key}", "")))
        if upload is not None:
            uploads.append(upload)
        elif require and material.required:
            errors[key] = _("请拍摄或上传“%(name)s”。") % {
                "name": pick(material.name.zh, material.name.en)
            }
    return uploads, errors


async def signature_upload(store: BlobStore, form: FormData) -> tuple[Upload | None, str]:
    """The signature from the canvas, a photo of the signed paper form, or a kept token."""
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
    kept = _from_token(store, "signature", "signature", str(form.get("kept_signature", "")))
    if kept is None:
        return None, _("请申请人在框内签名，或上传签字后的纸质申请表照片。")
    return kept, ""
