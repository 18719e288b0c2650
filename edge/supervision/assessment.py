"""人机考核: a score and grade per unit from its figures and the weights in rules.toml.

Indicators are scored 0-100 (see rules.toml); `bad_ratings` and `follow_ups` take each unit's
好差评 figures (`rating_shares`), and score 100 for a unit nobody rated or with no follow-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge.kernel.i18n import lazy_gettext
from edge.supervision.rules import Rules
from edge.supervision.statistics import Figures

WEIGHT_LABELS = {
    "on_time": lazy_gettext("按时率"),
    "overdue": lazy_gettext("超期"),
    "bad_ratings": lazy_gettext("差评"),
    "follow_ups": lazy_gettext("差评整改"),
}
OVERDUE_PENALTY = 10  # points off per step finished late or red now


@dataclass(frozen=True)
class RatingShare:
    """What ratings add for one unit: the 差评 share and follow-ups closed in time."""

    bad_share: float
    follow_ups_in_time: float | None


@dataclass(frozen=True)
class Assessed:
    """One unit's grade, with every number that made it."""

    unit: str
    figures: Figures
    indicators: dict[str, float]
    score: float | None
    grade: str | None
    rank: int | None = None


def rating_shares(table: Mapping[str, Figures]) -> dict[str, RatingShare]:
    """Each unit's 差评 share of the ratings it received and its follow-ups closed in time."""
    return {
        unit: RatingShare(figures.bad_rate or 0.0, figures.fixed_rate)
        for unit, figures in table.items()
        if figures.rated or figures.follow_ups
    }


def indicators(figures: Figures, ratings: RatingShare | None) -> dict[str, float] | None:
    """Each indicator's score 0-100; None when the unit finished nothing in the period."""
    rate = figures.on_time_rate
    if rate is None:
        return None
    follow_ups = ratings.follow_ups_in_time if ratings else None
    return {
        "on_time": round(100 * rate, 1),
        "overdue": float(max(0, 100 - OVERDUE_PENALTY * (figures.late + figures.red))),
        "bad_ratings": round(100 * (1 - ratings.bad_share), 1) if ratings else 100.0,
        "follow_ups": 100.0 if follow_ups is None else round(100 * follow_ups, 1),
    }


def assess(
    table: Mapping[str, Figures],
    rules: Rules,
    ratings: Mapping[str, RatingShare] | None = None,
) -> list[Assessed]:
    """Every unit graded and ranked, best first; units with nothing finished last, ungraded."""
    graded: list[Assessed] = []
    ungraded: list[Assessed] = []
    for unit, figures in table.items():
        scores = indicators(figures, (ratings or {}).get(unit))
        if scores is None:
            ungraded.append(Assessed(unit, figures, {}, None, None))
            continue
        score = round(sum(rules.weights[name] * scores[name] for name in rules.weights), 1)
        graded.append(Assessed(unit, figures, scores, score, rules.grade(score)))
    graded.sort(key=lambda a: (-(a.score or 0), a.unit))
    ranked = [
        Assessed(a.unit, a.figures, a.indicators, a.score, a.grade, rank)
        for rank, a in enumerate(graded, start=1)
    ]
    return ranked + sorted(ungraded, key=lambda a: a.unit)
