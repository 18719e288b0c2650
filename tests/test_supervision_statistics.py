"""The statistics equal a brute-force recomputation from the raw rows: 5,000 generated
applications over 3 townships and 6 months (国庆 inside), with returns, rejections,
withdrawals and 催办, read from central's copies exactly as the dashboard reads them."""

from __future__ import annotations

import asyncio
import math
import statistics as stdlib
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from central.schema import migrate_database
from edge.kernel.db import Database, connect_sync
from edge.supervision.cards import CardRule
from edge.supervision.simulation import TOWNSHIPS, History, generate, write_central
from edge.supervision.sources import CENTRAL_TABLES, Scope, clock_for, load
from edge.supervision.statistics import Figures, Period, by_step, by_unit
from edge.workdays.arithmetic import card, working_days_between
from edge.workdays.queries import seed_from_package

TODAY = date(2026, 11, 30)
PERIODS = [
    Period(date(2026, 9, 1), date(2026, 11, 30), "quarter"),  # 国庆 inside
    Period(date(2026, 10, 1), date(2026, 10, 31), "month"),
    Period(date(2026, 6, 1), date(2026, 11, 30), "custom"),
]
WORST = {"green": 0, "yellow": 1, "red": 2}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, History]:
    path = tmp_path_factory.mktemp("statistics") / "central.db"

    async def build() -> None:
        db = Database(path)
        await db.open()
        try:
            await migrate_database(db)
            async with db.write() as conn:  # the calendar, as central's start-up loads it
                await seed_from_package(conn, range(2024, 2028))
        finally:
            await db.close()

    asyncio.run(build())
    history = generate(5000, TODAY)
    with connect_sync(path) as conn:
        write_central(conn, history)
    return path, history


def _day(stamp: str | None) -> date | None:
    return date.fromisoformat(stamp[:10]) if stamp else None


def _nearest(values: list[int], share: float) -> int | None:
    return sorted(values)[math.ceil(share * len(values)) - 1] if values else None


def _expected(history: History, period: Period, unit_of, step_unit_of) -> dict[str, dict]:
    """Every figure recomputed row by row, day by day, without the statistics module."""
    ex, today = history.exceptions, history.today
    in_p = lambda d: d is not None and period.since <= d <= period.until  # noqa: E731
    steps_of = defaultdict(list)
    for s in history.steps:
        steps_of[s["application_id"]].append(s)
    pauses_of = defaultdict(list)
    for p in history.supplements:
        pauses_of[p["application_id"]].append(p)
    urges_of = defaultdict(list)
    for r in history.reminders:
        urges_of[r["application_id"]].append(r)

    def paused(pauses) -> int:
        return sum(
            working_days_between(_day(p["requested_at"]), _day(p["resolved_at"]) or today, ex)
            for p in pauses
        )

    result: dict[str, dict] = defaultdict(lambda: defaultdict(int) | {"times": [], "steps": []})
    for app in history.applications:
        if app["status"] == "withdrawn":
            continue
        steps, pauses = steps_of[app["id"]], pauses_of[app["id"]]
        units = [(unit_of(app), None)] if unit_of else []
        units += [(step_unit_of(s), s) for s in steps if step_unit_of and step_unit_of(s)]
        for unit, step in units:
            row = result[unit]
            mine_p = [p for p in pauses if step is None or p["step_id"] == step["id"]]
            mine_u = [u for u in urges_of[app["id"]] if step is None or u["step_id"] == step["id"]]
            row["returns"] += sum(in_p(_day(p["requested_at"])) for p in mine_p)
            row["urged"] += sum(in_p(_day(u["sent_at"])) for u in mine_u)
            if step is None:
                start, end = _day(app["submitted_at"]), _day(app["finished_at"])
                due = date.fromisoformat(app["promised_due_on"])
                final = app["status"] in ("approved", "rejected")
                is_open = app["status"] in ("in_review", "returned")
                cards = []
                if app["status"] == "in_review":
                    cards.append(card(due, today, 1, ex))
                    cards += [
                        card(date.fromisoformat(s["due_on"]), today, 1, ex)
                        for s in steps
                        if s["status"] == "active"
                    ]
                for s in steps:
                    decided = _day(s["decided_at"])
                    if s["status"] in ("approved", "rejected") and in_p(decided):
                        own = [p for p in pauses if p["step_id"] == s["id"]]
                        row["steps"].append(
                            max(
                                working_days_between(_day(s["started_on"]), decided, ex)
                                - paused(own),
                                0,
                            )
                        )
            else:
                start, end = _day(step["started_on"]), _day(step["decided_at"])
                due = date.fromisoformat(step["due_on"]) if step["due_on"] else None
                final = step["status"] in ("approved", "rejected")
                is_open = step["status"] in ("active", "returned") and app["status"] in (
                    "in_review",
                    "returned",
                )
                cards = (
                    [card(due, today, 1, ex)]
                    if step["status"] == "active" and app["status"] == "in_review"
                    else []
                )
                if final and in_p(end):
                    row["steps"].append(
                        max(working_days_between(start, end, ex) - paused(mine_p), 0)
                    )
            row["received"] += in_p(start)
            if final and in_p(end):
                row["finished"] += 1
                row["on_time" if end <= due else "late"] += 1
                if step is None:
                    row["times"].append(
                        max(working_days_between(start, end, ex) - paused(pauses), 0)
                    )
            row["open"] += is_open
            worst = max(cards, key=WORST.__getitem__, default="green")
            if worst != "green":
                row[worst] += 1
    return result


COUNTS = ("received", "finished", "on_time", "late", "open", "yellow", "red", "returns", "urged")


def _compare(found: dict[str, Figures], expected: dict[str, dict], apps: bool) -> None:
    busy = {k for k, v in expected.items() if any(v[c] for c in COUNTS) or v["steps"]}
    assert busy <= set(found)
    for unit, row in expected.items():
        figures = found.get(unit, Figures())
        for name in COUNTS:
            assert getattr(figures, name) == row[name], (unit, name)
        assert figures.step_median == _nearest(row["steps"], 0.5), unit
        assert figures.step_p90 == _nearest(row["steps"], 0.9), unit
        if row["steps"]:
            assert figures.step_median == stdlib.median_low(row["steps"])
        if apps:
            assert figures.app_median == _nearest(row["times"], 0.5), unit
            assert figures.app_p90 == _nearest(row["times"], 0.9), unit


async def _facts(path: Path, period: Period, prefix: str = "45"):
    db = Database(path)
    await db.open()
    try:
        async with db.read() as conn:
            clock = await clock_for(conn, TODAY, period.since, CardRule(1, 0))
            facts = await load(conn, CENTRAL_TABLES, Scope(prefix), period, "Asia/Shanghai")
    finally:
        await db.close()
    return clock, facts


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.kind)
def test_township_figures_equal_a_brute_force_recount(data, period):
    path, history = data
    assert len(history.applications) >= 5000 and len(TOWNSHIPS) == 3
    assert history.supplements and history.reminders
    clock, facts = asyncio.run(_facts(path, period))
    found = by_unit(facts, period, clock, lambda village: village[:9] + "000")
    expected = _expected(history, period, lambda app: app["village_code"][:9] + "000", None)
    _compare(found, expected, apps=True)
    assert sum(f.received for f in found.values()) > 500  # the data set is not trivial
    assert sum(f.red for f in found.values()) > 0 and sum(f.returns for f in found.values()) > 0


@pytest.mark.parametrize("period", PERIODS[:2], ids=lambda p: p.kind)
def test_department_and_officer_figures_equal_a_brute_force_recount(data, period):
    path, history = data
    clock, facts = asyncio.run(_facts(path, period))
    found = by_step(facts, period, clock, lambda step: step.department)
    expected = _expected(history, period, None, lambda s: s["department_code"])
    _compare(found, expected, apps=False)
    found = by_step(facts, period, clock, lambda step: step.decided_by)
    expected = _expected(history, period, None, lambda s: s["decided_by"])
    _compare(found, expected, apps=False)


def test_village_figures_inside_one_township_equal_the_recount(data):
    path, history = data
    period = PERIODS[0]
    clock, facts = asyncio.run(_facts(path, period, "450521100"))
    found = by_unit(facts, period, clock, lambda village: village)
    expected = _expected(
        history,
        period,
        lambda app: app["village_code"] if app["village_code"].startswith("450521100") else None,
        None,
    )
    expected.pop(None, None)
    _compare(found, expected, apps=True)


RATED = ("invited", "rated", "good", "bad", "follow_ups", "fixed", "unrated")


def _expected_ratings(history: History, period: Period, unit_of) -> dict[str, dict[str, int]]:
    """The 好差评 columns recounted from the raw rating and follow-up rows: `unit_of` maps a
    rating (with the step it rates) to its unit."""
    apps = {a["id"]: a for a in history.applications}
    steps = {s["id"]: s for s in history.steps}
    cases = {f["rating_id"]: f for f in history.follow_ups if f["status"] != "dismissed"}
    result: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RATED, 0))
    for r in history.ratings:
        closed = date.fromisoformat(r["closed_on"])
        app = apps[r["application_id"]]
        if not period.since <= closed <= period.until or app["status"] == "withdrawn":
            continue
        unit = unit_of(app, steps[r["step_id"]])
        if unit is None:
            continue
        row = result[unit]
        row["invited"] += 1
        own_phone = r["level"] is not None and r["channel"] != "agent_device"
        row["unrated"] += r["level"] is None
        row["rated"] += own_phone
        row["good"] += own_phone and r["level"] <= 3
        row["bad"] += own_phone and r["level"] >= 4 and r["malicious_reason"] is None
        case = cases.get(r["id"])
        row["follow_ups"] += case is not None
        row["fixed"] += case is not None and case["closed_in_time"] == 1
    return result


def _compare_ratings(found: dict[str, Figures], expected: dict[str, dict[str, int]]) -> None:
    assert {k for k, v in expected.items() if any(v.values())} <= set(found)
    for unit, figures in found.items():
        row = expected.get(unit, dict.fromkeys(RATED, 0))
        assert {name: getattr(figures, name) for name in RATED} == row, unit
        assert figures.good_rate == (row["good"] / row["rated"] if row["rated"] else None)
        assert figures.unrated_rate == (row["unrated"] / row["invited"] if row["invited"] else None)


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.kind)
def test_rating_columns_equal_a_brute_force_recount(data, period):
    """Ratings per township (by the application), department and officer (by the step that
    decided the application), against the generated rating and follow-up rows."""
    path, history = data
    clock, facts = asyncio.run(_facts(path, period))
    found = by_unit(facts, period, clock, lambda village: village[:9] + "000")
    expected = _expected_ratings(history, period, lambda app, _s: app["village_code"][:9] + "000")
    _compare_ratings(found, expected)
    every = [f for f in found.values()]
    for name in ("rated", "good", "bad", "follow_ups", "fixed", "unrated"):
        assert sum(getattr(f, name) for f in every) > 0, name  # every column has something
    assert sum(f.fixed for f in every) < sum(f.follow_ups for f in every)  # some late or open
    found = by_step(facts, period, clock, lambda step: step.department)
    _compare_ratings(found, _expected_ratings(history, period, lambda _a, s: s["department_code"]))
    found = by_step(facts, period, clock, lambda step: step.decided_by)
    _compare_ratings(found, _expected_ratings(history, period, lambda _a, s: s["decided_by"]))


def test_agent_device_and_malicious_ratings_are_in_the_data_set_and_counted_apart(data):
    _path, history = data
    answered = [r for r in history.ratings if r["level"] is not None]
    assert any(r["channel"] == "agent_device" for r in answered)
    assert any(r["malicious_reason"] for r in answered)
    assert len(history.ratings) > 2000 and len(answered) < len(history.ratings)
