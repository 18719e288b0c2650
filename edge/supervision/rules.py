"""The supervision rules data file (rules.toml): card thresholds, escalation, 考核 weights."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

RULES_FILE = Path(__file__).with_name("rules.toml")
FAILING_GRADE = "不合格"


@dataclass(frozen=True)
class Grade:
    """A grade and the lowest score that earns it."""

    name: str
    min_score: float


@dataclass(frozen=True)
class Rules:
    """What rules.toml says."""

    yellow_share: float
    escalate_after_red_days: int
    weights: dict[str, float]
    grades: tuple[Grade, ...]

    def grade(self, score: float) -> str:
        """The grade of a score: the first whose minimum it reaches, else 不合格."""
        for grade in self.grades:
            if score >= grade.min_score:
                return grade.name
        return FAILING_GRADE


def parse(text: str) -> Rules:
    """Rules from the TOML text; raises ValueError on a missing or impossible value."""
    data = tomllib.loads(text)
    weights = {k: float(v) for k, v in data["assessment"]["weights"].items()}
    if abs(sum(weights.values()) - 1.0) > 1e-9:
        raise ValueError(f"assessment weights must add up to 1, not {sum(weights.values())}")
    grades = tuple(Grade(g["name"], float(g["min_score"])) for g in data["assessment"]["grades"])
    if [g.min_score for g in grades] != sorted((g.min_score for g in grades), reverse=True):
        raise ValueError("assessment grades must be listed best first")
    share = float(data["cards"]["yellow_share"])
    if not 0 <= share < 1:
        raise ValueError(f"yellow_share must be in [0, 1), not {share}")
    return Rules(
        yellow_share=share,
        escalate_after_red_days=int(data["escalation"]["red_working_days"]),
        weights=weights,
        grades=grades,
    )


@cache
def load_rules() -> Rules:
    """The node's rules (read once)."""
    return parse(RULES_FILE.read_text(encoding="utf-8"))
