"""A simulated history of applications: the edge demo's months of work, the statistics test's
data set and the dashboard benchmark's. Deterministic (seeded); written into an edge's own
tables (`write_edge`) or central's `edge_*` copies (`write_central`).

Each application walks its steps over the real working-day calendar (国庆, 春节, 调休 days from
chinesecalendar): some late, some returned for supplement (the applicant's time), some
rejected or withdrawn, some urged; whatever would end after `today` is left open. Closed ones
are then rated (`Rater`, its own random stream): some not at all, some on an agent's device,
some 差评 with a follow-up closed in time, late or still open, some marked malicious.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ulid import ULID

from edge.applications.tracking_code import new_code
from edge.workdays.arithmetic import add_working_days
from edge.workdays.queries import package_exceptions

TOWNSHIPS = {  # node -> township code (the third is not in the demo tree: central keeps codes)
    "lianzhou": "450521100000",
    "fucheng": "450503101000",
    "shankou": "450521102000",
}
# (item code, township step days, county departments of stage 1, their days, promised days),
# as the catalog routes them
ITEMS = (
    ("MZ-002", 10, ("civil",), 8, 20),
    ("NY-001", 6, ("agri", "land"), 8, 15),
    ("YB-001", 2, (), 0, 3),
)
STEP_NAMES = {
    "township": ("乡镇审核", "Township review"),
    "county": ("县级部门审批", "County decision"),
}
OFFICERS_PER_DEPARTMENT = 3


def stamp(day: date) -> str:
    """10:00 in Guangxi on `day`, as stored (UTC)."""
    return f"{day.isoformat()}T02:00:00+00:00"


@dataclass
class History:
    """Rows per central table, and the calendar they were made with."""

    exceptions: dict[date, bool]
    today: date
    applications: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    supplements: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)


def calendar(years: range = range(2024, 2028)) -> dict[date, bool]:
    """Holidays and 调休 days as the edges seed them."""
    return {day: work for day, (work, _note) in package_exceptions(years).items()}


class Walk:
    """One application's walk through its steps."""

    def __init__(self, rng: random.Random, history: History, node: str, village: str) -> None:
        self.rng = rng
        self.history = history
        self.node = node
        self.village = village
        self.id = str(ULID.from_timestamp(rng.random() * 1e9))
        self.pauses: list[tuple[str, date, date | None]] = []
        self.mine: list[dict[str, Any]] = []

    def after(self, start: date, days: int) -> date:
        return add_working_days(start, days, self.history.exceptions)

    def run(self, item: tuple[Any, ...], submitted: date) -> None:
        code, township_days, departments, county_days, promised_days = item
        stages = [(0, "township", ("township",), township_days)]
        if departments:
            stages.append((1, "county", departments, county_days))
        status, day, reached = "approved", submitted, 0
        paused_on: date | None = None
        for stage, level, depts, days in stages:
            reached = stage
            ends: list[date] = []
            for dept in depts:
                outcome, end, paused = self._step(stage, level, dept, days, day)
                if outcome == "returned":
                    status, paused_on = "returned", paused
                elif outcome == "active" and status != "returned":
                    status = "in_review"
                elif outcome == "rejected" and status == "approved":
                    status = "rejected"
                if end is not None:
                    ends.append(end)
            if status != "approved":
                break
            day = max(ends)
        finished = day if status in ("approved", "rejected") else None
        if status == "rejected":
            finished = max(
                (s["decided_on"] for s in self.mine if s["decided_on"]), default=submitted
            )
        if finished is not None and self.rng.random() < 0.02:
            status = "withdrawn"
        self._waiting(stages, reached)
        self.history.applications.append(
            {
                "node_id": self.node,
                "id": self.id,
                "tracking_code": self.id[-11:],
                "item_code": code,
                "village_code": self.village,
                "agent_id": "0" * 26,
                "applicant_id_number": "450521195603121234",
                "applicant_name": "测试人",
                "applicant_phone": "13900000000",
                "form_data": "{}",
                "status": status,
                "stage": reached,
                "submitted_at": stamp(submitted),
                "submitted_on": submitted.isoformat(),
                "promised_due_on": self.after(
                    self.after(submitted, promised_days), self._paused_days()
                ).isoformat(),
                "paused_on": paused_on.isoformat() if paused_on else None,
                "finished_at": stamp(finished) if finished else None,
            }
        )

    def _paused_days(self) -> int:
        """Working days of the returns already resolved (the promise moves by them)."""
        return sum(self.between(since, until) for _s, since, until in self.pauses if until)

    def between(self, start: date, end: date) -> int:
        return sum(
            self.history.exceptions.get(d, d.weekday() < 5)
            for d in (start + timedelta(days=k) for k in range(1, (end - start).days + 1))
        )

    def _step(
        self, stage: int, level: str, dept: str, days: int, start: date
    ) -> tuple[str, date | None, date | None]:
        """Simulate one step; returns (status, decision day or None, paused-on day or None)."""
        rng, today = self.rng, self.history.today
        step_id = str(ULID.from_timestamp(rng.random() * 1e9))
        due = self.after(start, days)
        took = rng.choice([0, 1, 2, 3]) + rng.randint(0, days + (4 if rng.random() < 0.2 else 0))
        day = start
        paused: date | None = None
        if rng.random() < 0.15:  # returned for supplement after a few days
            asked = self.after(start, rng.randint(0, max(days // 2, 1)))
            held = rng.randint(1, 6)
            back = self.after(asked, held)
            if asked > today:
                pass
            elif back > today:
                self._supplement(step_id, asked, None)
                paused = asked
            else:
                self._supplement(step_id, asked, back)
                shift = self.between(asked, back)
                due = self.after(due, shift)
                took += shift
        decided = self.after(day, took)
        officer = f"{dept}-{rng.randrange(OFFICERS_PER_DEPARTMENT)}".ljust(26, "0")[:26]
        if paused is not None:
            status, decided_on = "returned", None
        elif decided > today:
            status, decided_on = "active", None
        else:
            status = "rejected" if rng.random() < 0.08 else "approved"
            decided_on = decided
        row = {
            "node_id": self.node,
            "id": step_id,
            "application_id": self.id,
            "stage": stage,
            "level": level,
            "department_code": dept,
            "name_zh": STEP_NAMES[level][0],
            "name_en": STEP_NAMES[level][1],
            "days": days,
            "status": status,
            "started_on": start.isoformat(),
            "due_on": due.isoformat(),
            "decided_by": officer if decided_on else None,
            "decided_at": stamp(decided_on) if decided_on else None,
            "decided_on": decided_on,
            "opinion": "",
        }
        self.history.steps.append(row)
        self.mine.append(row)
        if status == "active" and due < today and rng.random() < 0.3:
            self._urge(step_id, self.after(due, 1))
        elif decided_on and decided_on > due and rng.random() < 0.3:
            self._urge(step_id, due)
        return status, decided_on, paused

    def _waiting(self, stages: list[tuple[Any, ...]], reached: int) -> None:
        """Later stages never started: waiting steps without dates."""
        for stage, level, depts, days in stages[reached + 1 :]:
            for dept in depts:
                self.history.steps.append(
                    {
                        "node_id": self.node,
                        "id": str(ULID.from_timestamp(self.rng.random() * 1e9)),
                        "application_id": self.id,
                        "stage": stage,
                        "level": level,
                        "department_code": dept,
                        "name_zh": STEP_NAMES[level][0],
                        "name_en": STEP_NAMES[level][1],
                        "days": days,
                        "status": "waiting",
                        "started_on": None,
                        "due_on": None,
                        "decided_by": None,
                        "decided_at": None,
                        "decided_on": None,
                        "opinion": "",
                    }
                )

    def _supplement(self, step_id: str, asked: date, back: date | None) -> None:
        self.pauses.append((step_id, asked, back))
        self.history.supplements.append(
            {
                "node_id": self.node,
                "id": str(ULID.from_timestamp(self.rng.random() * 1e9)),
                "application_id": self.id,
                "step_id": step_id,
                "requested_by": "0" * 26,
                "requested_at": stamp(asked),
                "material_keys": "[]",
                "note": "",
                "resolved_at": stamp(back) if back else None,
            }
        )

    def _urge(self, step_id: str, day: date) -> None:
        if day > self.history.today:
            return
        self.history.reminders.append(
            {
                "node_id": self.node,
                "id": str(ULID.from_timestamp(self.rng.random() * 1e9)),
                "step_id": step_id,
                "application_id": self.id,
                "kind": "urge",
                "sent_by": "0" * 26,
                "sent_at": stamp(day),
                "recipients": json.dumps([]),
                "note": "",
            }
        )


LEVELS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5)  # how applicants rate an approval
REJECTED_LEVELS = (2, 3, 3, 4, 4, 5)
FOLLOW_UP_DAYS = 5


class Rater:
    """The ratings and follow-ups of a history's closed applications."""

    def __init__(self, rng: random.Random, history: History) -> None:
        self.rng = rng
        self.history = history

    def after(self, start: date, days: int) -> date:
        return add_working_days(start, days, self.history.exceptions)

    def rate_all(self) -> None:
        steps_of: dict[str, list[dict[str, Any]]] = {}
        for step in self.history.steps:
            steps_of.setdefault(step["application_id"], []).append(step)
        for app in self.history.applications:
            if app["status"] in ("approved", "rejected"):
                self.rate(app, steps_of[app["id"]])

    def rate(self, app: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        """Round 1 for one closed application, rating the step that decided it."""
        rng = self.rng
        decided = [s for s in steps if s["decided_on"]]
        if app["status"] == "rejected":
            decided = [s for s in decided if s["status"] == "rejected"] or decided
        step = max(decided, key=lambda s: s["decided_on"])
        closed = date.fromisoformat(app["finished_at"][:10])
        rated_on = self.after(closed, rng.choice((0, 0, 1, 2)))
        answered = rng.random() < 0.7 and rated_on <= self.history.today
        level = rng.choice(REJECTED_LEVELS if app["status"] == "rejected" else LEVELS)
        channel = rng.choice(("link", "link", "sms", "tracking", "agent_device"))
        malicious = answered and level >= 4 and rng.random() < 0.1
        rating = {
            "node_id": app["node_id"],
            "id": str(ULID.from_timestamp(rng.random() * 1e9)),
            "application_id": app["id"],
            "round": 1,
            "token_hash": f"{rng.getrandbits(256):064x}",
            "phone": app["applicant_phone"],
            "village_code": app["village_code"],
            "office_code": step["department_code"],
            "office_level": step["level"],
            "outcome": app["status"],
            "invited_at": app["finished_at"],
            "closed_on": closed.isoformat(),
            "follow_up_days": FOLLOW_UP_DAYS,
            "level": level if answered else None,
            "overall": level if answered else None,
            "channel": channel if answered else None,
            "rated_at": stamp(rated_on) if answered else None,
            "malicious_reason": "同一号码反复恶意差评，与办理事实不符" if malicious else None,
            "malicious_at": stamp(rated_on) if malicious else None,
            "step_id": step["id"],  # not a column: what the recount ties the rating to
        }
        self.history.ratings.append(rating)
        if answered and level >= 4 and channel != "agent_device":
            self.follow_up(rating, rated_on, malicious)

    def follow_up(self, rating: dict[str, Any], opened: date, dismissed: bool) -> None:
        """Every 差评 opens a case due in 5 working days: closed in time, late, or open."""
        due = self.after(opened, FOLLOW_UP_DAYS)
        closed = self.after(opened, self.rng.choice((1, 2, 3, 4, 5, 7)))
        done = closed <= self.history.today and not dismissed
        self.history.follow_ups.append(
            {
                "node_id": rating["node_id"],
                "id": str(ULID.from_timestamp(self.rng.random() * 1e9)),
                "rating_id": rating["id"],
                "application_id": rating["application_id"],
                "village_code": rating["village_code"],
                "office_code": rating["office_code"],
                "office_level": rating["office_level"],
                "opened_at": stamp(opened),
                "opened_on": opened.isoformat(),
                "due_on": due.isoformat(),
                "status": "dismissed" if dismissed else ("closed" if done else "open"),
                "closed_on": closed.isoformat() if done else None,
                "closed_in_time": int(closed <= due) if done else None,
                "handled_at": "edge",
            }
        )


def generate(
    count: int,
    today: date,
    months: int = 6,
    seed: int = 13,
    townships: dict[str, str] = TOWNSHIPS,
) -> History:
    """`count` applications over the `months` before `today`, spread over `townships`."""
    rng = random.Random(seed)
    history = History(calendar(), today)
    start = today - timedelta(days=30 * months)
    span = (today - start).days
    nodes = list(townships.items())
    for _n in range(count):
        node, township = rng.choice(nodes)
        village = township[:9] + str(201 + rng.randrange(3))
        submitted = add_working_days(
            start + timedelta(days=rng.randrange(span)), 0, history.exceptions
        )
        if submitted > today:
            submitted = today
        Walk(rng, history, node, village).run(rng.choice(ITEMS), submitted)
    Rater(random.Random(seed + 1), history).rate_all()
    return history


Statement = tuple[str, list[tuple[Any, ...]]]


def _insert(table: str, rows: list[dict[str, Any]], skip: tuple[str, ...] = ()) -> Statement:
    """One INSERT and its rows (nothing to insert: no rows)."""
    columns = [c for c in rows[0] if c not in skip] if rows else ["1"]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [tuple(row[c] for c in columns) for row in rows],
    )


def write_central(conn: sqlite3.Connection, history: History) -> None:
    """The history as central's copies of the nodes' rows (registering missing nodes)."""
    for node, township in TOWNSHIPS.items():
        conn.execute(
            "INSERT OR IGNORE INTO nodes (node_id, township_code, township_zh, township_en, "
            "county_zh, county_en, base_url, registered_at) VALUES (?, ?, ?, ?, '', '', ?, ?)",
            (node, township, node, node, f"http://127.0.0.1/{node}", stamp(history.today)),
        )
    for sql, rows in (
        _insert("edge_applications", history.applications),
        _insert("edge_steps", history.steps, skip=("decided_on",)),
        _insert("edge_supplement_requests", history.supplements),
        _insert("edge_reminders", history.reminders),
        _insert("edge_ratings", history.ratings, skip=("step_id",)),
        _insert("edge_follow_ups", history.follow_ups),
    ):
        if rows:
            conn.executemany(sql, rows)
    conn.commit()


APPLICANTS = (
    ("韦秀英", "450521195203150021"),
    ("黄志强", "450521196807210034"),
    ("李桂芬", "450521194501010022"),
    ("陈家宝", "450521198811110019"),
    ("莫丽华", "450521197502140026"),
    ("覃建国", "450521196310090035"),
)


HISTORY_PHONE_PREFIX = "1390773"  # the history's applicants: a block of their own
HISTORY_PHONES = HISTORY_PHONE_PREFIX + "%"


def edge_rows(history: History, people: list[Any]) -> list[Statement]:
    """The history as this edge's own rows, done and decided by its real accounts."""
    by_role: dict[str, str] = {}
    agents: dict[str, str] = {}
    for p in people:
        key = p["role"] + (p["department_code"] or "")
        by_role.setdefault(key, p["id"])
        if p["role"] == "agent":
            agents.setdefault(p["jurisdiction_code"], p["id"])
    staff = by_role["township_staff"]

    def decider(department: str) -> str:
        return staff if department == "township" else by_role.get("officer" + department, staff)

    apps = []
    for n, app in enumerate(history.applications):
        name, id_number = APPLICANTS[n % len(APPLICANTS)]
        row = {k: v for k, v in app.items() if k != "node_id"}
        row |= {
            "tracking_code": new_code(),
            "agent_id": agents.get(app["village_code"], next(iter(agents.values()))),
            "applicant_name": name,
            "applicant_id_number": id_number,
            "applicant_phone": f"{HISTORY_PHONE_PREFIX}{n % 10000:04d}",
        }
        apps.append(row)
    steps = [
        {k: v for k, v in s.items() if k not in ("node_id", "decided_on")}
        | {"decided_by": decider(s["department_code"]) if s["decided_by"] else None}
        for s in history.steps
    ]
    supplements = [
        {k: v for k, v in r.items() if k != "node_id"} | {"requested_by": staff}
        for r in history.supplements
    ]
    reminders = [
        {k: v for k, v in r.items() if k != "node_id"} | {"sent_by": by_role["supervisor"]}
        for r in history.reminders
    ]
    phones = {app["id"]: app["applicant_phone"] for app in apps}
    ratings = [
        {k: v for k, v in r.items() if k not in ("node_id", "step_id")}
        | {"phone": phones[r["application_id"]]}
        | {"malicious_by": by_role["supervisor"] if r["malicious_reason"] else None}
        for r in history.ratings
    ]
    follow_ups = [{k: v for k, v in f.items() if k != "node_id"} for f in history.follow_ups]
    return [
        _insert("applications", apps),
        _insert("steps", steps),
        _insert("supplement_requests", supplements),
        _insert("reminders", reminders),
        _insert("ratings", ratings),
        _insert("follow_ups", follow_ups),
    ]
