"""电子监察 figures per unit and period, computed in Python over the rows `sources` loads.

Edge and central share it: the rows are the same whether read from `applications` or from
central's `edge_applications`. Office time excludes the working days an application spent
returned for supplement (the applicant's time), so nobody is ranked on the applicant's delay.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from edge.supervision.cards import CardRule, WorkdayIndex, worst

FINAL = ("approved", "rejected")
OPEN = ("in_review", "returned")
# What a count in a table stands for; each is also a list of cases (cases_for).
MEASURES = ("received", "finished", "on_time", "late", "open", "yellow", "red", "returns", "urged")
# 好差评 of applications closed in the period (round 1, as the published figures count them)
RATING_MEASURES = ("invited", "rated", "good", "bad", "follow_ups", "fixed", "unrated")


@dataclass(frozen=True)
class Period:
    """A period of local dates, both ends included, and how it was chosen."""

    since: date
    until: date
    kind: str = "custom"

    def __contains__(self, day: date | None) -> bool:
        return day is not None and self.since <= day <= self.until


@dataclass(frozen=True)
class Pause:
    """One return for supplement: the applicant held the file from `since` to `until`."""

    step_id: str
    requested_on: date
    resolved_on: date | None


@dataclass(frozen=True)
class StepFact:
    """A step as the figures read it."""

    id: str
    node: str
    application_id: str
    department: str
    level: str
    status: str
    days: int
    started_on: date | None
    due_on: date | None
    decided_on: date | None
    decided_by: str | None


@dataclass(frozen=True)
class RatingFact:
    """An application's round-1 rating (or its unanswered invitation) as the figures read it,
    tied to the step that decided the application (谁办理、谁负责)."""

    step_id: str | None
    closed_on: date
    level: int | None
    channel: str | None
    malicious: bool
    follow_up: bool  # a follow-up case was opened and not dismissed
    fixed: bool  # ...and closed in time


@dataclass(frozen=True)
class ApplicationFact:
    """An application with its steps, returns and reminders."""

    id: str
    node: str
    village: str
    status: str
    submitted_on: date
    finished_on: date | None
    promised_due_on: date
    steps: tuple[StepFact, ...]
    pauses: tuple[Pause, ...]
    urged_on: tuple[tuple[str, date], ...]  # (step id, day) of each 催办
    ratings: tuple[RatingFact, ...] = ()


@dataclass(frozen=True)
class Clock:
    """Today, the calendar and the card rule: what "now" means for open work."""

    today: date
    index: WorkdayIndex
    rule: CardRule

    def paused_days(self, pauses: Iterable[Pause]) -> int:
        """Working days the applicant held the file (an open return counts until today)."""
        return sum(self.index.between(p.requested_on, p.resolved_on or self.today) for p in pauses)

    def step_card(self, step: StepFact, app_status: str) -> str:
        """The card of a step that waits for the office (green otherwise)."""
        if step.status != "active" or app_status != "in_review" or step.due_on is None:
            return "green"
        return self.rule.card(step.due_on, step.days, self.today, self.index)

    def application_card(self, app: ApplicationFact) -> str:
        """The worst of the promised limit's card and the active steps' cards."""
        if app.status != "in_review":
            return "green"
        limit = self.index.between(app.submitted_on, app.promised_due_on)
        cards = [self.rule.card(app.promised_due_on, limit, self.today, self.index)]
        cards += [self.step_card(s, app.status) for s in app.steps]
        return worst(cards)


def step_times(step: StepFact, app: ApplicationFact, clock: Clock) -> tuple[int, int]:
    """(office, applicant) working days of a decided step."""
    assert step.started_on is not None and step.decided_on is not None
    applicant = clock.paused_days(p for p in app.pauses if p.step_id == step.id)
    total = clock.index.between(step.started_on, step.decided_on)
    return max(total - applicant, 0), applicant


def application_times(app: ApplicationFact, clock: Clock) -> tuple[int, int]:
    """(office, applicant) working days of a finished application."""
    assert app.finished_on is not None
    applicant = clock.paused_days(app.pauses)
    total = clock.index.between(app.submitted_on, app.finished_on)
    return max(total - applicant, 0), applicant


def nearest_rank(values: list[int], share: float) -> int | None:
    """The nearest-rank percentile (share 0.5 = median, 0.9 = p90); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


@dataclass
class Figures:
    """The counts and times of one unit in one period."""

    received: int = 0
    finished: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0
    yellow: int = 0
    red: int = 0
    returns: int = 0
    urged: int = 0
    invited: int = 0  # closed applications invited to rate
    rated: int = 0  # ratings received from the applicant's own phone (agent devices apart)
    good: int = 0  # 非常满意, 满意, 基本满意
    bad: int = 0  # 不满意, 非常不满意, not marked malicious
    follow_ups: int = 0
    fixed: int = 0  # follow-ups closed in time
    unrated: int = 0
    step_office_days: list[int] = field(default_factory=list)
    app_office_days: list[int] = field(default_factory=list)
    applicant_days: list[int] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        """Finished on time / finished (None when nothing finished)."""
        return self.on_time / self.finished if self.finished else None

    @property
    def good_rate(self) -> float | None:
        """好评率: good / rated."""
        return self.good / self.rated if self.rated else None

    @property
    def bad_rate(self) -> float | None:
        """差评率: bad / rated."""
        return self.bad / self.rated if self.rated else None

    @property
    def fixed_rate(self) -> float | None:
        """差评整改率: follow-ups closed in time / follow-ups."""
        return self.fixed / self.follow_ups if self.follow_ups else None

    @property
    def unrated_rate(self) -> float | None:
        """Non-response rate: closed applications nobody rated / invited."""
        return self.unrated / self.invited if self.invited else None

    @property
    def step_median(self) -> int | None:
        return nearest_rank(self.step_office_days, 0.5)

    @property
    def step_p90(self) -> int | None:
        return nearest_rank(self.step_office_days, 0.9)

    @property
    def app_median(self) -> int | None:
        return nearest_rank(self.app_office_days, 0.5)

    @property
    def app_p90(self) -> int | None:
        return nearest_rank(self.app_office_days, 0.9)

    @property
    def applicant_total(self) -> int:
        return sum(self.applicant_days)

    def add(self, measures: set[str], counts: dict[str, int]) -> None:
        """Count one subject's measures (returns and 催办 are events: counted by number)."""
        for name in measures:
            setattr(self, name, getattr(self, name) + counts.get(name, 1))


def rating_measures(ratings: Iterable[RatingFact], period: Period) -> dict[str, int]:
    """What ratings of applications closed in the period add: the published figures' rule
    (agent-device ratings are neither counted as received nor as unanswered)."""
    found: dict[str, int] = defaultdict(int)
    for rating in ratings:
        if rating.closed_on not in period:
            continue
        found["invited"] += 1
        if rating.level is None:
            found["unrated"] += 1
        elif rating.channel != "agent_device":
            found["rated"] += 1
            if rating.level <= 3:
                found["good"] += 1
            elif not rating.malicious:
                found["bad"] += 1
        if rating.follow_up:
            found["follow_ups"] += 1
            found["fixed"] += rating.fixed
    return {name: count for name, count in found.items() if count}


def application_measures(app: ApplicationFact, period: Period, clock: Clock) -> dict[str, int]:
    """What one application adds to its unit's counts: measure -> count."""
    found: dict[str, int] = {}
    if app.submitted_on in period:
        found["received"] = 1
    finished = app.finished_on
    if app.status in FINAL and finished is not None and finished in period:
        found["finished"] = 1
        found["on_time" if finished <= app.promised_due_on else "late"] = 1
    if app.status in OPEN:
        found["open"] = 1
        card = clock.application_card(app)
        if card != "green":
            found[card] = 1
    returns = sum(p.requested_on in period for p in app.pauses)
    if returns:
        found["returns"] = returns
    urged = sum(day in period for _step, day in app.urged_on)
    if urged:
        found["urged"] = urged
    return found | rating_measures(app.ratings, period)


def step_measures(
    step: StepFact, app: ApplicationFact, period: Period, clock: Clock
) -> dict[str, int]:
    """What one step adds to its department's (and deciding officer's) counts."""
    found: dict[str, int] = {}
    if step.started_on in period:
        found["received"] = 1
    decided = step.decided_on
    if step.status in FINAL and decided is not None and decided in period and step.due_on:
        found["finished"] = 1
        found["on_time" if decided <= step.due_on else "late"] = 1
    if step.status in ("active", "returned") and app.status in OPEN:
        found["open"] = 1
        card = clock.step_card(step, app.status)
        if card != "green":
            found[card] = 1
    returns = sum(p.step_id == step.id and p.requested_on in period for p in app.pauses)
    if returns:
        found["returns"] = returns
    urged = sum(s == step.id and day in period for s, day in app.urged_on)
    if urged:
        found["urged"] = urged
    return found | rating_measures((r for r in app.ratings if r.step_id == step.id), period)


def _add_application_times(
    figures: Figures, app: ApplicationFact, period: Period, clock: Clock
) -> None:
    if app.status in FINAL and app.finished_on in period:
        office, applicant = application_times(app, clock)
        figures.app_office_days.append(office)
        figures.applicant_days.append(applicant)
    for step in app.steps:
        if step.status in FINAL and step.decided_on in period and step.started_on:
            figures.step_office_days.append(step_times(step, app, clock)[0])


def by_unit(
    apps: Iterable[ApplicationFact], period: Period, clock: Clock, key: Callable[[str], str]
) -> dict[str, Figures]:
    """Figures per unit of the jurisdiction tree: `key` maps a village code to its unit."""
    table: dict[str, Figures] = defaultdict(Figures)
    for app in apps:
        figures = table[key(app.village)]
        measures = application_measures(app, period, clock)
        figures.add(set(measures), measures)
        _add_application_times(figures, app, period, clock)
    return dict(table)


def by_step(
    apps: Iterable[ApplicationFact],
    period: Period,
    clock: Clock,
    key: Callable[[StepFact], str | None],
) -> dict[str, Figures]:
    """Figures per department or officer: `key` maps a step to its unit (None: not counted)."""
    table: dict[str, Figures] = defaultdict(Figures)
    for app in apps:
        for step in app.steps:
            unit = key(step)
            if unit is None:
                continue
            figures = table[unit]
            measures = step_measures(step, app, period, clock)
            figures.add(set(measures), measures)
            if step.status in FINAL and step.decided_on in period and step.started_on:
                office, applicant = step_times(step, app, clock)
                figures.step_office_days.append(office)
                figures.applicant_days.append(applicant)
    return dict(table)


def total(table: dict[str, Figures]) -> Figures:
    """The sum of a table's rows (times pooled, so medians are of all cases)."""
    result = Figures()
    for figures in table.values():
        for name in MEASURES + RATING_MEASURES:
            setattr(result, name, getattr(result, name) + getattr(figures, name))
        result.step_office_days += figures.step_office_days
        result.app_office_days += figures.app_office_days
        result.applicant_days += figures.applicant_days
    return result
