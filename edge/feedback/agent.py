"""/agent/feedback/new: the village agent raises an item for a resident, fixed to the agent's
village, once per form key; offline the agent app keeps the form in its outbox and sends it (the
photo ahead, by its hash) when the link returns."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.agent_outbox import replies
from edge.agent_outbox.received import settled
from edge.audit.log import append as audit
from edge.feedback import forms, queries
from edge.feedback.routes import (
    MAX_FORM_BYTES,
    blank_values,
    photo_of,
    raise_from_form,
    shared,
    submit_key,
)
from edge.intake.uploads import kept_upload, owned
from edge.jurisdictions import queries as places
from edge.kernel import csrf
from edge.kernel.auth.access import require
from edge.kernel.clock import stamp
from edge.kernel.errors import wants_json
from edge.kernel.i18n import gettext as _
from edge.kernel.request_limits import allow_body
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node


async def _village(request: Request, code: str) -> list[object]:
    async with edge_node(request).db.read() as db:
        village = await places.get(db, code)
    return [village] if village is not None else []


def _page(
    request: Request,
    villages: list[object],
    values: dict[str, object],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    context = {"villages": villages, "values": values, "errors": errors}
    context |= {"action": "feedback:agent_create", "key": str(ULID())}
    return render(request, "edge/feedback/new.html", shared(context), status_code=status)


async def agent_form(request: Request) -> Response:
    """The form, for the agent's own village."""
    account = require(request, "agent")
    villages = await _village(request, account.jurisdiction_code)
    values = blank_values(request) | {"village": account.jurisdiction_code}
    return _page(request, villages, values, {})


async def _kept_photo(request: Request, account_id: str, form: FormData) -> tuple[str, Any, str]:
    """The photo the outbox sent ahead (`kept_photo`, its token) if this agent staged it:
    (sha256, upload, error); a token naming nothing of theirs is an error, not a lost photo."""
    token = str(form.get("kept_photo", ""))
    if not token:
        return "", None, ""
    node = edge_node(request)
    form = await settled(node, account_id, form)  # sent ahead: re-encoded now if still pending
    token = str(form.get("kept_photo", ""))
    async with node.db.read() as db:
        staged = await owned(db, account_id, form)
    upload = kept_upload(node.blobs, staged, "feedback", "photo", token)
    if upload is None:
        return "", None, _("照片没有收到，请重新选择照片。")
    return upload.sha256, upload, ""


async def _earlier(request: Request, form: FormData, account_id: str) -> tuple[str, str] | None:
    """(id, code) of the item this form's key raised before: a resent form, nothing new."""
    if not form.get("idempotency_key"):
        return None
    async with edge_node(request).db.read() as db:
        row = await queries.submitted(db, submit_key(form, {}, account_id, ""))
    return (str(row["id"]), str(row["tracking_code"])) if row is not None else None


def _answer(request: Request, code: str) -> Response:
    shown = path_for(request, "feedback:mine", code=code)
    if wants_json(request):
        return replies.accepted(shown, code)
    return RedirectResponse(shown, status_code=303)


@allow_body(MAX_FORM_BYTES)
async def agent_create(request: Request) -> Response:
    """Raise the item (channel `agent`); a resent form gives the first item back (and is not
    audited again); the outbox is answered in JSON."""
    account = require(request, "agent")
    node = edge_node(request)
    form = await request.form()
    earlier = await _earlier(request, form, account.id)
    if earlier is not None:
        return _answer(request, earlier[1])
    villages = await _village(request, account.jurisdiction_code)
    values, errors = forms.parse_new(form, {account.jurisdiction_code}, account.jurisdiction_code)
    values["ref"] = str(form.get("ref", ""))[:40]
    sha, upload, photo_error = await photo_of(node, form)
    if upload is None and not photo_error:
        sha, upload, photo_error = await _kept_photo(request, account.id, form)
    if photo_error:
        errors["photo"] = photo_error
    if errors and wants_json(request):  # the outbox keeps the form and shows these
        return replies.sent_back(errors)
    if errors:
        return _page(request, villages, values, errors, 400)
    created = await raise_from_form(request, node, values, "agent", sha or None, upload, account.id)
    if isinstance(created, Response):
        return created
    item_id, code = created
    async with node.db.write() as db:
        await audit(
            db,
            node.settings.keys_dir,
            actor_id=account.id,
            role=account.role,
            jurisdiction_code=account.jurisdiction_code,
            action="feedback_raised",
            object_type="feedback",
            object_id=item_id,
            result="ok",
            at=stamp(node.clock()),
        )
    return _answer(request, code)


routes = [
    Route("/agent/feedback/new", agent_form, methods=["GET"], name="feedback:agent_new"),
    Route(
        "/agent/feedback/new",
        csrf.protected(agent_create),
        methods=["POST"],
        name="feedback:agent_create",
    ),
]
