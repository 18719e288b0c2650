"""Demo content for the front page's sections: township policies, a month of village affairs
for every village (one finance table each, one overdue disclosure so a card shows), an election
in its publicity period and one archived, township and village news (one with a photo)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import aiosqlite
from PIL import Image, ImageDraw

from edge.affairs import periods
from edge.affairs import queries as affairs
from edge.affairs.records import Line, total
from edge.affairs.schedule import kinds
from edge.applications.lifecycle import Upload
from edge.blobs.images import prepare_photo
from edge.elections import queries as elections
from edge.intake.uploads import keep, record_blobs
from edge.jurisdictions import queries as places
from edge.kernel.blobstore import BlobStore
from edge.news import queries as news
from edge.policies import queries as policies
from edge.policies.reference import township_policies
from edge.settings import Settings
from edge.workdays.local import local_today

ELECTION_CANDIDATES = (
    ("黄建国", "村民委员会主任"),
    ("莫秀兰", "村民委员会委员"),
    ("覃海波", "村民委员会委员"),
    ("陈丽娟", "村务监督委员会主任"),
    ("庞永福", "村务监督委员会委员"),
)

FINANCE_LINES = (
    Line("income", "上级转移支付（村级运转经费）", 2_500_000),
    Line("income", "集体鱼塘承包费", 860_000),
    Line("income", "集体厂房租金", 1_240_050),
    Line("spending", "村干部误工补贴", 1_860_000),
    Line("spending", "村道路灯电费", 73_420),
    Line("spending", "垃圾清运保洁费", 450_000),
    Line("spending", "村办公室办公用品", 38_600),
)

VILLAGE_TEXT = {
    "village": (
        "{period} 村务公开",
        "一、本季度召开村民代表会议 2 次，议定集体鱼塘续包和村道硬化两件事，决议已张贴。\n"
        "二、低保、特困供养和高龄津贴名单经评议后已报镇政府审核，名单另行公示。\n"
        "三、村道硬化工程由镇政府招标实施，村务监督委员会全程监督。",
    ),
    "party": (
        "{period} 党务公开",
        "一、本季度召开支部党员大会 1 次、支委会 3 次，开展主题党日 3 次。\n"
        "二、按时收缴党费，党费收缴情况已在支部公开栏公布。\n"
        "三、发展党员：确定入党积极分子 1 名。",
    ),
}


async def _seeded(conn: aiosqlite.Connection) -> bool:
    async with conn.execute("SELECT 1 FROM affairs LIMIT 1") as cursor:
        return await cursor.fetchone() is not None


async def _staff(conn: aiosqlite.Connection, township: str) -> tuple[str, dict[str, str]]:
    """The township staff member's id and each village's agent id."""
    async with conn.execute(
        "SELECT id, role, jurisdiction_code FROM accounts WHERE role IN ('township_staff', "
        "'agent') AND jurisdiction_code LIKE ? || '%' ORDER BY phone",
        (township[:9],),
    ) as cursor:
        rows = await cursor.fetchall()
    staff = next(r["id"] for r in rows if r["role"] == "township_staff")
    agents = {r["jurisdiction_code"]: r["id"] for r in rows if r["role"] == "agent"}
    return staff, agents


def _at(today: date, days_ago: int) -> str:
    moment = datetime(today.year, today.month, today.day, 2, 0) - timedelta(days=days_ago)
    return moment.isoformat() + "+00:00"


async def load_demo_bulletin(conn: aiosqlite.Connection, settings: Settings, now: datetime) -> None:
    """Seed the node's public content once (nothing if any village affair exists)."""
    if await _seeded(conn):
        return
    township = settings.township_code
    town = await places.get(conn, township)
    town_name = town["name_zh"] if town else ""
    villages = await places.villages_of(conn, township)
    staff, agents = await _staff(conn, township)
    today = local_today(now, settings.web.timezone)
    for policy, (start, end) in township_policies(town_name):  # edge/policies/reference/
        values: dict[str, object] = dict(policy)
        values["valid_from"] = (today + timedelta(days=start)).isoformat()
        values["valid_to"] = (today + timedelta(days=end)).isoformat()
        await policies.create(conn, values, township, staff, _at(today, 30))
    for index, village in enumerate(villages):
        author = agents.get(village["code"], staff)
        await _village_affairs(conn, village, author, staff, today, overdue=index == 0)
    await _elections(conn, villages, staff, today)
    await _news(conn, settings, town_name, villages, staff, agents, today)


async def _publish(
    conn: aiosqlite.Connection,
    values: dict[str, object],
    lines: list[Line],
    author: str,
    staff: str,
    at: str,
    status: str = "published",
) -> None:
    affair_id = await affairs.create(conn, values, lines, "pending", author, at)
    if status in ("published", "returned"):
        reason = "" if status == "published" else "支出明细缺少路灯电费发票号，请补充后重新提交。"
        await affairs.review(conn, affair_id, status == "published", reason, staff, at)


async def _village_affairs(
    conn: aiosqlite.Connection,
    village: aiosqlite.Row,
    author: str,
    staff: str,
    today: date,
    *,
    overdue: bool,
) -> None:
    """Every scheduled period published (the first village misses the finance table of the
    month before last: red), a major matter, one waiting for review and one returned."""
    code = village["code"]
    for kind in kinds().values():
        if not kind.scheduled:
            continue
        for age, period in enumerate(
            periods.ended_before(kind.every, today, kind.lookback_periods)
        ):
            if overdue and kind.code == "finance" and age == 1:
                continue
            end = periods.period_end(period) or today
            at = _at(min(end + timedelta(days=5), today - timedelta(days=1)), 0)
            if kind.code == "finance":
                lines = list(FINANCE_LINES)
                values = {
                    "village": code,
                    "kind": "finance",
                    "period": period,
                    "title": f"{village['name_zh']} {period} 财务收支公开",
                    "body": "本月收支经村务监督委员会审核，原始凭证存村委会备查。",
                    "income_total_fen": total(lines, "income"),
                    "spending_total_fen": total(lines, "spending"),
                }
            else:
                title, body = VILLAGE_TEXT[kind.code]
                lines = []
                values = {
                    "village": code,
                    "kind": kind.code,
                    "period": period,
                    "title": f"{village['name_zh']} " + title.format(period=period),
                    "body": body,
                }
            await _publish(conn, values, lines, author, staff, at)
    major = {
        "village": code,
        "kind": "major",
        "period": (today - timedelta(days=9)).isoformat(),
        "title": f"{village['name_zh']}集体鱼塘续包方案（村民代表会议通过）",
        "body": "经村民代表会议表决（到会 31 人，同意 29 人），集体鱼塘 42 亩续包 5 年，"
        "年承包费不低于 8.6 万元，公开竞价，竞价日期另行通知。",
    }
    await _publish(conn, major, [], author, staff, _at(today, 8))
    current = periods.current("month", today)
    pending = {
        "village": code,
        "kind": "village",
        "period": periods.current("quarter", today),
        "title": f"{village['name_zh']}村道硬化工程进度公开",
        "body": "村道硬化工程已完成 1.2 公里，剩余 0.6 公里预计下月完工。",
    }
    await _publish(conn, pending, [], author, staff, _at(today, 1), status="pending")
    returned = {
        "village": code,
        "kind": "finance",
        "period": current,
        "title": f"{village['name_zh']} {current} 财务收支公开（初稿）",
        "body": "",
        "income_total_fen": 860_000,
        "spending_total_fen": 73_420,
    }
    lines = [FINANCE_LINES[1], FINANCE_LINES[4]]
    await _publish(conn, returned, lines, author, staff, _at(today, 2), status="returned")


async def _elections(
    conn: aiosqlite.Connection, villages: list[aiosqlite.Row], staff: str, today: date
) -> None:
    """One publicity running now (second village, or the first), one ended last term."""
    running = villages[1] if len(villages) > 1 else villages[0]
    values = {
        "village": running["code"],
        "title": f"{running['name_zh']}第十二届村民委员会成员候选人公示",
        "note": "对候选人有异议的，可在公示期内向镇换届选举工作指导组反映。",
        "starts_on": (today - timedelta(days=2)).isoformat(),
        "ends_on": (today + timedelta(days=5)).isoformat(),
    }
    await elections.create(conn, values, list(ELECTION_CANDIDATES), staff, _at(today, 2))
    ended = {
        "village": villages[0]["code"],
        "title": f"{villages[0]['name_zh']}村务监督委员会成员补选候选人公示",
        "note": "",
        "starts_on": (today - timedelta(days=200)).isoformat(),
        "ends_on": (today - timedelta(days=193)).isoformat(),
    }
    await elections.create(conn, ended, list(ELECTION_CANDIDATES[3:]), staff, _at(today, 200))


def _photo(store: BlobStore) -> Upload:
    buffer = io.BytesIO()
    image = Image.new("RGB", (1200, 800), (196, 222, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 520, 1200, 800), fill=(120, 150, 90))
    draw.ellipse((880, 90, 1040, 250), fill=(250, 220, 120))
    image.save(buffer, "JPEG", quality=80)
    return keep(store, prepare_photo(buffer.getvalue()), "news", "photo")


async def _news(
    conn: aiosqlite.Connection,
    settings: Settings,
    town_name: str,
    villages: list[aiosqlite.Row],
    staff: str,
    agents: dict[str, str],
    today: date,
) -> None:
    store = BlobStore(settings.blobs_dir)
    upload = _photo(store)
    at = _at(today, 1)
    await record_blobs(conn, store, upload, at)
    await news.create(
        conn,
        scope="township",
        scope_code=settings.township_code,
        title=f"{town_name}冬季农田水利建设全面开工",
        body="全镇今冬计划清淤沟渠 36 公里、维修机耕路 12 公里，各村已组织施工队进场，"
        "请沿线群众注意安全。",
        photo=(upload.sha256, upload.thumb_sha256),
        author_id=staff,
        now=at,
    )
    for index, village in enumerate(villages):
        await news.create(
            conn,
            scope="village",
            scope_code=village["code"],
            title=f"{village['name_zh']}开展冬季森林防火宣传",
            body="村两委干部和网格员入户发放防火宣传单，提醒大家祭祀、烧田埂时注意用火安全。",
            photo=None,
            author_id=agents.get(village["code"], staff),
            now=_at(today, 3 + index),
        )
