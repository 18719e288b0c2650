"""Apply one command of central's feed, exactly once, in the caller's transaction.

Each command kind (replication/feed/commands.py) has its handler here, keyed by its class.
A command that cannot apply (the step was already decided, an unknown kind, a malformed
payload) is recorded as refused with the reason, so it never blocks the feed; central reads
the record from the replica. Seeing a command id again changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiosqlite

from edge.applications import lifecycle, states
from edge.applications.decision import Decision, DecisionRefused
from edge.audit.log import append as audit
from edge.catalog.loader import CatalogError, from_parts, load_catalog, newer_loaded
from edge.feedback import lifecycle as feedback
from edge.jurisdictions.codes import contains
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import in_locale
from edge.market import contact as market_contact
from edge.market import queries as market_queries
from edge.news.queries import keep_city_news
from edge.peers import queries as peers
from edge.policies.queries import keep_city_policy
from edge.policies.sheet import seal_policy
from edge.ratings import follow_ups
from edge.ratings import queries as rating_queries
from edge.settings import Settings
from edge.supervision.queries import insert_reminder
from edge.workdays.local import local_today
from edge.workdays.working_days import load_working_days
from replication.feed.commands import (
    Calendar,
    Catalog,
    CityNews,
    CityPolicy,
    CountyDecision,
    FeedbackAnswer,
    FeedbackRequest,
    FollowUpAction,
    MarketContact,
    OfficerCard,
    StepReminder,
    Townships,
)
from replication.feed.payload import MalformedCommand
from replication.feed.pull import FeedEntry

RECORD_LOCALE = "en"  # the language of refusal records, which central shows as they are


class Refused(Exception):
    """The command cannot apply here; the message is recorded for central to show."""


async def already_taken(db: aiosqlite.Connection, command_id: str) -> bool:
    """Whether this node has applied or refused the command before."""
    async with db.execute("SELECT 1 FROM applied_commands WHERE id = ?", (command_id,)) as cursor:
        return await cursor.fetchone() is not None


async def cursor(db: aiosqlite.Connection) -> int:
    """The highest feed position taken so far (0 before the first command)."""
    async with db.execute("SELECT coalesce(max(seq), 0) FROM applied_commands") as found:
        row = await found.fetchone()
    return int(row[0]) if row else 0


async def apply(
    db: aiosqlite.Connection, settings: Settings, entry: FeedEntry, now: datetime
) -> str:
    """Apply `entry` unless taken before; record it; return 'applied', 'refused' or 'seen'."""
    if await already_taken(db, entry.id):
        return "seen"
    await db.execute("SAVEPOINT command")
    try:
        command = entry.command()
        handler = HANDLERS.get(type(command))
        if handler is None:
            raise Refused(f"unknown command kind {entry.kind!r}")
        await handler(db, settings, command, now)
        result, detail = "applied", ""
    except (Refused, MalformedCommand, states.IllegalTransition) as exc:
        await db.execute("ROLLBACK TO command")
        result, detail = "refused", str(exc)[:300]
    await db.execute("RELEASE command")
    await db.execute(
        """
        INSERT INTO applied_commands (id, seq, kind, result, detail, applied_at)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
        (entry.id, entry.seq, entry.kind, result, detail, stamp(now)),
    )
    return result


def placeholder_phone(account_id: str) -> str:
    """A number no phone has (no mobile range starts 10), fixed by the officer's account id:
    the accounts table needs one, and the feed no longer carries the officer's phone."""
    return "10" + str(int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % 10**9).zfill(9)


async def _officer(db: aiosqlite.Connection, card: OfficerCard, now: str) -> Account:
    """The central officer as a local account row (no password, cannot log in here)."""
    phone = card.phone or placeholder_phone(card.id)
    async with db.execute(
        "SELECT origin FROM accounts WHERE phone = ? AND id != ?",
        (phone, card.id),
    ) as found:
        if await found.fetchone() is not None:
            raise Refused("the officer's phone belongs to another account on this node")
    await db.execute(
        """
        INSERT INTO accounts (id, phone, name, role, jurisdiction_code, department_code,
            password_hash, active, created_at, updated_at, origin)
        VALUES (?, ?, ?, 'officer', ?, ?, '!', 0, ?, ?, 'central')
        ON CONFLICT (id) DO UPDATE SET name = excluded.name,
            jurisdiction_code = excluded.jurisdiction_code,
            department_code = excluded.department_code, updated_at = excluded.updated_at
        """,
        (card.id, phone, card.name, card.jurisdiction_code, card.department_code, now, now),
    )
    return Account(
        card.id,
        phone,
        card.name,
        "officer",
        card.jurisdiction_code,
        card.department_code,
        False,
    )


async def _step_for(db: aiosqlite.Connection, command: CountyDecision) -> aiosqlite.Row:
    async with db.execute(
        "SELECT * FROM steps WHERE id = ? AND application_id = ?",
        (command.step_id, command.application_id),
    ) as found:
        step = await found.fetchone()
    if step is None:
        raise Refused("no such step on this node")
    return step


async def county_decision(
    db: aiosqlite.Connection, settings: Settings, command: CountyDecision, now: datetime
) -> None:
    """A county department's decision, made and sealed at central, taken here as one change;
    judged again by the same rules, a rule or permission refusal is recorded in English."""
    step = await _step_for(db, command)
    officer = await _officer(db, command.officer, stamp(now))
    days = await load_working_days(db, now, settings.web.timezone, settings.warning_working_days)
    # made at central, where county steps are decided
    ctx = lifecycle.Context(
        officer,
        now,
        days,
        settings.keys_dir,
        county_steps_here=True,
        public_base=settings.web.public_base,
        follow_up_working_days=settings.follow_up_working_days,
        county_follow_ups_at_central=True,
    )
    decision = Decision(
        step["id"],
        command.action,
        officer,
        now,
        command.opinion,
        tuple(command.material_keys),
    )
    try:
        await lifecycle.decide(db, ctx, decision)
    except DecisionRefused as exc:
        raise Refused(exc.in_locale(RECORD_LOCALE)) from exc


async def calendar(
    db: aiosqlite.Connection, settings: Settings, command: Calendar, now: datetime
) -> None:
    """Holidays and make-up working days published by central."""
    for day in command.days:
        await db.execute(
            """
            INSERT INTO calendar_days (day, is_workday, note) VALUES (?, ?, ?)
            ON CONFLICT (day) DO UPDATE SET is_workday = excluded.is_workday,
                note = excluded.note
            """,
            (day.day.isoformat(), 1 if day.is_workday else 0, day.note),
        )


async def catalog(
    db: aiosqlite.Connection, settings: Settings, command: Catalog, now: datetime
) -> None:
    """A service catalog published by central: checked here too, never an older one."""
    try:
        published = from_parts(command.head, list(command.items))
    except CatalogError as exc:
        raise Refused(str(exc)[:300]) from exc
    if await newer_loaded(db, published.version):
        raise Refused(f"catalog {published.version} is older than the one loaded here")
    await load_catalog(db, published)


async def city_policy(
    db: aiosqlite.Connection, settings: Settings, command: CityPolicy, now: datetime
) -> None:
    """A city-wide benefit policy: kept here as central wrote it (central owns the row), its
    notice-board sheets sealed as it is published here."""
    await keep_city_policy(db, command, settings.township_code[:4] + "00000000", stamp(now))
    await seal_policy(db, settings, command.id, stamp(now))


async def city_news(
    db: aiosqlite.Connection, settings: Settings, command: CityNews, now: datetime
) -> None:
    """A city-wide news post: kept here as central wrote it."""
    await keep_city_news(db, command, settings.township_code[:4] + "00000000")


async def townships(
    db: aiosqlite.Connection, settings: Settings, command: Townships, now: datetime
) -> None:
    """Every township node central knows, with its address: the home page links to them."""
    await peers.keep(db, command, stamp(now))


async def contact_seller(
    db: aiosqlite.Connection, settings: Settings, command: MarketContact, now: datetime
) -> None:
    """A buyer's request made at central: the seller is texted once per contact id (the
    command's id is taken once too); a listing gone, hidden or expired since is refused."""
    listing = await market_queries.listing(db, command.listing_id)
    if listing is None:
        raise Refused("no such listing on this node")
    today = local_today(now, settings.web.timezone)
    if listing["state"] == "hidden" or not market_contact.contactable(listing, today):
        raise Refused("the listing is no longer open to buyers")
    await market_contact.deliver(
        db,
        settings.keys_dir,
        listing,
        contact_id=command.contact_id,
        buyer_phone=command.buyer_phone,
        message=command.message,
        source_key="central",
        origin="central",
        dedupe=f"central:{command.contact_id}",
        now=now,
    )


async def feedback_answer(
    db: aiosqlite.Connection, settings: Settings, command: FeedbackAnswer, now: datetime
) -> None:
    """A county department's answer to a feedback item of this node, written into its row."""
    try:
        with in_locale(RECORD_LOCALE):
            await feedback.answer_from_county(
                db,
                command.feedback_id,
                command.answer,
                command.department,
                command.answered_by,
                now,
            )
    except feedback.Refused as exc:
        raise Refused(str(exc)) from exc


async def feedback_request(
    db: aiosqlite.Connection, settings: Settings, command: FeedbackRequest, now: datetime
) -> None:
    """A feedback item submitted at central (Open311) for a village of this township."""
    if not contains(settings.township_code, command.village_code):
        raise Refused("the village is not in this township")
    days = await load_working_days(db, now, settings.web.timezone, settings.warning_working_days)
    new = feedback.NewItem(
        village_code=command.village_code,
        kind=command.kind_code,
        category=command.category,
        channel="open311",
        body=command.text,
        author_name=command.author_name,
        author_phone=command.author_phone,
        private=command.private,
        item_id=command.feedback_id,
    )
    try:
        with in_locale(RECORD_LOCALE):
            await feedback.raise_item(db, new, now, days)
    except feedback.Refused as exc:
        raise Refused(str(exc)) from exc


Handler = Callable[[aiosqlite.Connection, Settings, Any, datetime], Awaitable[None]]


# one handler per command kind declared in replication/feed/commands.py
async def follow_up_action(
    db: aiosqlite.Connection, settings: Settings, command: FollowUpAction, now: datetime
) -> None:
    """A step of a county follow-up recorded at central, written into the township's row (one
    writer per row); the call-back closes it as of the day it was made and invites the
    applicant to rate the fix."""
    row = await rating_queries.follow_up(db, command.follow_up_id)
    if row is None:
        raise Refused("no such follow-up on this node")
    if row["handled_at"] != "central":
        raise Refused("this follow-up is handled at the township")
    officer = await _officer(db, command.officer, stamp(now))
    if officer.department_code != row["office_code"]:
        raise Refused("the officer's department did not handle the step")
    choices = {"remedy": follow_ups.REMEDIES, "callback": follow_ups.CALLBACK_RESULTS}
    if command.action in choices and command.choice not in choices[command.action]:
        raise Refused(f"unknown {command.action} choice {command.choice!r}")
    acted = datetime.fromisoformat(command.acted_at)
    with in_locale(RECORD_LOCALE):  # a refusal is recorded in English
        try:
            if command.action == "verify":
                await follow_ups.verify(db, row, command.note, officer.id, command.acted_at)
            elif command.action == "remedy":
                await follow_ups.remedy(
                    db, row, command.choice, command.note, officer.id, command.acted_at
                )
            else:
                days = await load_working_days(
                    db, acted, settings.web.timezone, settings.warning_working_days
                )
                await follow_ups.call_back(
                    db, row, command.choice, command.note, officer.id, days, command.acted_at
                )
                rating = await rating_queries.rating(db, row["rating_id"])
                await follow_ups.invite_to_rate_fix(
                    db,
                    row,
                    rating,
                    base=settings.web.public_base,
                    item=rating["item_name_zh"],
                    now=now,
                )
        except follow_ups.FollowUpRefused as exc:
            raise Refused(str(exc)) from None
    await audit(
        db,
        settings.keys_dir,
        actor_id=officer.id,
        role=officer.role,
        jurisdiction_code=officer.jurisdiction_code,
        action=f"follow_up_{command.action}",
        object_type="follow_up",
        object_id=row["id"],
        result="ok",
        at=stamp(now),
    )


async def step_reminder(
    db: aiosqlite.Connection, settings: Settings, command: StepReminder, now: datetime
) -> None:
    """A 催办 or escalation central sent on a county step of this node, into the step's history
    (recorded once: a repeat, or a second escalation of the step, changes nothing)."""
    async with db.execute(
        "SELECT id, application_id, level FROM steps WHERE id = ? AND application_id = ?",
        (command.step_id, command.application_id),
    ) as found:
        step = await found.fetchone()
    if step is None:
        raise Refused("no such step on this node")
    if step["level"] != "county":
        raise Refused("central reminds only of county steps")
    await insert_reminder(
        db,
        reminder_id=command.reminder_id,
        step=step,
        kind=command.reminder_kind,
        sent_by=None,
        at=command.sent_at,
        recipients=[{"name": name, "role": "officer"} for name in command.recipients],
        note=command.note,
        origin="central",
        sent_by_name=command.sent_by_name or None,
    )


HANDLERS: dict[type[Any], Handler] = {
    CountyDecision: county_decision,
    Calendar: calendar,
    Catalog: catalog,
    FollowUpAction: follow_up_action,
    CityPolicy: city_policy,
    CityNews: city_news,
    MarketContact: contact_seller,
    FeedbackAnswer: feedback_answer,
    FeedbackRequest: feedback_request,
    StepReminder: step_reminder,
    Townships: townships,
}
