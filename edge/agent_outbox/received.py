"""Photos the outbox sent, received but not yet re-encoded: kept as sent under data_dir/received/
until the node re-encodes them off the request path; a form naming one by the sha256 of its
bytes (the PUT's pending token) waits for that re-encode, or does it, before it reads the form."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from edge.agent_outbox import queries
from edge.applications.lifecycle import Upload
from edge.blobs.images import PhotoRejected, check_photo
from edge.intake.uploads import store_photo, token_of
from edge.kernel.blobstore import SHA256_HEX, BlobStore
from edge.kernel.clock import stamp
from edge.node import EdgeNode

log = logging.getLogger(__name__)
_preparing: dict[tuple[str, str], asyncio.Task[Upload | None]] = {}


def received_store(blobs: BlobStore) -> BlobStore:
    """Where photos wait as sent, beside the blob store: data_dir/received/<aa>/<sha256>."""
    return BlobStore(blobs.root.parent / "received")


async def receive(node: EdgeNode, account_id: str, sent: str, data: bytes) -> None:
    """Check what shows without decoding (PhotoRejected), keep the bytes durably, commit the
    row; then re-encode in the background. Answer the device only after this returns."""
    check_photo(data)  # the header only: microseconds
    await run_in_threadpool(received_store(node.blobs).put, data)
    async with node.db.write() as db:
        await queries.receive(db, account_id, sent, stamp(node.clock()))
    _started(node, account_id, sent).add_done_callback(_logged)


async def prepared(node: EdgeNode, account_id: str, sent: str) -> Upload | None:
    """What the photo this account sent as `sent` became once re-encoded and staged (the
    background re-encode awaited, or run now); None if it sent no such photo. PhotoRejected
    if its pixels cannot be decoded."""
    return await asyncio.shield(_started(node, account_id, sent))


async def settled(node: EdgeNode, account_id: str, form: FormData) -> FormData:
    """The form with each kept photo named by a pending token (the sha256 it was sent as)
    replaced by the re-encoded photo's token; one that is not this account's, or cannot be
    decoded, is left as it was, so the form says that photo is missing."""
    items: list[tuple[str, object]] = []
    for name, value in form.multi_items():
        if name.startswith("kept_") and isinstance(value, str) and SHA256_HEX.fullmatch(value):
            try:
                upload = await prepared(node, account_id, value)
            except PhotoRejected:
                upload = None
            items.append((name, token_of(upload) if upload else value))
        else:
            items.append((name, value))
    return FormData(items)  # type: ignore[arg-type]


def _started(node: EdgeNode, account_id: str, sent: str) -> asyncio.Task[Upload | None]:
    key = (account_id, sent)
    task = _preparing.get(key)
    if task is None:
        task = asyncio.ensure_future(_prepare(node, account_id, sent))
        _preparing[key] = task
        task.add_done_callback(lambda _done: _preparing.pop(key, None))
    return task


async def _prepare(node: EdgeNode, account_id: str, sent: str) -> Upload | None:
    async with node.db.read() as db:
        done = await queries.staged(db, account_id, [sent])
        waiting = await queries.received(db, account_id, [sent])
    if sent in done:
        return done[sent]
    if sent not in waiting:
        return None
    store = received_store(node.blobs)
    try:
        raw = await run_in_threadpool(store.read, sent)
    except FileNotFoundError:  # another process staged it meanwhile and removed the file
        async with node.db.read() as db:
            return (await queries.staged(db, account_id, [sent])).get(sent)
    upload = await store_photo(node.blobs, raw, "material", "")
    async with node.db.write() as db:
        others = await queries.settle_received(db, account_id, sent, upload, stamp(node.clock()))
    if not others:  # after the commit: a crash here leaves a file, never a dangling row
        store.path(sent).unlink(missing_ok=True)
    return upload


def _logged(task: asyncio.Task[Upload | None]) -> None:
    """A background re-encode that failed: logged; the form that names the photo says so."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("re-encoding a received photo failed: %s", task.exception())
