"""Open311 GeoReport v2 (/open311/v2/...): the categories as services, every township's public
items as requests (masked as on the public pages), and POST with an API key, which sends the
request down the feed to the village's township edge. JSON, and XML (the spec's default)."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

import aiosqlite
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from ulid import ULID

from central.audit.record import record
from central.feed.queries import append
from central.feedback import keys, queries
from central.node import central_node
from edge.feedback import public, states
from edge.feedback.forms import BODY_MAX, BODY_MIN, parse_phone
from edge.feedback.routing import routing
from edge.kernel.clock import stamp
from edge.kernel.i18n import in_locale
from edge.kernel.text_input import name_problem, normal_name, text_problem
from replication.feed.commands import FeedbackRequest

MAX_REQUESTS = 1000  # the spec's default window is 90 days or 1000 requests
FORMATS = ("json", "xml")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?$")


def _wrap(value: Any, tag: str) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            element.append(_wrap(inner, key))
    elif value is not None:
        element.text = str(value).lower() if isinstance(value, bool) else str(value)
    return element


def _answer(request: Request, data: list[dict[str, Any]], tag: str, status: int = 200) -> Response:
    """`data` in the format the path asks for: a JSON list, or XML `<tag>s>` of `<tag>`s."""
    if request.path_params.get("format") == "xml":
        root = ElementTree.Element(f"{tag}s")
        for entry in data:
            root.append(_wrap(entry, tag))
        body = ElementTree.tostring(root, encoding="unicode", xml_declaration=True)
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")
    return JSONResponse(data, status_code=status)


def _error(request: Request, status: int, description: str) -> Response:
    return _answer(request, [{"code": status, "description": description}], "error", status)


def _limited(request: Request, per_hour: int, wait: int) -> Response:
    """429 with Retry-After: the key has sent its `per_hour` requests in the last hour."""
    response = _error(request, 429, f"this api_key may POST {per_hour} requests an hour")
    response.headers["Retry-After"] = str(wait)
    return response


def _format_ok(request: Request) -> bool:
    return request.path_params.get("format") in FORMATS


def _service(category: Any) -> dict[str, Any]:
    with in_locale("zh_Hans"):
        name = category.name
    return {
        "service_code": category.code,
        "service_name": name,
        "description": category.name_en,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(k.code for k in routing().kinds),
        "group": category.department,
    }


async def services(request: Request) -> Response:
    """The categories residents choose from, each a service; the kind is an attribute."""
    if not _format_ok(request):
        return _error(request, 404, "format must be json or xml")
    return _answer(request, [_service(c) for c in routing().categories], "service")


def _stamp(value: str | None) -> str | None:
    """A stored time (ISO, UTC) as W3C datetime."""
    return None if not value else value.replace("+00:00", "Z")


def as_request(row: Any) -> dict[str, Any]:
    """One item as a GeoReport request: text and answer masked, author as 张* or 匿名."""
    category = routing().category(row["category"])
    kind = routing().kind(row["kind"])
    with in_locale("zh_Hans"):
        return {
            "service_request_id": row["id"],
            "status": states.open311_status(row["state"]),
            "status_notes": public.answer(row) or None,
            "service_name": category.name if category else row["category"],
            "service_code": row["category"],
            "description": public.text(row),
            "agency_responsible": row["department_zh"] or row["department_code"],
            "service_notice": None,
            "requested_datetime": _stamp(row["created_at"]),
            "updated_datetime": _stamp(row["updated_at"]),
            "expected_datetime": f"{row['due_on']}T23:59:59+08:00",
            "address": row["village_zh"],
            "address_id": row["village_code"],
            "zipcode": None,
            "lat": None,
            "long": None,
            "media_url": None,
            "extended_attributes": {
                "cunban_state": row["state"],
                "cunban_state_label": states.label(row["state"]),
                "cunban_kind": row["kind"],
                "cunban_kind_label": kind.name if kind else row["kind"],
                "cunban_author": public.author(row),
                "cunban_node": row["node_id"],
                "cunban_reopened": bool(row["reopened"]),
                "cunban_rating": row["rating_level"],
            },
        }


def _filters(request: Request) -> dict[str, str] | str:
    """The list's filters, or what is wrong with them."""
    query = request.query_params
    filters = {
        k: query.get(k, "")[:40] for k in ("service_code", "status", "start_date", "end_date")
    }
    if filters["status"] not in ("", "open", "closed"):
        return "status must be open or closed"
    for name in ("start_date", "end_date"):
        if filters[name] and not DATE.match(filters[name]):
            return f"{name} must be a W3C datetime"
        filters[name] = filters[name].replace("Z", "+00:00")
    return filters


async def list_requests(request: Request) -> Response:
    """Public requests of every township, newest first, filtered (one query)."""
    if not _format_ok(request):
        return _error(request, 404, "format must be json or xml")
    filters = _filters(request)
    if isinstance(filters, str):
        return _error(request, 400, filters)
    ids = [i for i in request.query_params.get("service_request_id", "").split(",") if i]
    async with central_node(request).db.read() as db:
        if ids:
            rows = [r for i in ids[:50] if (r := await queries.public_item(db, i)) is not None]
        else:
            rows = await queries.public_items(db, filters, MAX_REQUESTS)
    return _answer(request, [as_request(r) for r in rows], "request")


async def one_request(request: Request) -> Response:
    """One request; one submitted here but not back from its township yet shows as open."""
    if not _format_ok(request):
        return _error(request, 404, "format must be json or xml")
    item_id = request.path_params["item_id"]
    async with central_node(request).db.read() as db:
        row = await queries.public_item(db, item_id)
        pending = None if row else await queries.requested(db, item_id)
    if row is not None:
        return _answer(request, [as_request(row)], "request")
    if pending is not None:
        notice = "submitted, on its way to the township"
        entry = {"service_request_id": item_id, "status": "open", "service_notice": notice}
        return _answer(request, [entry], "request")
    return _error(request, 404, "no such public service request")


async def _node_of(db: aiosqlite.Connection, village: str) -> str | None:
    async with db.execute(
        "SELECT n.node_id FROM jurisdictions v JOIN nodes n ON n.township_code = v.parent_code "
        "WHERE v.code = ? AND v.level = 'village'",
        (village,),
    ) as cursor:
        row = await cursor.fetchone()
    return str(row["node_id"]) if row else None


def _submitted(form: Any) -> tuple[dict[str, Any], str]:
    """(values, problem) of a POSTed request."""
    kind = str(form.get("attribute[kind]", "problem"))
    name = normal_name(f"{form.get('last_name', '')}{form.get('first_name', '')}")[:30]
    phone = parse_phone(str(form.get("phone", ""))[:20])
    values: dict[str, Any] = {
        "category": str(form.get("service_code", "")),
        "kind": kind,
        "village": str(form.get("address_id", "")),
        "text": str(form.get("description", "")).strip(),
        "name": name,
        "phone": phone or "",
        "private": str(form.get("attribute[private]", "")).lower() in ("1", "true"),
    }
    if routing().category(values["category"]) is None:
        return values, "service_code not found"
    if routing().kind(kind) is None:
        return values, "attribute[kind] must be one of " + ",".join(k.code for k in routing().kinds)
    if not (BODY_MIN <= len(values["text"]) <= BODY_MAX) or text_problem(
        values["text"], multiline=True
    ):
        return values, f"description must be {BODY_MIN}-{BODY_MAX} characters of text"
    if phone is None:
        return values, "phone must be an 11-digit mainland mobile number"
    if name and name_problem(name):
        return values, "first_name and last_name must be letters"
    return values, ""


async def create_request(request: Request) -> Response:
    """POST with an api_key: the request goes down the feed to the village's township edge,
    which creates the item under the id answered here (central never writes an edge)."""
    if not _format_ok(request):
        return _error(request, 404, "format must be json or xml")
    node = central_node(request)
    form = await request.form()
    async with node.db.read() as db:
        key = await keys.active_key(db, str(form.get("api_key", "")))
        values, problem = _submitted(form)
        node_id = await _node_of(db, values["village"])
    if key is None:
        return _error(request, 403, "api_key is missing or not valid")
    if problem:
        return _error(request, 400, problem)
    if node_id is None:
        return _error(request, 400, "address_id must be the 12-digit code of a village served here")
    now = node.clock()
    item_id = str(ULID())
    command = FeedbackRequest(
        node_id=node_id,
        feedback_id=item_id,
        village_code=values["village"],
        kind_code=values["kind"],
        category=values["category"],
        text=values["text"],
        author_name=values["name"],
        author_phone=values["phone"],
        private=values["private"],
        received_at=stamp(now),
    )
    async with node.db.write() as db:
        wait = await keys.take_turn(db, key["id"], key["per_hour"], now)
        if wait is not None:
            return _limited(request, key["per_hour"], wait)
        await append(db, node_id, command, stamp(now))
        await record(
            db,
            node.settings.keys_dir,
            None,
            "open311_request",
            "feedback",
            f"{node_id}:{item_id}",
            stamp(now),
            key["name"],
        )
    notice = f"sent to the township; due within {routing().kind(values['kind']).days} working days"  # type: ignore[union-attr]
    return _answer(
        request,
        [{"service_request_id": item_id, "service_notice": notice, "account_id": None}],
        "request",
    )


routes = [
    Route("/open311/v2/services.{format}", services, methods=["GET"], name="georeport:services"),
    Route(
        "/open311/v2/requests.{format}", list_requests, methods=["GET"], name="georeport:requests"
    ),
    Route(
        "/open311/v2/requests.{format}",
        create_request,  # a tool's call with its api_key, no cookie: nothing to forge
        methods=["POST"],
        name="georeport:create",
    ),
    Route(
        "/open311/v2/requests/{item_id}.{format}",
        one_request,
        methods=["GET"],
        name="georeport:request",
    ),
]
