"""/verify/{seal_id} (anyone checks a seal) and /seals/keys (the public keys, as JSON)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.node import edge_node
from edge.seals import labels
from edge.seals.keys import public_keys
from edge.seals.signing import verify

SEAL_ID_LENGTH = 26


async def verify_page(request: Request) -> Response:
    """Say plainly whether a seal is genuine and unaltered, and what it certifies."""
    seal_id = request.path_params["seal_id"]
    result = None
    if len(seal_id) == SEAL_ID_LENGTH:
        async with edge_node(request).db.read() as db:
            result = await verify(db, seal_id)
    if result is None:
        raise HTTPException(
            status_code=404, detail=_("没有找到这个签章，请核对编号或重新扫描二维码。")
        )
    return render(
        request,
        "edge/seals/verify.html",
        {
            "seal_id": seal_id,
            "result": result,
            "kind_labels": labels.KIND,
            "field_labels": labels.FIELD,
        },
    )


async def key_list(request: Request) -> Response:
    """Every public key of this node's offices, so anyone can check seals offline."""
    async with edge_node(request).db.read() as db:
        rows = await public_keys(db)
    return JSONResponse(
        [
            {
                "id": row["id"],
                "office": row["office"],
                "algorithm": row["algorithm"],
                "public_key": row["public_key"],
                "created_at": row["created_at"],
            }
            for row in rows
        ]
    )


routes = [
    Route("/verify/{seal_id}", verify_page, methods=["GET"], name="seals:verify"),
    Route("/seals/keys", key_list, methods=["GET"], name="seals:keys"),
]
