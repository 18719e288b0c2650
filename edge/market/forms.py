"""Market forms -> (values, errors): a seller's real-name check, a listing, a buyer's contact
request, a report, the search filters. Errors are messages in the user's language by field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData, QueryParams

from edge.kernel import id_numbers
from edge.kernel.i18n import gettext as _
from edge.kernel.text_input import name_problem, normal_name, text_problem
from edge.market.categories import categories, units
from edge.market.search import Filters

MOBILE = re.compile(r"1[3-9]\d{9}")
DEFAULT_DAYS = 30
MAX_DAYS = 90
MAX_YUAN = 10_000_000
MAX_YUAN = 10_000_000
MESSAGE_MAX = 30  # the seller's SMS carries the buyer's number and this, in one segment
NOTE_MAX = 200
SHORT_MAX = 20
REPORT_REASONS = ("spam", "fraud", "prohibited", "wrong_category", "duplicate")
SIDES = ("supply", "demand")

Errors = dict[str, str]


def _text(form: FormData | QueryParams, name: str) -> str:
    return str(form.get(name, "")).strip()


def mobile(raw: str) -> str | None:
    """An 11-digit mainland mobile number, spaces and dashes dropped; None if it is not one."""
    compact = re.sub(r"[\s-]", "", raw)
    return compact if MOBILE.fullmatch(compact) else None


def _short(form: FormData, name: str, limit: int, errors: Errors, required: bool) -> str:
    value = _text(form, name)
    problem = text_problem(value)
    if problem:
        errors[name] = str(problem)
    elif required and not value:
        errors[name] = _("请填写这一项。")
    elif len(value) > limit:
        errors[name] = _("太长了，最多 {n} 个字。").format(n=limit)
    return value


@dataclass(frozen=True)
class SellerCheck:
    """A resident or cooperative the agent checked in person."""

    kind: str
    name: str
    cooperative: str
    id_number: str
    phone: str
    village_code: str


def parse_seller(
    form: FormData, today: date, villages: list[str]
) -> tuple[SellerCheck | None, dict[str, Any], Errors]:
    """The real-name check form: GB 11643 ID number, mobile, village, and both confirmations."""
    errors: Errors = {}
    kind = _text(form, "kind") if _text(form, "kind") in ("person", "cooperative") else "person"
    name = normal_name(_text(form, "name"))
    problem = name_problem(name)
    if problem:
        errors["name"] = str(problem)
    cooperative = _short(form, "cooperative", 40, errors, kind == "cooperative")
    number = _text(form, "id_number")
    try:
        number = id_numbers.parse(number, today).number
    except id_numbers.InvalidIdNumber as exc:
        errors["id_number"] = str(exc)
    phone = mobile(_text(form, "phone"))
    if phone is None:
        errors["phone"] = _("请填写11位手机号码。")
    village = _text(form, "village_code")
    if village not in villages:
        errors["village_code"] = _("请选择卖家所在的村。")
    if form.get("id_seen") != "yes":
        errors["id_seen"] = _("请当面核对身份证原件后再勾选。")
    if form.get("farms_here") != "yes":
        errors["farms_here"] = _("请确认卖家在本村生产经营后再勾选。")
    values = {
        "kind": kind,
        "name": name,
        "cooperative": cooperative,
        "phone": _text(form, "phone")[:20],
        "village_code": village,
    }
    if errors:
        return None, values, errors
    assert phone is not None
    return SellerCheck(kind, name, cooperative, number, phone, village), values, errors


@dataclass(frozen=True)
class ListingDraft:
    """What a listing says, checked."""

    side: str
    category: str
    product: str
    variety: str
    grade: str
    quantity: float
    unit: str
    price_fen: int | None
    available_from: date
    available_until: date
    delivery_note: str
    description: str


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def price_fen(raw: str) -> int | None:
    """Yuan as typed (12, 12.5, 12.50) in fen; None if it is not a positive amount."""
    try:
        amount = Decimal(raw.replace("元", "").replace(",", "").strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or not 0 < amount <= MAX_YUAN:
        return None
    if amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


def _window(form: FormData, today: date, errors: Errors) -> tuple[date, date]:
    start = _day(_text(form, "available_from")) if _text(form, "available_from") else today
    if start is None:
        errors["available_from"] = _("请按 年-月-日 填写日期。")
        start = today
    raw_end = _text(form, "available_until")
    end = _day(raw_end) if raw_end else max(start, today) + timedelta(days=DEFAULT_DAYS)
    if end is None:
        errors["available_until"] = _("请按 年-月-日 填写日期。")
        end = today
    elif end < today or end < start:
        errors["available_until"] = _("截止日期不能早于今天或开始日期。")
    elif end > today + timedelta(days=MAX_DAYS):
        errors["available_until"] = _("最长挂 {n} 天，到期前可以续期。").format(n=MAX_DAYS)
    return start, end


def _quantity(form: FormData, errors: Errors) -> float:
    try:
        quantity = float(Decimal(_text(form, "quantity")))
    except (InvalidOperation, ValueError):
        quantity = 0.0
    if not 0 < quantity <= 1_000_000:
        errors["quantity"] = _("请填写数量（大于0的数字）。")
    return quantity


def _price(form: FormData, errors: Errors) -> int | None:
    if form.get("negotiable") == "yes" or not _text(form, "price"):
        return None
    fen = price_fen(_text(form, "price"))
    if fen is None:
        errors["price"] = _("请填写单价（元，最多两位小数），或勾选面议。")
    return fen


def parse_listing(
    form: FormData, today: date
) -> tuple[ListingDraft | None, dict[str, Any], Errors]:
    """A listing form: category and unit from the list, quantity, price or 面议, a window of
    at most 90 days (30 by default)."""
    errors: Errors = {}
    side = _text(form, "side") if _text(form, "side") in SIDES else "supply"
    category = _text(form, "category")
    if category not in {c.code for c in categories()}:
        errors["category"] = _("请选择类别。")
    unit = _text(form, "unit")
    if unit not in {u.code for u in units()}:
        errors["unit"] = _("请选择单位。")
    product = _short(form, "product", SHORT_MAX, errors, True)
    variety = _short(form, "variety", SHORT_MAX, errors, False)
    grade = _short(form, "grade", SHORT_MAX, errors, False)
    delivery = _short(form, "delivery_note", 60, errors, False)
    description = _text(form, "description")
    problem = text_problem(description, multiline=True)
    if problem:
        errors["description"] = str(problem)
    elif len(description) > NOTE_MAX:
        errors["description"] = _("太长了，最多 {n} 个字。").format(n=NOTE_MAX)
    quantity = _quantity(form, errors)
    price = _price(form, errors)
    start, end = _window(form, today, errors)
    values: dict[str, Any] = {
        name: _text(form, name)[:NOTE_MAX] for name in form if name != "csrf_token"
    }
    values.update(side=side, negotiable=form.get("negotiable") == "yes")
    if errors:
        return None, values, errors
    draft = ListingDraft(
        side,
        category,
        product,
        variety,
        grade,
        quantity,
        unit,
        price,
        start,
        end,
        delivery,
        description,
    )
    return draft, values, errors


def parse_contact(form: FormData) -> tuple[str | None, str, dict[str, Any], Errors]:
    """(buyer's mobile, message, values, errors) of a contact request."""
    errors: Errors = {}
    phone = mobile(_text(form, "phone"))
    if phone is None:
        errors["phone"] = _("请填写您的11位手机号码，卖家会打这个电话联系您。")
    message = " ".join(_text(form, "message").split())
    problem = text_problem(message)
    if problem:
        errors["message"] = str(problem)
    elif len(message) > MESSAGE_MAX:
        errors["message"] = _("留言最多 {n} 个字。").format(n=MESSAGE_MAX)
    values = {"phone": _text(form, "phone")[:20], "message": message[:100]}
    return phone, message, values, errors


def parse_report(form: FormData) -> tuple[str, str, Errors]:
    """(reason, note, errors) of a report."""
    errors: Errors = {}
    reason = _text(form, "reason")
    if reason not in REPORT_REASONS:
        errors["reason"] = _("请选择举报原因。")
    note = _text(form, "note")
    problem = text_problem(note)
    if problem:
        errors["note"] = str(problem)
    elif len(note) > NOTE_MAX:
        errors["note"] = _("太长了，最多 {n} 个字。").format(n=NOTE_MAX)
    return reason, note, errors


def parse_filters(params: QueryParams) -> tuple[Filters, Errors]:
    """Search filters from the query string; a wrong value is named and left out."""
    errors: Errors = {}
    low = _text(params, "min_price")
    high = _text(params, "max_price")
    min_fen = price_fen(low) if low else None
    max_fen = price_fen(high) if high else None
    if (low and min_fen is None) or (high and max_fen is None):
        errors["price"] = _("价格请填写数字（元）。")
    raw_day = _text(params, "on")
    on_day = _day(raw_day) if raw_day else None
    if raw_day and on_day is None:
        errors["on"] = _("请按 年-月-日 填写日期。")
    place = _text(params, "place")
    if not (place.isdecimal() and len(place) in (6, 9)):
        place = ""
    category = _text(params, "category")
    if category not in {c.code for c in categories()}:
        category = ""
    side = _text(params, "side") if _text(params, "side") in SIDES else ""
    near = _text(params, "near")
    near = near if near.isdecimal() and len(near) == 12 else ""
    try:
        page = max(1, min(int(_text(params, "page") or 1), 50))
    except ValueError:
        page = 1
    filters = Filters(
        query=_text(params, "q")[:40],
        category=category,
        place=place,
        min_fen=min_fen,
        max_fen=max_fen,
        side=side,
        on_day=on_day,
        near=near,
        page=page,
    )
    return filters, errors
