"""The feed's command kinds, one frozen dataclass each: central writes a command only through
its class (`to_payload`), the edge reads one only through it (`from_payload`, validating).
A new kind: a `@command_kind` dataclass here, and its handler in edge/sync/commands.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Protocol, Self, TypeVar

from replication.feed import payload as read
from replication.feed.payload import MalformedCommand


class UnknownCommandKind(MalformedCommand):
    """A kind this node's registry does not declare (a newer central, or a typo)."""


class Command(Protocol):
    """What every command kind offers."""

    kind: ClassVar[str]

    def to_payload(self) -> dict[str, Any]:
        """The JSON object central stores and sends."""
        ...

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        """The command from its JSON object; MalformedCommand if it does not fit."""
        ...


C = TypeVar("C", bound=type[Command])

KINDS: dict[str, type[Command]] = {}


def command_kind(cls: C) -> C:
    """Declare a command kind: the registry maps its `kind` to its class."""
    if cls.kind in KINDS:
        raise ValueError(f"command kind {cls.kind!r} is declared twice")
    KINDS[cls.kind] = cls
    return cls


def parse_command(kind: str, payload: object) -> Command:
    """The typed command of a feed entry; MalformedCommand (UnknownCommandKind) if it is not one."""
    found = KINDS.get(kind)
    if found is None:
        raise UnknownCommandKind(f"unknown command kind {kind!r}")
    return found.from_payload(read.json_object(payload))


def encode(command: Command) -> str:
    """The payload as central stores it and the feed carries it: JSON, sorted keys, UTF-8 kept.

    Only a declared kind is written (the registry, not the table, lists the kinds)."""
    if KINDS.get(command.kind) is not type(command):
        raise ValueError(f"command kind {command.kind!r} is not declared")
    return json.dumps(command.to_payload(), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class OfficerCard:
    """The central officer who decided, as the edge records them (an account that cannot log in),
    known by account id: the phone is no longer written; older payloads still carry one."""

    id: str
    name: str
    phone: str | None  # None when central writes; commands written before still carry one
    jurisdiction_code: str
    department_code: str | None

    def to_payload(self) -> dict[str, Any]:
        """The card as a JSON object; a phone only if an older stored command carried one."""
        card = {
            "id": self.id,
            "name": self.name,
            "jurisdiction_code": self.jurisdiction_code,
            "department_code": self.department_code,
        }
        return card if self.phone is None else {**card, "phone": self.phone}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> OfficerCard:
        """The card from its JSON object, with the phone of an older one."""
        return cls(
            read.text(payload, "id"),
            read.text(payload, "name"),
            read.optional_text(payload, "phone"),
            read.text(payload, "jurisdiction_code"),
            read.optional_text(payload, "department_code"),
        )


@command_kind
@dataclass(frozen=True)
class CountyDecision:
    """A county department's decision on one step, made and sealed at central."""

    kind: ClassVar[str] = "county_decision"

    node_id: str
    application_id: str
    step_id: str
    tracking_code: str
    item_code: str
    applicant: str
    id_number: str
    action: str
    opinion: str
    department: str
    county: str
    decided_at: str
    officer: OfficerCard
    seal_id: str
    material_keys: tuple[str, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        """The decision as a JSON object (the sealed fields, the officer, materials, seal)."""
        return {
            "node_id": self.node_id,
            "application_id": self.application_id,
            "step_id": self.step_id,
            "tracking_code": self.tracking_code,
            "item_code": self.item_code,
            "applicant": self.applicant,
            "id_number": self.id_number,
            "action": self.action,
            "opinion": self.opinion,
            "department": self.department,
            "county": self.county,
            "decided_at": self.decided_at,
            "material_keys": list(self.material_keys),
            "officer": self.officer.to_payload(),
            "seal_id": self.seal_id,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> CountyDecision:
        """The decision from its JSON object; `opinion` and `material_keys` may be absent."""
        return cls(
            node_id=read.text(payload, "node_id"),
            application_id=read.text(payload, "application_id"),
            step_id=read.text(payload, "step_id"),
            tracking_code=read.text(payload, "tracking_code"),
            item_code=read.text(payload, "item_code"),
            applicant=read.text(payload, "applicant"),
            id_number=read.text(payload, "id_number"),
            action=read.text(payload, "action"),
            opinion=read.text(payload, "opinion", ""),
            department=read.text(payload, "department"),
            county=read.text(payload, "county"),
            decided_at=read.text(payload, "decided_at"),
            officer=OfficerCard.from_payload(read.json_object(payload.get("officer"), "officer")),
            seal_id=read.text(payload, "seal_id"),
            material_keys=read.texts(payload, "material_keys"),
        )


@dataclass(frozen=True)
class CalendarDay:
    """A holiday (not a working day) or a make-up working day (调休)."""

    day: date
    is_workday: bool
    note: str = ""

    def to_payload(self) -> dict[str, Any]:
        """The day as a JSON object."""
        return {"day": self.day.isoformat(), "is_workday": self.is_workday, "note": self.note}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> CalendarDay:
        """The day from its JSON object; `note` may be absent."""
        return cls(
            read.day(payload, "day"),
            read.flag(payload, "is_workday"),
            read.text(payload, "note", ""),
        )


@command_kind
@dataclass(frozen=True)
class Calendar:
    """Holidays and make-up working days published by central."""

    kind: ClassVar[str] = "calendar"

    days: tuple[CalendarDay, ...]

    def to_payload(self) -> dict[str, Any]:
        """The calendar as a JSON object."""
        return {"days": [entry.to_payload() for entry in self.days]}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Calendar:
        """The calendar from its JSON object."""
        return cls(tuple(CalendarDay.from_payload(item) for item in read.objects(payload, "days")))


@command_kind
@dataclass(frozen=True)
class Catalog:
    """Central's service catalog files, parsed (the edge checks them again before loading)."""

    kind: ClassVar[str] = "catalog"

    head: dict[str, Any]
    items: tuple[dict[str, Any], ...]

    def to_payload(self) -> dict[str, Any]:
        """The catalog as a JSON object."""
        return {"head": self.head, "items": list(self.items)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Catalog:
        """The catalog from its JSON object (its content is checked by the edge's loader)."""
        head = dict(read.json_object(payload.get("head"), "head"))
        return cls(head, tuple(dict(item) for item in read.objects(payload, "items")))


FOLLOW_UP_ACTIONS = ("verify", "remedy", "callback")


@command_kind
@dataclass(frozen=True)
class FollowUpAction:
    """A step of a bad rating's follow-up (整改) recorded at central by the officer of the
    county department that decided: verify, remedy (choice: rectified / explained) or the
    call-back that closes it (choice: its result). The township writes its follow-up row."""

    kind: ClassVar[str] = "follow_up_action"

    node_id: str
    follow_up_id: str
    action: str
    choice: str
    note: str
    acted_at: str
    officer: OfficerCard

    def to_payload(self) -> dict[str, Any]:
        """The action as a JSON object."""
        return {
            "node_id": self.node_id,
            "follow_up_id": self.follow_up_id,
            "action": self.action,
            "choice": self.choice,
            "note": self.note,
            "acted_at": self.acted_at,
            "officer": self.officer.to_payload(),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> FollowUpAction:
        """The action from its JSON object; an unknown action is malformed."""
        action = read.text(payload, "action")
        if action not in FOLLOW_UP_ACTIONS:
            raise MalformedCommand(f"unknown follow-up action {action!r}")
        return cls(
            node_id=read.text(payload, "node_id"),
            follow_up_id=read.text(payload, "follow_up_id"),
            action=action,
            choice=read.text(payload, "choice", ""),
            note=read.text(payload, "note"),
            acted_at=read.text(payload, "acted_at"),
            officer=OfficerCard.from_payload(read.json_object(payload.get("officer"), "officer")),
        )


@command_kind
@dataclass(frozen=True)
class CityPolicy:
    """A city-wide benefit policy published by a central admin; each edge keeps a copy."""

    kind: ClassVar[str] = "city_policy"

    id: str
    title: str
    issuer: str
    eligibility: str
    amount: str
    how_to_apply: str
    item_code: str | None
    valid_from: date
    valid_to: date | None
    published_at: str

    def to_payload(self) -> dict[str, Any]:
        """The policy as a JSON object."""
        return {
            "id": self.id,
            "title": self.title,
            "issuer": self.issuer,
            "eligibility": self.eligibility,
            "amount": self.amount,
            "how_to_apply": self.how_to_apply,
            "item_code": self.item_code,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": None if self.valid_to is None else self.valid_to.isoformat(),
            "published_at": self.published_at,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> CityPolicy:
        """The policy from its JSON object; `item_code` and `valid_to` may be null."""
        return cls(
            id=read.text(payload, "id"),
            title=read.text(payload, "title"),
            issuer=read.text(payload, "issuer"),
            eligibility=read.text(payload, "eligibility"),
            amount=read.text(payload, "amount"),
            how_to_apply=read.text(payload, "how_to_apply"),
            item_code=read.optional_text(payload, "item_code"),
            valid_from=read.day(payload, "valid_from"),
            valid_to=None if payload.get("valid_to") is None else read.day(payload, "valid_to"),
            published_at=read.text(payload, "published_at"),
        )


@command_kind
@dataclass(frozen=True)
class CityNews:
    """A short city-wide news post (我的城市) written at central; each edge keeps a copy."""

    kind: ClassVar[str] = "city_news"

    id: str
    title: str
    body: str
    published_at: str

    def to_payload(self) -> dict[str, Any]:
        """The post as a JSON object."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "published_at": self.published_at,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> CityNews:
        """The post from its JSON object."""
        return cls(
            id=read.text(payload, "id"),
            title=read.text(payload, "title"),
            body=read.text(payload, "body"),
            published_at=read.text(payload, "published_at"),
        )


@command_kind
@dataclass(frozen=True)
class MarketContact:
    """A buyer's contact request made at central for a listing of the node: the node texts the
    seller the buyer's number and message, once per `contact_id`."""

    kind: ClassVar[str] = "market_contact"

    contact_id: str
    listing_id: str
    buyer_phone: str
    message: str

    def to_payload(self) -> dict[str, Any]:
        """The request as a JSON object."""
        return {
            "contact_id": self.contact_id,
            "listing_id": self.listing_id,
            "buyer_phone": self.buyer_phone,
            "message": self.message,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> MarketContact:
        """The request from its JSON object; ids of 26 characters, an 11-digit mobile."""
        contact = cls(
            read.text(payload, "contact_id"),
            read.text(payload, "listing_id"),
            read.text(payload, "buyer_phone"),
            read.text(payload, "message", ""),
        )
        if len(contact.contact_id) != 26 or len(contact.listing_id) != 26:
            raise MalformedCommand("contact_id and listing_id must be 26-character ids")
        if not (len(contact.buyer_phone) == 11 and contact.buyer_phone.isdecimal()):
            raise MalformedCommand("buyer_phone must be an 11-digit mobile number")
        return contact


@command_kind
@dataclass(frozen=True)
class FeedbackAnswer:
    """A county department's answer to a 我有话说 item, given at central; the edge writes it into
    its own row (one writer per row) and texts the resident."""

    kind: ClassVar[str] = "feedback_answer"

    node_id: str
    feedback_id: str
    department: str
    answer: str
    answered_by: str
    answered_at: str

    def to_payload(self) -> dict[str, Any]:
        """The answer as a JSON object."""
        return {
            "node_id": self.node_id,
            "feedback_id": self.feedback_id,
            "department": self.department,
            "answer": self.answer,
            "answered_by": self.answered_by,
            "answered_at": self.answered_at,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> FeedbackAnswer:
        """The answer from its JSON object."""
        return cls(
            read.text(payload, "node_id"),
            read.text(payload, "feedback_id"),
            read.text(payload, "department"),
            read.text(payload, "answer"),
            read.text(payload, "answered_by"),
            read.text(payload, "answered_at"),
        )


@command_kind
@dataclass(frozen=True)
class FeedbackRequest:
    """A 我有话说 item submitted to central (Open311 POST): the village's edge creates it under
    the id central gave, so central never writes an edge database."""

    kind: ClassVar[str] = "feedback_request"

    node_id: str
    feedback_id: str
    village_code: str
    kind_code: str
    category: str
    text: str
    author_name: str
    author_phone: str
    private: bool
    received_at: str

    def to_payload(self) -> dict[str, Any]:
        """The request as a JSON object."""
        return {
            "node_id": self.node_id,
            "feedback_id": self.feedback_id,
            "village_code": self.village_code,
            "kind": self.kind_code,
            "category": self.category,
            "text": self.text,
            "author_name": self.author_name,
            "author_phone": self.author_phone,
            "private": self.private,
            "received_at": self.received_at,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> FeedbackRequest:
        """The request from its JSON object."""
        return cls(
            read.text(payload, "node_id"),
            read.text(payload, "feedback_id"),
            read.text(payload, "village_code"),
            read.text(payload, "kind"),
            read.text(payload, "category"),
            read.text(payload, "text"),
            read.text(payload, "author_name", ""),
            read.text(payload, "author_phone", ""),
            read.flag(payload, "private"),
            read.text(payload, "received_at"),
        )


REMINDER_KINDS = ("urge", "escalation")


@command_kind
@dataclass(frozen=True)
class StepReminder:
    """A 催办 (a supervisor's, named) or an escalation (the deadline scan's) that central sent on
    a county step of this node: the township records it in the step's history, nothing more
    (central texted the officers; the township's own scan does not escalate county steps)."""

    kind: ClassVar[str] = "step_reminder"

    node_id: str
    reminder_id: str
    step_id: str
    application_id: str
    reminder_kind: str
    sent_at: str
    sent_by_name: str
    recipients: tuple[str, ...]
    note: str = ""

    def to_payload(self) -> dict[str, Any]:
        """The reminder as a JSON object (recipients by name: they are central's accounts)."""
        return {
            "node_id": self.node_id,
            "reminder_id": self.reminder_id,
            "step_id": self.step_id,
            "application_id": self.application_id,
            "reminder_kind": self.reminder_kind,
            "sent_at": self.sent_at,
            "sent_by_name": self.sent_by_name,
            "recipients": list(self.recipients),
            "note": self.note,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> StepReminder:
        """The reminder from its JSON object; an unknown reminder kind is malformed."""
        reminder_kind = read.text(payload, "reminder_kind")
        if reminder_kind not in REMINDER_KINDS:
            raise MalformedCommand(f"unknown reminder kind {reminder_kind!r}")
        return cls(
            node_id=read.text(payload, "node_id"),
            reminder_id=read.text(payload, "reminder_id"),
            step_id=read.text(payload, "step_id"),
            application_id=read.text(payload, "application_id"),
            reminder_kind=reminder_kind,
            sent_at=read.text(payload, "sent_at"),
            sent_by_name=read.text(payload, "sent_by_name", ""),
            recipients=read.texts(payload, "recipients"),
            note=read.text(payload, "note", ""),
        )


@dataclass(frozen=True)
class Township:
    """One township node as residents reach it: its code, names and public web address."""

    node_id: str
    township_code: str
    name_zh: str
    name_en: str
    base_url: str

    def to_payload(self) -> dict[str, Any]:
        """The township as a JSON object."""
        return {
            "node_id": self.node_id,
            "township_code": self.township_code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "base_url": self.base_url,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Township:
        """The township from its JSON object; a 12-digit code and an http(s) address."""
        township = cls(
            read.text(payload, "node_id"),
            read.text(payload, "township_code"),
            read.text(payload, "name_zh"),
            read.text(payload, "name_en", ""),
            read.text(payload, "base_url"),
        )
        code, url = township.township_code, township.base_url
        if not (len(code) == 12 and code.isdigit()):
            raise MalformedCommand(f"township code {code!r} is not 12 digits")
        if not url.startswith(("https://", "http://")) or any(c in url for c in " \"'<>"):
            raise MalformedCommand(f"base_url {url!r} is not an http(s) address")
        return township


@command_kind
@dataclass(frozen=True)
class Townships:
    """Every township node central knows, with its public address, so each edge's home page
    links residents to the others (an edge does not know its peers); the whole list each
    time, and the edge keeps only the newest."""

    kind: ClassVar[str] = "townships"

    townships: tuple[Township, ...]

    def to_payload(self) -> dict[str, Any]:
        """The list as a JSON object."""
        return {"townships": [township.to_payload() for township in self.townships]}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Townships:
        """The list from its JSON object."""
        return cls(tuple(Township.from_payload(one) for one in read.objects(payload, "townships")))
