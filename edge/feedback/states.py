"""The states of a feedback item (国办发〔2020〕53号: 受理 -> 转办 -> 办理 -> 答复 -> 回访 -> 评价),
their names, the moves allowed, and how Open311 sees them."""

from __future__ import annotations

from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import lazy_gettext

STATES = ("accepted", "transferred", "handling", "answered", "visited", "rated")
LABELS = {
    "accepted": lazy_gettext("受理"),
    "transferred": lazy_gettext("转办"),
    "handling": lazy_gettext("办理"),
    "answered": lazy_gettext("答复"),
    "visited": lazy_gettext("回访"),
    "rated": lazy_gettext("评价"),
}
# still waiting for an answer: the working-day clock runs
OPEN = ("accepted", "transferred", "handling")
# what each state may become by a staff action
MOVES = {
    "accepted": ("transferred", "handling", "answered"),
    "transferred": ("handling", "answered"),
    "handling": ("transferred", "answered"),
    "answered": ("visited",),
    "visited": (),
    "rated": (),
}


class IllegalMove(ValueError):
    """A move the item's state does not allow; str() is a message for staff."""


def label(state: str) -> str:
    """The state's name in the current language."""
    return str(LABELS.get(state, state))


def check_move(current: str, target: str) -> None:
    """IllegalMove unless `current` may become `target`."""
    if target not in MOVES.get(current, ()):
        raise IllegalMove(
            _("这条留言现在是“{current}”，不能改为“{target}”。").format(
                current=label(current), target=label(target)
            )
        )


def open311_status(state: str) -> str:
    """GeoReport v2 knows only open and closed: closed once the official answer is given."""
    return "open" if state in OPEN else "closed"
