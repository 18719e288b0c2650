"""Working days on the real 2026 calendar: 国庆 skipped, 调休 counted, cards, idempotent seed."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from edge.kernel.db import Database
from edge.schema import migrate_database
from edge.workdays.arithmetic import (
    CARD_LABELS,
    add_working_days,
    card,
    is_workday,
    working_days_between,
)
from edge.workdays.local import local_today
from edge.workdays.queries import (
    exceptions_between,
    package_exceptions,
    seed_from_package,
    set_day,
)

SHANGHAI = "Asia/Shanghai"
GUOQING_2026 = [date(2026, 10, d) for d in range(1, 8)]  # Thu 1 Oct - Wed 7 Oct
MAKEUP_SUNDAY = date(2026, 9, 20)
MAKEUP_SATURDAY = date(2026, 10, 10)
EXCEPTIONS = {day: is_work for day, (is_work, _) in package_exceptions(range(2026, 2027)).items()}


def test_package_knows_guoqing_2026():
    assert all(not chinese_calendar.is_workday(day) for day in GUOQING_2026)
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 1)) == (True, "National Day")
    assert chinese_calendar.is_workday(MAKEUP_SUNDAY)
    assert chinese_calendar.is_workday(MAKEUP_SATURDAY)
    assert not chinese_calendar.is_workday(date(2026, 10, 11))


def test_exceptions_hold_only_departures_from_monday_friday():
    assert EXCEPTIONS[date(2026, 10, 1)] is False
    assert date(2026, 10, 3) not in EXCEPTIONS  # a Saturday off anyway
    assert EXCEPTIONS[MAKEUP_SATURDAY] is True
    assert EXCEPTIONS[MAKEUP_SUNDAY] is True
    assert is_workday(MAKEUP_SATURDAY, EXCEPTIONS)
    assert not is_workday(date(2026, 10, 5), EXCEPTIONS)  # a Monday of 国庆
    assert is_workday(date(2026, 10, 5), {})


def test_five_days_from_just_before_guoqing_skip_the_holiday_and_count_the_saturday():
    # 30 Sep (Wed) -> 8 Oct, 9 Oct, 10 Oct (调休 Saturday), 12 Oct, 13 Oct
    assert add_working_days(date(2026, 9, 30), 5, EXCEPTIONS) == date(2026, 10, 13)
    assert add_working_days(date(2026, 9, 30), 5, {}) == date(2026, 10, 7)


def test_limit_spanning_a_makeup_weekend_day_counts_it():
    assert add_working_days(date(2026, 9, 18), 1, EXCEPTIONS) == MAKEUP_SUNDAY
    assert add_working_days(date(2026, 10, 9), 1, EXCEPTIONS) == MAKEUP_SATURDAY
    assert add_working_days(date(2026, 10, 9), 2, EXCEPTIONS) == date(2026, 10, 12)


def test_zero_days_is_the_start_or_the_next_working_day():
    assert add_working_days(date(2026, 9, 30), 0, EXCEPTIONS) == date(2026, 9, 30)
    assert add_working_days(date(2026, 10, 1), 0, EXCEPTIONS) == date(2026, 10, 8)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 9, 30), -1, EXCEPTIONS)


def test_working_days_between_across_guoqing():
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 12), EXCEPTIONS) == 4
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 7), EXCEPTIONS) == 0
    assert working_days_between(date(2026, 10, 12), date(2026, 9, 30), EXCEPTIONS) == 0
    assert working_days_between(date(2026, 10, 12), date(2026, 10, 12), EXCEPTIONS) == 0


def test_cards_fire_as_today_moves():
    due = date(2026, 10, 8)  # the first working day after 国庆
    moment = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)
    seen = {}
    while local_today(moment, SHANGHAI) <= date(2026, 10, 9):
        today = local_today(moment, SHANGHAI)
        seen[today] = card(due, today, 1, EXCEPTIONS)
        moment += timedelta(days=1)
    assert seen[date(2026, 9, 28)] == "green"
    assert seen[date(2026, 9, 29)] == "green"  # 30 Sep and 8 Oct still to go
    assert seen[date(2026, 9, 30)] == "yellow"  # one working day left, eight calendar days
    assert seen[date(2026, 10, 4)] == "yellow"
    assert seen[date(2026, 10, 8)] == "yellow"  # due today
    assert seen[date(2026, 10, 9)] == "red"


def test_card_warning_window_is_configurable():
    due = date(2026, 10, 13)
    assert card(due, date(2026, 10, 10), 1, EXCEPTIONS) == "green"
    assert card(due, date(2026, 10, 10), 2, EXCEPTIONS) == "yellow"
    assert card(due, date(2026, 10, 13), 0, EXCEPTIONS) == "yellow"
    assert card(due, date(2026, 10, 12), 0, EXCEPTIONS) == "green"


def test_card_labels_are_chinese_by_default():
    assert str(CARD_LABELS["yellow"]) == "黄牌：即将到期"
    assert set(CARD_LABELS) == {"green", "yellow", "red"}


def test_local_today_is_shanghai_date():
    assert local_today(datetime(2026, 9, 30, 17, 0, tzinfo=UTC), SHANGHAI) == date(2026, 10, 1)
    assert local_today(datetime(2026, 9, 30, 15, 59, tzinfo=UTC), SHANGHAI) == date(2026, 9, 30)
    with pytest.raises(ValueError):
        local_today(datetime(2026, 9, 30, 17, 0), SHANGHAI)


def test_seed_is_idempotent_and_read_back(tmp_path):
    async def scenario():
        db = Database(tmp_path / "edge.db")
        await db.open()
        try:
            await migrate_database(db)
            async with db.write() as conn:
                first = await seed_from_package(conn, range(2025, 2031))
            async with db.write() as conn:
                second = await seed_from_package(conn, range(2025, 2031))
            async with db.write() as conn:
                unknown = await seed_from_package(conn, range(2040, 2042))
            async with db.read() as conn:
                autumn = await exceptions_between(conn, date(2026, 9, 1), date(2026, 10, 31))
                async with conn.execute(
                    "SELECT note FROM calendar_days WHERE day = '2026-10-01'"
                ) as cursor:
                    note = (await cursor.fetchone())["note"]
            async with db.write() as conn:
                await set_day(conn, date(2026, 10, 9), False, "台风停工")
                again = await seed_from_package(conn, range(2026, 2027))
            async with db.read() as conn:
                after = await exceptions_between(conn, date(2026, 10, 9), date(2026, 10, 9))
            return first, second, unknown, autumn, note, again, after
        finally:
            await db.close()

    first, second, unknown, autumn, note, again, after = asyncio.run(scenario())
    assert first == len(package_exceptions(range(2025, 2031))) > 0
    assert second == 0
    assert unknown == 0
    assert note == "国庆节"
    assert autumn == {
        MAKEUP_SUNDAY: True,
        date(2026, 9, 25): False,  # 中秋, a Friday
        date(2026, 10, 1): False,
        date(2026, 10, 2): False,
        date(2026, 10, 5): False,
        date(2026, 10, 6): False,
        date(2026, 10, 7): False,
        MAKEUP_SATURDAY: True,
    }
    assert add_working_days(date(2026, 9, 30), 5, autumn) == date(2026, 10, 13)
    assert again == 0  # 9 Oct is not the package's, so the admin's edit stays
    assert after == {date(2026, 10, 9): False}
