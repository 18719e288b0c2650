"""What happens to a feedback item, each change in the caller's transaction with its history
line and its SMS: raise (受理, routed by category), transfer, handle, answer, visit, rate,
reopen once, urge (催办), and the public version staff edit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite
from ulid import ULID

from edge.applications.tracking_code import format_code, new_code
from edge.feedback import queries
from edge.feedback.routing import TOWNSHIP, routing
from edge.feedback.states import OPEN, check_move
from edge.jurisdictions.codes import contains
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import in_locale
from edge.ratings.levels import LEVELS
from edge.sms.outbox import enqueue
from edge.workdays.working_days import WorkingDays

RESIDENT_LOCALE = "zh_Hans"


class Refused(ValueError):
    """The change does not fit the item's state; str() is a message for the person."""


@dataclass(frozen=True)
class NewItem:
    """What a resident (or an agent for them, or an SMS, or an Open311 client) raises."""

    village_code: str
    kind: str
    category: str
    channel: str
    body: str
    author_name: str = ""
    author_phone: str = ""
    private: bool = False
    photo_sha256: str | None = None
    agent_id: str | None = None
    item_id: str | None = None  # given by central for an Open311 request


@dataclass(frozen=True)
class Raised:
    """The new item's id, tracking code and answer date."""

    id: str
    code: str
    due_on: str


def kind_name(kind: str, locale: str) -> str:
    """The kind's name in `locale` (an SMS names the item by its kind)."""
    found = routing().kind(kind)
    with in_locale(locale):
        return found.name if found else kind


async def _text_resident(
    db: aiosqlite.Connection, row: Mapping[str, Any], template: str, now: datetime
) -> None:
    if not row["author_phone"]:
        return
    await enqueue(
        db,
        phone=row["author_phone"],
        template=template,
        params={
            "item": kind_name(row["kind"], RESIDENT_LOCALE),
            "code": format_code(row["tracking_code"]),
            "date": row["due_on"],
        },
        locale=RESIDENT_LOCALE,
        now=now,
        dedupe_key=f"feedback:{row['id']}:{template}:{row['due_on']}",
    )


async def raise_item(
    db: aiosqlite.Connection, new: NewItem, now: datetime, days: WorkingDays, *, sms: bool = True
) -> Raised:
    """受理: store the item routed by its category (a county department's item is 转办 at once,
    to central) with its due date; text the resident if they gave a phone and `sms`."""
    kind = routing().kind(new.kind)
    category = routing().category(new.category)
    if kind is None or category is None:
        raise Refused(_("请选择类型和事项类别。"))
    at = stamp(now)
    item_id = new.item_id or str(ULID())
    row: dict[str, Any] = {
        "id": item_id,
        "tracking_code": new_code(),
        "village_code": new.village_code,
        "kind": kind.code,
        "category": category.code,
        "channel": new.channel,
        "body": new.body,
        "author_name": new.author_name,
        "author_phone": new.author_phone,
        "private": 1 if new.private else 0,
        "photo_sha256": new.photo_sha256,
        "agent_id": new.agent_id,
        "department_code": category.department,
        "level": category.level,
        "state": "accepted" if category.level == TOWNSHIP else "transferred",
        "deadline_days": kind.days,
        "received_on": days.today.isoformat(),
        "due_on": days.due(days.today, kind.days).isoformat(),
        "created_at": at,
        "updated_at": at,
    }
    await queries.insert(db, row)
    await queries.add_event(db, item_id, at, "accepted", "accepted", "", "")
    if row["state"] == "transferred":
        await queries.add_event(db, item_id, at, "transferred", "transferred", "", "")
    if sms:
        await _text_resident(db, row, "feedback_accepted", now)
    return Raised(item_id, str(row["tracking_code"]), str(row["due_on"]))


async def _load(db: aiosqlite.Connection, item_id: str) -> aiosqlite.Row:
    found = await queries.item(db, item_id)
    if found is None:
        raise Refused(_("没有找到这条留言。"))
    return found


async def move(
    db: aiosqlite.Connection,
    item_id: str,
    target: str,
    actor: str,
    now: datetime,
    *,
    note: str = "",
    department: str = "",
) -> None:
    """A staff step: transfer (to `department`), handle, answer (`note` is the answer) or visit
    (`note` is what the follow-up found). Answering texts the resident."""
    item = await _load(db, item_id)
    check_move(item["state"], target)
    at = stamp(now)
    changes: dict[str, object] = {"state": target, "updated_at": at}
    if target == "transferred":
        if not department:
            raise Refused(_("请选择转办的部门。"))
        changes["department_code"] = department
        changes["level"] = TOWNSHIP if department == TOWNSHIP else "county"
    if target == "answered":
        if not note:
            raise Refused(_("请填写答复内容。"))
        changes.update(answer=note, answered_by=actor, answered_at=at)
    if target == "visited":
        changes["visit_note"] = note
    await queries.update(db, item_id, changes)
    await queries.add_event(db, item_id, at, target, target, department or note, actor)
    if target == "answered":
        await _text_resident(db, dict(item), "feedback_answered", now)


async def answer_from_county(
    db: aiosqlite.Connection, item_id: str, answer: str, department: str, by: str, now: datetime
) -> None:
    """A county department's answer, made at central: only an open item of that department."""
    item = await _load(db, item_id)
    if item["level"] != "county" or item["department_code"] != department:
        raise Refused(_("这条留言不归这个部门办理。"))
    if item["state"] not in OPEN:
        raise Refused(_("这条留言已经答复过了。"))
    if item["state"] == "accepted":
        await queries.update(db, item_id, {"state": "transferred"})
    await move(db, item_id, "answered", by, now, note=answer)


async def rate(db: aiosqlite.Connection, item_id: str, level: int, now: datetime) -> None:
    """评价: the resident's rating of the answer, once."""
    item = await _load(db, item_id)
    if level not in LEVELS:
        raise Refused(_("请选择一个评价。"))
    if item["state"] not in ("answered", "visited") or item["rating_level"]:
        raise Refused(_("这条留言现在不能评价。"))
    at = stamp(now)
    await queries.update(db, item_id, {"rating_level": level, "rated_at": at, "state": "rated"})
    await queries.add_event(db, item_id, at, "rated", "rated", str(level), "")


async def reopen(
    db: aiosqlite.Connection, item_id: str, reason: str, now: datetime, days: WorkingDays
) -> None:
    """Not resolved: back to 办理 with a fresh deadline, once per item."""
    item = await _load(db, item_id)
    if item["reopened"]:
        raise Refused(_("每条留言只能重新办理一次。"))
    if item["state"] not in ("answered", "visited", "rated"):
        raise Refused(_("还没有答复，不能申请重新办理。"))
    if not reason:
        raise Refused(_("请说明哪里没有解决。"))
    at = stamp(now)
    await queries.update(
        db,
        item_id,
        {
            "state": "handling",
            "reopened": 1,
            "reopen_reason": reason,
            "due_on": days.due(days.today, item["deadline_days"]).isoformat(),
            "updated_at": at,
        },
    )
    await queries.add_event(db, item_id, at, "reopened", "handling", reason, "")


async def urge(db: aiosqlite.Connection, item_id: str, actor: str, now: datetime) -> int:
    """催办: a supervisor's reminder, texted to the township staff over the item's village (a
    county item's department is reminded at central); how many SMS were queued."""
    item = await _load(db, item_id)
    if item["state"] not in OPEN:
        raise Refused(_("这条留言已经答复，不需要催办。"))
    at = stamp(now)
    count = item["urge_count"] + 1
    await queries.update(db, item_id, {"urged_at": at, "urge_count": count})
    await queries.add_event(db, item_id, at, "urged", item["state"], "", actor)
    staff = await _staff_over(db, item["village_code"])
    for phone in staff:
        await enqueue(
            db,
            phone=phone,
            template="feedback_urged",
            params={
                "item": kind_name(item["kind"], RESIDENT_LOCALE),
                "code": format_code(item["tracking_code"]),
                "date": item["due_on"],
            },
            locale=RESIDENT_LOCALE,
            now=now,
            dedupe_key=f"feedback:{item_id}:urged:{count}:{phone}",
        )
    return len(staff)


async def _staff_over(db: aiosqlite.Connection, village_code: str) -> list[str]:
    """Phones of the active township staff whose jurisdiction holds the village."""
    async with db.execute(
        "SELECT phone, jurisdiction_code FROM accounts WHERE active = 1 AND role = 'township_staff'"
    ) as cursor:
        rows = await cursor.fetchall()
    return [row["phone"] for row in rows if contains(row["jurisdiction_code"], village_code)]


async def edit_public(
    db: aiosqlite.Connection,
    item_id: str,
    public_body: str,
    name_hidden: bool,
    photo_hidden: bool,
    actor: str,
    now: datetime,
) -> None:
    """Staff's public version: the text as published, the name and the photo hidden or not;
    the original stays as it was."""
    await _load(db, item_id)
    at = stamp(now)
    await queries.update(
        db,
        item_id,
        {
            "public_body": public_body or None,
            "name_hidden": 1 if name_hidden else 0,
            "photo_hidden": 1 if photo_hidden else 0,
            "updated_at": at,
        },
    )
    item = await _load(db, item_id)
    await queries.add_event(db, item_id, at, "public_edited", item["state"], "", actor)
