"""The demo's people: the shared password, each township's staff, officers and agents (data,
used by the edge demo and by central's demo, which needs the same officer names)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from edge.kernel.masking import mask_name, mask_phone

DEMO_PASSWORD = "cunban-demo-2026"

# Phone numbers: 138077 + township digit + 4; each township gets its own block.
TOWNSHIP_BLOCK = {"450521100000": "1380771", "450503101000": "1380772"}


COUNTY_DEPARTMENTS = (
    "civil",
    "hrss",
    "medical",
    "health",
    "police",
    "education",
    "agri",
    "land",
    "disability",
)
OFFICER_NAMES = (
    "黄丽娟",
    "梁国强",
    "苏美玲",
    "钟伟",
    "邓建军",
    "罗小燕",
    "卢志华",
    "谢海涛",
    "冯秀珍",
)


@dataclass(frozen=True)
class DemoAccount:
    """One demo login."""

    phone: str
    name: str
    role: str
    jurisdiction_code: str
    department_code: str | None = None


def demo_accounts(township: str, villages: list[str]) -> list[DemoAccount]:
    """The demo staff of `township` (its county hosts the department officers)."""
    block = TOWNSHIP_BLOCK.get(township, "1380779")
    county = township[:6] + "000000"
    people = [
        DemoAccount(f"{block}0001", "韦建华", "node_admin", township),
        DemoAccount(f"{block}0002", "李秀英", "township_staff", township),
        DemoAccount(f"{block}0003", "陈志明", "supervisor", township),
        DemoAccount(f"{block}0021", "潘桂兰", "resident", villages[0]),
    ]
    for index, department in enumerate(COUNTY_DEPARTMENTS):
        people.append(
            DemoAccount(
                f"{block}01{index:02d}", OFFICER_NAMES[index], "officer", county, department
            )
        )
    agent_names = ["盛巧云", "庞海燕", "覃丽萍", "莫振东"]
    for index, village in enumerate(villages):
        people.append(
            DemoAccount(f"{block}{11 + index:04d}", agent_names[index % 4], "agent", village)
        )
    return people


def masked_listing(people: Iterable[DemoAccount]) -> list[str]:
    """What the demo prints of its accounts: role, the phone that signs a worker in (a
    resident's masked: a member of the public) and the name masked, as in any log."""
    return [
        f"  {p.phone if p.role != 'resident' else mask_phone(p.phone)}  {p.role:<15} "
        f"{mask_name(p.name)}"
        for p in people
    ]
