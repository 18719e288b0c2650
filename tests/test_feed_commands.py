"""The feed's typed commands: one class per kind, the only writer and reader of its payload."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

import pytest

from edge.catalog.loader import read_parts
from edge.sync.commands import HANDLERS
from replication.feed.commands import (
    KINDS,
    Calendar,
    CalendarDay,
    Catalog,
    CityNews,
    CityPolicy,
    Command,
    CountyDecision,
    FeedbackAnswer,
    FeedbackRequest,
    FollowUpAction,
    MarketContact,
    OfficerCard,
    StepReminder,
    Township,
    Townships,
    UnknownCommandKind,
    command_kind,
    encode,
    parse_command,
)
from replication.feed.payload import MalformedCommand

OFFICER = OfficerCard("01JD0000000000000000000003", "何浦", "13807710031", "450521000000", "civil")
DECISION = CountyDecision(
    node_id="lianzhou",
    application_id="01JD0000000000000000000001",
    step_id="01JD0000000000000000000002",
    tracking_code="LZ-2611-0001",
    item_code="YB-002",
    applicant="张*",
    id_number="4505**********1234",
    action="return",
    opinion="补充诊断证明",
    department="civil",
    county="450521000000",
    decided_at="2026-11-23T09:00:00+00:00",
    officer=OFFICER,
    seal_id="01JD0000000000000000000004",
    material_keys=("id_card",),
)
CALENDAR = Calendar(
    (CalendarDay(date(2027, 2, 11), False, "春节"), CalendarDay(date(2027, 2, 7), True, "春节"))
)
HEAD, ITEMS = read_parts()
FOLLOW_UP = FollowUpAction(
    "lianzhou",
    "01JD0000000000000000000005",
    "callback",
    "satisfied",
    "电话回访，群众满意",
    "2026-11-24T09:00:00+00:00",
    OFFICER,
)
POLICY = CityPolicy(
    id="01JD0000000000000000000005",
    title="高龄津贴",
    issuer="北海市民政局",
    eligibility="80 周岁以上本市户籍老人",
    amount="每人每月 50–300 元",
    how_to_apply="向村委会申请",
    item_code="MZ-004",
    valid_from=date(2026, 1, 1),
    valid_to=None,
    published_at="2026-11-23T09:00:00+00:00",
)
ANSWER = FeedbackAnswer(
    node_id="lianzhou",
    feedback_id="01JD0000000000000000000005",
    department="civil",
    answer="已核实，低保下月恢复发放。",
    answered_by="黄丽娟",
    answered_at="2026-11-24T09:00:00+00:00",
)
REQUEST = FeedbackRequest(
    node_id="lianzhou",
    feedback_id="01JD0000000000000000000006",
    village_code="450521100201",
    kind_code="problem",
    category="roads",
    text="桥头护栏坏了。",
    author_name="",
    author_phone="13977123456",
    private=False,
    received_at="2026-11-24T09:00:00+00:00",
)
CONTACT = MarketContact(
    "01JD0000000000000000000005", "01JD0000000000000000000006", "13612345678", "要5头"
)
NEWS = CityNews(
    "01JD0000000000000000000006", "冬季森林防火", "注意用火安全。", "2026-11-23T09:00:00+00:00"
)
REMINDER = StepReminder(
    node_id="lianzhou",
    reminder_id="01JD0000000000000000000007",
    step_id="01JD0000000000000000000002",
    application_id="01JD0000000000000000000001",
    reminder_kind="urge",
    sent_at="2026-11-24T09:00:00+00:00",
    sent_by_name="刘振东",
    recipients=("何浦",),
    note="请今天办完",
)
TOWNSHIPS = Townships(
    (
        Township("lianzhou", "450521100000", "廉州镇", "Lianzhou", "https://lianzhou.example.cn"),
        Township("fucheng", "450521104000", "福成镇", "Fucheng", "http://10.0.0.2:8000"),
    )
)
SAMPLES: list[Command] = [
    DECISION,
    CALENDAR,
    Catalog(HEAD, tuple(ITEMS)),
    FOLLOW_UP,
    POLICY,
    NEWS,
    CONTACT,
    ANSWER,
    REQUEST,
    REMINDER,
    TOWNSHIPS,
]

# payloads exactly as central stored them before commands were typed (sorted keys, UTF-8 kept)
STORED = {
    "county_decision": (
        '{"action": "return", "applicant": "张*", "application_id": "01JD0000000000000000000001",'
        ' "county": "450521000000", "decided_at": "2026-11-23T09:00:00+00:00", "department":'
        ' "civil", "id_number": "4505**********1234", "item_code": "YB-002", "material_keys":'
        ' ["id_card"], "node_id": "lianzhou", "officer": {"department_code": "civil", "id":'
        ' "01JD0000000000000000000003", "jurisdiction_code": "450521000000", "name": "何浦",'
        ' "phone": "13807710031"}, "opinion": "补充诊断证明", "seal_id":'
        ' "01JD0000000000000000000004", "step_id": "01JD0000000000000000000002",'
        ' "tracking_code": "LZ-2611-0001"}'
    ),
    "calendar": (
        '{"days": [{"day": "2027-02-11", "is_workday": false, "note": "春节"}, {"day":'
        ' "2027-02-07", "is_workday": true, "note": "春节"}]}'
    ),
}


@pytest.mark.parametrize("command", SAMPLES, ids=lambda c: c.kind)
def test_each_kind_reads_back_what_it_wrote(command):
    assert type(command).from_payload(command.to_payload()) == command
    assert parse_command(command.kind, json.loads(encode(command))) == command


def test_every_declared_kind_has_a_sample_and_an_edge_handler():
    assert {type(command) for command in SAMPLES} == set(KINDS.values())
    assert set(HANDLERS) == set(KINDS.values())
    assert sorted(KINDS) == [
        "calendar",
        "catalog",
        "city_news",
        "city_policy",
        "county_decision",
        "feedback_answer",
        "feedback_request",
        "follow_up_action",
        "market_contact",
        "step_reminder",
        "townships",
    ]


def test_a_market_contact_with_a_bad_number_or_id_is_malformed():
    payload = CONTACT.to_payload()
    for bad in ({"buyer_phone": "1361234567x"}, {"listing_id": "short"}, {"message": 5}):
        with pytest.raises(MalformedCommand):
            parse_command("market_contact", payload | bad)


def test_a_township_without_a_web_address_or_a_12_digit_code_is_malformed():
    good = TOWNSHIPS.to_payload()["townships"][0]
    for bad in (
        {"base_url": "javascript:alert(1)"},
        {"base_url": 'https://x.cn/"><script>'},
        {"township_code": "4505211"},
        {"base_url": None},
    ):
        with pytest.raises(MalformedCommand):
            parse_command("townships", {"townships": [good | bad]})
    assert parse_command("townships", {"townships": []}) == Townships(())


@pytest.mark.parametrize("kind", sorted(STORED))
def test_payloads_stored_before_typing_parse_and_write_back_byte_for_byte(kind):
    command = parse_command(kind, json.loads(STORED[kind]))
    assert command == {"county_decision": DECISION, "calendar": CALENDAR}[kind]
    assert encode(command) == STORED[kind]


def test_optional_fields_may_be_absent_and_unknown_fields_are_ignored():
    payload = DECISION.to_payload()
    del payload["opinion"], payload["material_keys"]
    payload["added_by_a_newer_central"] = 1
    parsed = parse_command("county_decision", payload)
    assert isinstance(parsed, CountyDecision)
    assert (parsed.opinion, parsed.material_keys, parsed.step_id) == ("", (), DECISION.step_id)
    day = parse_command("calendar", {"days": [{"day": "2027-01-01", "is_workday": False}]})
    assert day == Calendar((CalendarDay(date(2027, 1, 1), False, ""),))


def test_the_registry_refuses_an_unknown_kind():
    with pytest.raises(UnknownCommandKind, match="unknown command kind 'policy'"):
        parse_command("policy", {"title": "惠民政策"})
    assert issubclass(UnknownCommandKind, MalformedCommand)


def _without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(payload)
    target = broken
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return broken


def _officer_phone(payload: dict[str, Any], phone: object) -> dict[str, Any]:
    return {**payload, "officer": {**payload["officer"], "phone": phone}}


def _with(payload: dict[str, Any], key: str, value: object) -> dict[str, Any]:
    return {**copy.deepcopy(payload), key: value}


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        ("county_decision", _without(DECISION.to_payload(), "step_id"), "step_id must be text"),
        ("county_decision", _with(DECISION.to_payload(), "action", 1), "action must be text"),
        ("county_decision", _without(DECISION.to_payload(), "officer"), "officer must be an obj"),
        ("county_decision", _officer_phone(DECISION.to_payload(), 13807710031), "phone must"),
        ("county_decision", _with(DECISION.to_payload(), "material_keys", "id"), "list of text"),
        ("calendar", {}, "days must be a list"),
        ("calendar", {"days": ["2027-01-01"]}, "each of days must be an object"),
        ("calendar", {"days": [{"day": "2027-13-01", "is_workday": True}]}, "day must be a date"),
        ("calendar", {"days": [{"day": "2027-01-01", "is_workday": "no"}]}, "true or false"),
        ("catalog", {"items": []}, "head must be an object"),
        ("catalog", {"head": {}, "items": {}}, "items must be a list"),
        ("catalog", [], "payload must be an object"),
        ("step_reminder", _with(REMINDER.to_payload(), "reminder_kind", "nag"), "unknown remind"),
        ("step_reminder", _with(REMINDER.to_payload(), "recipients", "何浦"), "list of text"),
    ],
)
def test_a_malformed_payload_is_a_typed_error_naming_the_field(kind, payload, reason):
    with pytest.raises(MalformedCommand, match=reason):
        parse_command(kind, payload)


def test_a_kind_is_declared_once():
    @dataclass(frozen=True)
    class Again:
        kind: ClassVar[str] = "calendar"

        def to_payload(self) -> dict[str, Any]:
            return {}

        @classmethod
        def from_payload(cls, payload: Any) -> Again:
            return cls()

    with pytest.raises(ValueError, match="declared twice"):
        command_kind(Again)
    assert KINDS["calendar"] is Calendar
    with pytest.raises(ValueError, match="'calendar' is not declared"):
        encode(Again())  # central writes only declared kinds


def test_a_follow_up_action_with_an_unknown_action_is_malformed():
    payload = FOLLOW_UP.to_payload() | {"action": "delete"}
    with pytest.raises(MalformedCommand):
        FollowUpAction.from_payload(payload)
