"""The printable receipt of an application, as the agent prints it at intake and as the
resident opens their own from 我的办事: the same sheet, the applicant masked on both."""

from __future__ import annotations

from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import Response

from edge.applications import queries, states
from edge.applications.records import Application, Step
from edge.applications.tracking_code import format_code
from edge.kernel.masking import mask_id_number, mask_name, mask_phone
from edge.kernel.templating import render
from edge.kernel.urls import path_for, public_url
from edge.node import edge_node


def certificate_path(request: Request, seal_id: str, *, mine: bool) -> str:
    """Where the reader of the receipt opens the certificate: the resident's own address, or
    the one for the agent and staff."""
    name = "me:certificate" if mine else "seals:certificate"
    return path_for(request, name, seal_id=seal_id)


async def receipt_page(
    request: Request,
    app: Application,
    steps: list[Step],
    attachments: list[Any],
    *,
    back: str,
    mine: bool,
) -> Response:
    """Render the receipt; `back` is the page it returns to, `mine` says the resident reads it."""
    async with edge_node(request).db.read() as db:
        seals = await queries.seals_of(db, app.id)
    track_url = public_url(request, "tracking:status", code=app.tracking_code)
    qr = segno.make(track_url, error="m").svg_inline(scale=3, omitsize=False)
    received = {a["material_key"] for a in attachments if a["kind"] == "material"}
    return render(
        request,
        "edge/intake/receipt.html",
        {
            "app": app,
            "item": app.item,
            "steps": steps,
            "code": format_code(app.tracking_code),
            "qr": qr,
            "track_url": track_url,
            "received": received,
            "seals": seals,
            "applicant": mask_name(app.applicant_name),
            "id_number": mask_id_number(app.applicant_id_number),
            "phone": mask_phone(app.applicant_phone),
            "status_label": states.label,
            "back": back,
            "mine": mine,
            "certificate_url": lambda seal_id: certificate_path(request, seal_id, mine=mine),
        },
    )
