"""/verify/{seal_id} (anyone checks a seal), /certificates/{seal_id} (the printable village
certificate), /seals/keys and /seals/keys.json (the public keys) and /agent/check (the agent
app's offline check of a certificate's QR code)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edge.applications.access import REVIEW_ROLES, can_view
from edge.audit.log import append as audit
from edge.catalog import queries as catalog
from edge.kernel.auth.access import require
from edge.kernel.clock import stamp
from edge.kernel.i18n import pick
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.seals import compact, labels, queries
from edge.seals.certificate_page import (
    SEAL_ID_LENGTH,
    certificate_page,
    not_found,
    sealed_certificate,
)
from edge.seals.keys import public_keys
from edge.seals.offices import office_name
from edge.seals.signing import verify

CERTIFICATE_ROLES = ("agent", *REVIEW_ROLES)
CHECK_ROLES = ("agent", "township_staff", "supervisor")


async def verify_page(request: Request) -> Response:
    """Say plainly whether a seal is genuine and unaltered, and what it certifies."""
    seal_id = request.path_params["seal_id"]
    if len(seal_id) != SEAL_ID_LENGTH:
        raise not_found()
    async with edge_node(request).db.read() as db:
        result = await verify(db, seal_id)
        if result is None:
            raise not_found()
        office = await office_name(db, result.office)
        item = await catalog.item(db, str(result.payload.get("item_code", "")))
    return render(
        request,
        "edge/seals/verify.html",
        {
            "seal_id": seal_id,
            "result": result,
            "kind_labels": labels.KIND,
            "office": pick(office.zh, office.en),
            "rows": labels.rows(result.payload, office, item),
        },
    )


async def certificate(request: Request) -> Response:
    """The village certificate, A4 on paper and one column on a phone, for the agent of the
    applicant's village and the staff who may see the file; each view is audited."""
    account = require(request, *CERTIFICATE_ROLES)
    seal_id = request.path_params["seal_id"]
    node = edge_node(request)
    async with node.db.write() as db:
        found = await sealed_certificate(db, seal_id)
        if found is None:
            raise not_found()
        result, app = found
        if not can_view(account, app.village_code, app.item.route_departments):
            raise not_found()
        await audit(
            db,
            node.settings.keys_dir,
            actor_id=account.id,
            role=account.role,
            jurisdiction_code=account.jurisdiction_code,
            action="read_personal_data",
            object_type="certificate",
            object_id=seal_id,
            result="ok",
            at=stamp(node.clock()),
        )
    if account.role == "agent":
        back = path_for(request, "intake:home")
    else:
        back = path_for(request, "review:application", application_id=app.id)
    return await certificate_page(request, seal_id, result, app, back=back)


async def _key_rows(request: Request) -> list[dict[str, Any]]:
    async with edge_node(request).db.read() as db:
        return [dict(row) for row in await public_keys(db)]


async def key_list(request: Request) -> Response:
    """Every public key of this node's offices, so anyone can check seals offline."""
    return JSONResponse(await _key_rows(request))


def _offline_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        row
        | {
            "kid": compact.key_id(row["public_key"]),
            "raw": compact.raw_public_key(row["public_key"]).hex(),
        }
        for row in rows
        if row["algorithm"] == "ed25519"
    ]


async def offline_key_list(request: Request) -> Response:
    """The Ed25519 keys as the agent app checks a certificate's QR code with them: `kid` is
    the short id a token names its key by, `raw` the key's 32 bytes (hex). Several per office
    once a key is replaced; all stay, so older certificates still check."""
    return JSONResponse(_offline_keys(await _key_rows(request)))


async def _reference(request: Request) -> dict[str, Any]:
    """What the offline check needs to put words on a token: items, their fields, offices."""
    node = edge_node(request)
    async with node.db.read() as db:
        items = await queries.certificate_items(db)
        offices = await queries.village_offices(db, node.settings.township_code)
    return {
        "items": {
            item.code: {
                "name": pick(item.name.zh, item.name.en),
                "fields": [
                    {
                        "name": field.name,
                        "label": pick(field.label.zh, field.label.en),
                        "choices": {c.value: pick(c.label.zh, c.label.en) for c in field.choices},
                    }
                    for field in item.fields
                ],
            }
            for item in items
        },
        "offices": {code: pick(name.zh, name.en) for code, name in offices.items()},
    }


async def check_page(request: Request) -> Response:
    """核验证明: read a certificate's QR by camera (or paste it) and check it with no network."""
    require(request, *CHECK_ROLES)
    reference = await _reference(request)
    reference["keys"] = _offline_keys(await _key_rows(request))
    return render(
        request,
        "edge/seals/check.html",
        {"reference": json.dumps(reference, ensure_ascii=False).replace("</", "<\\/")},
    )


routes = [
    Route("/verify/{seal_id}", verify_page, methods=["GET"], name="seals:verify"),
    Route("/certificates/{seal_id}", certificate, methods=["GET"], name="seals:certificate"),
    Route("/seals/keys", key_list, methods=["GET"], name="seals:keys"),
    Route("/seals/keys.json", offline_key_list, methods=["GET"], name="seals:offline_keys"),
    Route("/agent/check", check_page, methods=["GET"], name="seals:check"),
]
