"""The printable village certificate page: the certified facts, the office's seal and the
QR code that checks online and offline; shared by the agent's and staff's address and the
resident's own (我的办事)."""

from __future__ import annotations

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from edge.applications import queries as applications
from edge.applications.records import Application
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_id_number
from edge.kernel.templating import render
from edge.kernel.urls import public_url
from edge.node import edge_node
from edge.seals import compact
from edge.seals.certificate import KIND, readable_facts
from edge.seals.offices import office_name
from edge.seals.signing import VerifyResult, verify

SEAL_ID_LENGTH = 26


def not_found() -> HTTPException:
    """The same 404 for a seal that does not exist and one the reader may not open."""
    return HTTPException(
        status_code=404, detail=_("没有找到这个签章，请核对编号或重新扫描二维码。")
    )


async def sealed_certificate(
    db: aiosqlite.Connection, seal_id: str
) -> tuple[VerifyResult, Application] | None:
    """The village certificate seal and its application, or None when there is none."""
    result = await verify(db, seal_id) if len(seal_id) == SEAL_ID_LENGTH else None
    app = await applications.application(db, result.application_id) if result else None
    if result is None or result.kind != KIND or app is None:
        return None
    return result, app


def _certified(seal_id: str, result: VerifyResult, app: Application) -> compact.Certified:
    """What the certificate states; a seal made before certificates carried the full name
    (edge before issue 16) takes it from the application."""
    payload = result.payload
    facts = payload.get("facts")
    return compact.Certified(
        seal_id=seal_id,
        item_code=str(payload.get("item_code", "")),
        office=result.office,
        issued_on=str(payload.get("decided_on", result.created_at[:10])),
        applicant_name=str(payload.get("applicant_name") or app.applicant_name),
        id_number=str(payload.get("id_number", "")),
        facts={str(k): str(v) for k, v in facts.items()} if isinstance(facts, dict) else {},
        fields=tuple(field.name for field in app.item.fields),
    )


async def certificate_page(
    request: Request, seal_id: str, result: VerifyResult, app: Application, *, back: str
) -> Response:
    """Render the certificate of seal `seal_id` (a village certificate); `back` is the page
    the screen-only link returns to."""
    node = edge_node(request)
    async with node.db.read() as db:
        office = await office_name(db, result.office)
    certified = _certified(seal_id, result, app)
    signed = (
        compact.token(node.settings.keys_dir, result.key_id, result.public_key, certified)
        if result.valid
        else None
    )
    verify_url = public_url(request, "seals:verify", seal_id=seal_id)
    facts = result.payload.get("facts")
    return render(
        request,
        "edge/seals/certificate.html",
        {
            "seal_id": seal_id,
            "result": result,
            "app": app,
            "certified": certified,
            "id_number": mask_id_number(certified.id_number) if certified.id_number else "",
            "facts": readable_facts(app.item, facts if isinstance(facts, dict) else {}),
            "office": office,
            "qr": compact.qr_code(verify_url, signed),
            "verify_url": verify_url,
            "back": back,
        },
    )
