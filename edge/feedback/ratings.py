"""The five levels a resident rates an answer with (非常满意 .. 非常不满意), the same five as the
好差评 of applications (edge/ratings defines them for those; these are the same codes)."""

from __future__ import annotations

from edge.kernel.i18n import lazy_gettext

LEVELS = {
    "very_satisfied": lazy_gettext("非常满意"),
    "satisfied": lazy_gettext("满意"),
    "neutral": lazy_gettext("基本满意"),
    "dissatisfied": lazy_gettext("不满意"),
    "very_dissatisfied": lazy_gettext("非常不满意"),
}
# an answer rated like this may be reopened (once)
UNRESOLVED = ("dissatisfied", "very_dissatisfied")


def label(level: str | None) -> str:
    """The level's name in the current language ('' when not rated)."""
    return str(LEVELS[level]) if level in LEVELS else ""
