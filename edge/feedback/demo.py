"""Demo 我有话说 items for a township, in every state, through the real lifecycle: one per state,
a county department's item waiting at central and one it answered, a private one, a reopened
one and an overdue one; skipped if the township has any."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from edge.feedback import lifecycle
from edge.jurisdictions import queries as places
from edge.workdays.working_days import WorkingDays, load_working_days


@dataclass(frozen=True)
class Story:
    """One demo item: raised `days_ago`, then the steps taken (action, note) a day apart."""

    days_ago: int
    village: int
    kind: str
    category: str
    body: str
    name: str = ""
    phone: str = ""
    private: bool = False
    steps: tuple[tuple[str, str], ...] = ()


ANSWER_LIGHTS = "已安排电工更换路灯，11月底前修好。感谢您的反映。"
STORIES = (
    Story(
        1,
        0,
        "problem",
        "roads",
        "村口到小学的路灯坏了三盏，晚上孩子放学看不见路。",
        "潘桂兰",
        "13977100021",
    ),
    Story(
        2, 1, "consultation", "assistance", "请问残疾人两项补贴怎么申请？要带什么材料？", "韦秀兰"
    ),
    Story(
        3,
        0,
        "complaint",
        "environment",
        "河边有人倒建筑垃圾，下雨后水都变浑了，希望管一管。",
        "",
        "",
        steps=(("handling", ""),),
    ),
    Story(
        6,
        1,
        "help",
        "water_power",
        "家里自来水停了三天，老人行动不便，能不能帮忙看看？",
        "黄德明",
        "13977100022",
        steps=(
            ("handling", ""),
            ("answered", "水管在村道施工时被挖断，已抢修恢复供水，并送了两桶水上门。"),
        ),
    ),
    Story(
        9,
        0,
        "suggestion",
        "village_affairs",
        "建议村务公开栏装个灯，晚上下班回来也能看。",
        "梁志强",
        steps=(
            ("handling", ""),
            ("answered", "已采纳，村委会将在公开栏上方加装太阳能灯。"),
            ("visited", "电话回访，留言人表示满意。"),
        ),
    ),
    Story(
        12,
        1,
        "problem",
        "roads",
        "村道上有个大坑，摩托车摔过两次了。",
        "莫少华",
        "13977100023",
        steps=(
            ("handling", ""),
            ("answered", "已用水泥填补，并设置了提示牌。"),
            ("rated", "1"),
        ),
    ),
    Story(
        15,
        0,
        "complaint",
        "water_power",
        "每天傍晚电压低，电饭锅都煮不熟饭。",
        "覃家良",
        "13977100024",
        steps=(
            ("handling", ""),
            ("answered", "已联系供电所调整变压器档位。"),
            ("rated", "4"),
            ("reopened", "调了以后还是一样，傍晚照样电压低。"),
        ),
    ),
    Story(
        4,
        2,
        "help",
        "other",
        "我家孩子想咨询一下外出务工的技能培训，不想在网上公开。",
        "庞小燕",
        "13977100025",
        private=True,
    ),
    Story(
        20,
        0,
        "problem",
        "environment",
        "垃圾收集点已经十多天没人清运了，气味很大。",
        "",
        "",
        steps=(("handling", ""),),
    ),
    Story(
        5, 0, "problem", "farming", "今年的水稻补贴还没发，别的村都发了。", "钟大伯", "13977100026"
    ),
    Story(
        10,
        1,
        "consultation",
        "medical_insurance",
        "在外省住院，回来怎么报销医药费？",
        "罗阿姨",
        "13977100027",
        steps=(
            (
                "county_answered",
                "异地就医请先在国家医保服务平台备案，回来后带发票和出院小结到县医保局窗口报销。",
            ),
        ),
    ),
)


async def _step(
    conn: aiosqlite.Connection,
    item_id: str,
    action: str,
    note: str,
    at: datetime,
    days: WorkingDays,
) -> None:
    if action == "rated":
        await lifecycle.rate(conn, item_id, int(note), at)
    elif action == "reopened":
        await lifecycle.reopen(conn, item_id, note, at, days)
    elif action == "county_answered":
        async with conn.execute(
            "SELECT department_code FROM feedback WHERE id = ?", (item_id,)
        ) as c:
            row = await c.fetchone()
        assert row is not None
        await lifecycle.answer_from_county(conn, item_id, note, row[0], "县医保局", at)
    else:
        await lifecycle.move(conn, item_id, action, "李秀英", at, note=note)


async def load_demo_feedback(
    conn: aiosqlite.Connection, township: str, now: datetime, timezone: str
) -> int:
    """The demo items of `township`; how many were made (0 when any exist)."""
    async with conn.execute("SELECT count(*) FROM feedback") as cursor:
        found = await cursor.fetchone()
    if found is not None and found[0]:
        return 0
    villages = [v["code"] for v in await places.villages_of(conn, township)]
    for story in STORIES:
        at = now - timedelta(days=story.days_ago)
        days = await load_working_days(conn, at, timezone, 1)
        new = lifecycle.NewItem(
            village_code=villages[story.village % len(villages)],
            kind=story.kind,
            category=story.category,
            channel="web",
            body=story.body,
            author_name=story.name,
            author_phone=story.phone,
            private=story.private,
        )
        raised = await lifecycle.raise_item(conn, new, at, days)
        for offset, (action, note) in enumerate(story.steps, start=1):
            step_at = at + timedelta(days=offset)
            step_days = await load_working_days(conn, step_at, timezone, 1)
            await _step(conn, raised.id, action, note, step_at, step_days)
    return len(STORIES)
