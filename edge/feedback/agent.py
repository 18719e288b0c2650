"""/agent/feedback/new: the village agent raises an item for a resident (online; the agent app's
offline outbox carries applications only), fixed to the agent's village, once per form key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.audit.log import append as audit
from edge.feedback import forms
from edge.feedback.routes import MAX_FORM_BYTES, blank_values, photo_of, raise_from_form, shared
from edge.jurisdictions import queries as places
from edge.kernel import csrf
from edge.kernel.auth.access import require
from edge.kernel.clock import stamp
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


@allow_body(MAX_FORM_BYTES)
async def agent_create(request: Request) -> Response:
    """Raise the item (channel `agent`); a resent form gives the first item back."""
    account = require(request, "agent")
    node = edge_node(request)
    form = await request.form()
    villages = await _village(request, account.jurisdiction_code)
    values, errors = forms.parse_new(form, {account.jurisdiction_code}, account.jurisdiction_code)
    values["ref"] = str(form.get("ref", ""))[:40]
    sha, upload, photo_error = await photo_of(node, form)
    if photo_error:
        errors["photo"] = photo_error
    if errors:
        return _page(request, villages, values, errors, 400)
    created = await raise_from_form(request, node, values, "agent", sha, upload, account.id)
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
    return RedirectResponse(path_for(request, "feedback:mine", code=code), status_code=303)


routes = [
    Route("/agent/feedback/new", agent_form, methods=["GET"], name="feedback:agent_new"),
    Route(
        "/agent/feedback/new",
        csrf.protected(agent_create),
        methods=["POST"],
        name="feedback:agent_create",
    ),
]
