"""Demo data for a township: one account of every role, applications in every state."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import aiosqlite
from PIL import Image, ImageDraw

from edge.accounts import queries as accounts
from edge.accounts.demo_people import DEMO_PASSWORD, DemoAccount, demo_accounts
from edge.applications import eligibility, lifecycle
from edge.applications.decision import Decision
from edge.applications.lifecycle import Applicant, Context, Upload
from edge.blobs.images import prepare_photo
from edge.catalog import queries as catalog
from edge.catalog.item import CatalogItem, Field
from edge.disclosure.boards import seal_published
from edge.disclosure.demo import load_demo_disclosure
from edge.feedback.demo import load_demo_feedback
from edge.home.demo import load_demo_bulletin
from edge.intake.uploads import keep, record_blobs
from edge.jurisdictions import queries as places
from edge.kernel import id_numbers
from edge.kernel.auth.account import Account, by_phone
from edge.kernel.auth.passwords import hash_password
from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import stamp
from edge.kernel.db import Database
from edge.market.demo import load_demo_market
from edge.ratings.demo import load_demo_ratings
from edge.reference import prepare_database
from edge.seals.demo import load_demo_certificates
from edge.settings import Settings
from edge.supervision.demo import load_supervision_demo
from edge.workdays.local import local_today
from edge.workdays.working_days import load_working_days


async def load_demo_node(
    settings: Settings, now: datetime, *, applications: bool = True, history: bool = False
) -> list[DemoAccount]:
    """Prepare the node's database and load its demo accounts (and applications, and with
    `history` months of supervision history, as `python -m edge demo` does); idempotent."""
    db = Database(settings.database_path)
    await db.open()
    try:
        await prepare_database(db)
        async with db.write() as conn:
            people = await load_demo(conn, settings.township_code, stamp(now))
            if applications:
                await load_demo_applications(conn, settings, now)
                await load_demo_ratings(conn, settings, now)
                await load_demo_bulletin(conn, settings, now)
                await seal_published(conn, settings)
                await load_demo_disclosure(conn, settings, now)
                await load_demo_market(conn, settings.township_code, now, settings.keys_dir)
                await load_demo_feedback(conn, settings.township_code, now, settings.web.timezone)
                await load_demo_certificates(conn, settings, now)
            if history:
                await load_supervision_demo(
                    conn, settings.township_code, local_today(now, settings.web.timezone)
                )
    finally:
        await db.close()
    return people


async def load_demo(conn: aiosqlite.Connection, township: str, now: str) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; return all of them."""
    villages = [v["code"] for v in await places.villages_of(conn, township)]
    if not villages:
        raise ValueError(f"township {township} has no villages in the jurisdiction tree")
    people = demo_accounts(township, villages)
    password_hash = hash_password(DEMO_PASSWORD)
    for person in people:
        if await by_phone(conn, person.phone) is None:
            await accounts.create(
                conn,
                phone=person.phone,
                name=person.name,
                role=person.role,
                jurisdiction_code=person.jurisdiction_code,
                department_code=person.department_code,
                password_hash=password_hash,
                now=now,
            )
    return people


# Demo applications: (item, days ago, then what happens) — every state a new user should see.
DEMO_STORIES = (
    ("MZ-001", 1, ()),  # in review at the township, green
    ("MZ-002", 12, ()),  # in review, overdue at the township: red card
    ("YB-002", 4, ("approve",)),  # joint review at county (medical + civil)
    ("NY-001", 9, ("approve", "approve:agri")),  # joint review, one department done
    ("RS-002", 6, ("return",)),  # returned for supplement
    ("CL-001", 20, ("approve", "approve:disability", "approve:civil")),  # approved
    ("MZ-004", 15, ("approve", "reject:civil")),  # rejected with reasons
    ("MZ-006", 3, ("withdraw",)),  # withdrawn
    ("CW-001", 2, ()),  # village certificate issued at intake
)
DEMO_APPLICANTS = (
    ("韦秀英", "450521195203150021"),
    ("黄志强", "450521196807210034"),
    ("李桂芬", "450521194501010022"),
    ("陈家宝", "450521198811110019"),
)
DEMO_CHILD_ID = "450521201903150012"  # a child born 2019-03-15


def demo_applicant(item: CatalogItem, index: int, today: date) -> tuple[str, str]:
    """A demo applicant the item's age conditions accept, starting from the `index`th."""
    for offset in range(len(DEMO_APPLICANTS)):
        name, id_number = DEMO_APPLICANTS[(index + offset) % len(DEMO_APPLICANTS)]
        birth = id_numbers.birth_date_of(id_number)
        if "id_number" not in eligibility.problems(item, birth, {}, today):
            return name, id_number
    raise ValueError(f"no demo applicant meets the age conditions of {item.code}")


def sample_value(field: Field) -> str:
    """A plausible value that the field's rules accept (demo data and tests)."""
    kind = field.type
    if kind == "choice":
        return field.choices[0].value
    if kind == "number":
        return str(max(1 if field.min is None else field.min, 1))
    if kind == "date":
        return "2027-06-01" if field.future_only else "2020-05-01"
    if kind == "month":
        return "2027-06" if field.future_only else "2020-05"
    if kind == "id_number":
        return DEMO_CHILD_ID if field.name.startswith("child") else DEMO_APPLICANTS[1][1]
    if kind == "phone":
        return "13912345678"
    return "示例" * max(1, ((1 if field.min_length is None else field.min_length) + 1) // 2)


def _demo_photo(store: BlobStore, shade: int, key: str) -> Upload:
    buffer = io.BytesIO()
    image = Image.new("RGB", (1200, 850), (250, 250, 245))
    ImageDraw.Draw(image).rectangle((60, 60, 1140, 790), outline=(shade, 60, 60), width=12)
    image.save(buffer, "JPEG", quality=80)
    return keep(store, prepare_photo(buffer.getvalue()), "material", key)


async def _as_of(
    conn: aiosqlite.Connection, settings: Settings, actor: Account, now: datetime
) -> Context:
    days = await load_working_days(conn, now, settings.web.timezone, settings.warning_working_days)
    return Context(
        actor,
        now,
        days,
        settings.keys_dir,
        public_base=settings.web.public_base,
        follow_up_working_days=settings.follow_up_working_days,
    )


async def load_demo_applications(
    conn: aiosqlite.Connection, settings: Settings, now: datetime
) -> int:
    """Applications in every state, made through the real lifecycle; skipped if any exist."""
    async with conn.execute("SELECT count(*) FROM applications") as cursor:
        counted = await cursor.fetchone()
    assert counted is not None  # an aggregate yields one row
    if counted[0]:
        return 0
    staff = {
        row["role"] + (row["department_code"] or ""): Account.from_row(row)
        for row in await _all(conn, "SELECT * FROM accounts")
    }
    agent = next(a for a in staff.values() if a.role == "agent")
    store = BlobStore(settings.blobs_dir)
    for index, (code, days_ago, story) in enumerate(DEMO_STORIES):
        item = await catalog.item(conn, code)
        assert item is not None
        started = now - timedelta(days=days_ago)
        uploads = []
        for shade, material in enumerate([m for m in item.materials if m.required]):
            upload = _demo_photo(store, 40 * shade % 255, material.key)
            await record_blobs(conn, store, upload, stamp(started))
            uploads.append(upload)
        name, id_number = demo_applicant(item, index, started.date())
        ctx = await _as_of(conn, settings, agent, started)
        application_id = await lifecycle.submit(
            conn,
            ctx,
            item=item,
            village_code=agent.jurisdiction_code,
            applicant=Applicant(id_number, name, f"1390771{index:04d}"),
            form_data={f.name: sample_value(f) for f in item.fields},
            uploads=uploads,
        )
        for step_number, action in enumerate(story, start=1):
            await _demo_action(
                conn, settings, staff, application_id, action, started + timedelta(days=step_number)
            )
    return len(DEMO_STORIES)


async def _demo_action(
    conn: aiosqlite.Connection,
    settings: Settings,
    staff: dict[str, Account],
    application_id: str,
    action: str,
    when: datetime,
) -> None:
    verb, _sep, department = action.partition(":")
    actor = staff["officer" + department] if department else staff["township_staff"]
    ctx = await _as_of(conn, settings, actor, when)
    if verb == "withdraw":
        await lifecycle.withdraw(conn, ctx, application_id, "not_needed")
        return
    steps = await _all(
        conn,
        "SELECT id FROM steps WHERE application_id = ? AND status = 'active' "
        "AND department_code = ?",
        (application_id, department or "township"),
    )
    opinions = {
        "approve": "材料齐全，符合条件",
        "reject": "经核查，家庭收入不符合救助条件",
        "return": "户口簿照片不清晰，请重拍",
    }
    materials = ("hukou_book",) if verb == "return" else ()
    decision = Decision(steps[0]["id"], verb, actor, ctx.now, opinions[verb], materials)
    await lifecycle.decide(conn, ctx, decision)


async def _all(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> list[aiosqlite.Row]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
