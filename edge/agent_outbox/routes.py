"""/agent/outbox: the page listing what the agent app keeps on the device (applications, 村务
公开, 我有话说 and market listings), the session probe its sender asks first (which also says
which photos arrived), and photos sent one request each, keyed by the sha256 of their bytes.
With `Prefer: respond-async` a photo is answered once its bytes are kept, before the
re-encode (`Preference-Applied`); its token is then the sha256 it was sent as, which a form
resolves."""

from __future__ import annotations

import hashlib

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edge.agent_outbox import queries, received
from edge.blobs.images import PhotoRejected
from edge.intake.uploads import store_photo, token_of
from edge.kernel import csrf
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.blobstore import SHA256_HEX
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.request_limits import allow_body
from edge.kernel.templating import render
from edge.node import EdgeNode, edge_node

MAX_PHOTO_BYTES = 2_000_000  # devices send <= 300 KB; room for one whose encoder cannot
MAX_ASKED = 40
NO_STORE = {"Cache-Control": "no-store"}


def _agent(request: Request) -> Account:
    return require(request, "agent")


def texts() -> dict[str, str]:
    """What the outbox script says, in the page's language (the script has no gettext)."""
    return {
        "waiting": _("等待发送"),
        "sending": _("正在发送"),
        "accepted": _("已受理"),
        "fix": _("需要修改"),
        "login": _("需要重新登录"),
        "photo_sent": _("已送达"),
        "photo_waiting": _("等待发送"),
        "photo_refused": _("这张照片没有被接受"),
        "retry_at": _("上次发送没有成功，将在 %(time)s 自动重试。"),
        "code": _("查询码"),
        "receipt": _("查看回执"),
        "edit": _("修改后再发送"),
        "remove": _("从列表中移除"),
        "discard": _("放弃这一件"),
        "discard_confirm": _("确定放弃吗？它会从这台设备上删除，无法恢复。"),
        "retake": _("重拍这张"),
        "empty": _("这台设备上没有待发送的内容。"),
        "other_account": _("还有 %(count)s 件由其他代办员录入，需要他们登录后发送。"),
        "unreadable": _("这张照片无法读取，请重新拍摄。"),
    }


async def outbox_page(request: Request) -> Response:
    """The list is drawn by static/js/outbox-page.js from the device's IndexedDB."""
    agent = _agent(request)
    context = {"agent_id": agent.id, "texts": texts()}
    return render(request, "edge/agent_outbox/index.html", context)


async def session(request: Request) -> Response:
    """Who is signed in and the session's CSRF token, asked before each sending round; a
    401 (from the error handler) tells the app to have the agent sign in again. Photos named
    by `?sha256=` are answered in the same request (`have`, as /agent/outbox/photos does), so
    a round costs one round trip before its first photo."""
    agent = _agent(request)
    body: dict[str, object] = {"account": agent.id, "csrf": request.scope.get("csrf_token", "")}
    asked = _hashes(request)
    if asked:
        async with edge_node(request).db.read() as db:
            body["have"] = await _held(db, agent.id, asked)
    return JSONResponse(body, headers=NO_STORE)


async def _held(db: aiosqlite.Connection, account_id: str, asked: list[str]) -> dict[str, str]:
    """Which of `asked` arrived, with their tokens: the re-encoded photo's, or the sha256 it was
    sent as while its re-encode is pending (a form resolves that)."""
    pending = await queries.received(db, account_id, asked)
    held = await queries.staged(db, account_id, asked)
    return {sent: sent for sent in pending} | {s: token_of(u) for s, u in held.items()}


def _hashes(request: Request) -> list[str]:
    asked = request.query_params.getlist("sha256")
    if len(asked) > MAX_ASKED or not all(SHA256_HEX.fullmatch(h) for h in asked):
        raise HTTPException(status_code=400, detail=_("照片编号无效。"))
    return asked


async def photos_held(request: Request) -> Response:
    """Which of the photos named by `?sha256=` already arrived: {"have": {sha256: token}}."""
    agent = _agent(request)
    async with edge_node(request).db.read() as db:
        have = await _held(db, agent.id, _hashes(request))
    return JSONResponse({"have": have}, headers=NO_STORE)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PHOTO_BYTES:
        raise HTTPException(status_code=413, detail=_("照片太大，请重新拍摄。"))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PHOTO_BYTES:
            raise HTTPException(status_code=413, detail=_("照片太大，请重新拍摄。"))
        chunks.append(chunk)
    return b"".join(chunks)


@allow_body(MAX_PHOTO_BYTES)
async def put_photo(request: Request) -> Response:
    """Keep one photo, named by the sha256 of its bytes; answered after it is committed: re-encoded
    and staged, or with `Prefer: respond-async` received as sent, re-encoded next."""
    agent = _agent(request)
    sent = request.path_params["sha256"]
    if not SHA256_HEX.fullmatch(sent):
        raise HTTPException(status_code=400, detail=_("照片编号无效。"))
    data = await _body(request)
    if hashlib.sha256(data).hexdigest() != sent:  # damaged on the way: the device sends again
        raise HTTPException(status_code=400, detail=_("照片在传输中损坏，将重新发送。"))
    node = edge_node(request)
    if "respond-async" in request.headers.get("prefer", ""):
        return await _received(node, agent.id, sent, data)
    try:
        upload = await store_photo(node.blobs, data, "material", "")
    except PhotoRejected as exc:  # the photo itself: the agent retakes it
        raise HTTPException(status_code=422, detail=str(exc)) from None
    async with node.db.write() as db:
        await queries.stage(db, agent.id, sent, upload, stamp(node.clock()))
    return JSONResponse({"sha256": sent, "token": token_of(upload)}, headers=NO_STORE)


async def _received(node: EdgeNode, account_id: str, sent: str, data: bytes) -> Response:
    async with node.db.read() as db:
        held = await queries.staged(db, account_id, [sent])
    if sent in held:  # a retry whose answer was lost, re-encoded since
        return JSONResponse({"sha256": sent, "token": token_of(held[sent])}, headers=NO_STORE)
    try:
        await received.receive(node, account_id, sent, data)
    except PhotoRejected as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    headers = {**NO_STORE, "Preference-Applied": "respond-async"}
    return JSONResponse({"sha256": sent, "token": sent}, headers=headers)


routes = [
    Route("/agent/outbox", outbox_page, methods=["GET"], name="agent_outbox:page"),
    Route("/agent/outbox/session", session, methods=["GET"], name="agent_outbox:session"),
    Route("/agent/outbox/photos", photos_held, methods=["GET"], name="agent_outbox:photos"),
    Route(
        "/agent/outbox/photos/{sha256}",
        csrf.protected(put_photo),
        methods=["PUT"],
        name="agent_outbox:put_photo",
    ),
]
