"""What became of a decision sent down the feed: waiting for the township, applied, refused."""

from __future__ import annotations

from babel.support import LazyProxy

from edge.kernel.i18n import lazy_gettext

LABELS: dict[str, LazyProxy] = {
    "pending": lazy_gettext("已发往乡镇，等待执行"),
    "applied": lazy_gettext("乡镇已执行"),
    "refused": lazy_gettext("乡镇未执行"),
}
BADGES = {"pending": "yellow", "applied": "green", "refused": "red"}


def state(result: str | None) -> str:
    """pending until the township's record of the command reaches central, then its result."""
    return result or "pending"


def queue_state(command_id: str | None, result: str | None, action: str | None) -> str | None:
    """What the queue says about a step's latest decision; None when there is none, or when a
    return for supplement was applied and the resubmitted step waits for a new decision."""
    if command_id is None or (result == "applied" and action == "return"):
        return None
    return state(result)
