"""The one state machine: which status may follow which, and the refusal when it may not."""

from __future__ import annotations

from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import lazy_gettext

# application status -> statuses it may move to
APPLICATION = {
    "in_review": {"returned", "approved", "rejected", "withdrawn"},
    "returned": {"in_review", "withdrawn"},
    "approved": set(),
    "rejected": set(),
    "withdrawn": set(),
}
# step status -> statuses it may move to
STEP = {
    "waiting": {"active", "cancelled"},
    "active": {"approved", "rejected", "returned", "cancelled"},
    "returned": {"active", "cancelled"},
    "approved": set(),
    "rejected": set(),
    "cancelled": set(),
}
STATUS_LABELS = {
    "in_review": lazy_gettext("审核中"),
    "returned": lazy_gettext("待补正"),
    "approved": lazy_gettext("已办结（批准）"),
    "rejected": lazy_gettext("已办结（不予批准）"),
    "withdrawn": lazy_gettext("已撤回"),
    "waiting": lazy_gettext("未开始"),
    "active": lazy_gettext("办理中"),
    "cancelled": lazy_gettext("已取消"),
}


# what the user is told when what they ask for has already happened (a stale form, a retry)
ALREADY = {
    "in_review": lazy_gettext("这件申请已经补正过了，正在审核中，不用再次提交。"),
    "withdrawn": lazy_gettext("这件申请已经撤回了。"),
}
# why an applicant withdraws, as the agent records it (a choice, no free text)
WITHDRAW_REASONS = {
    "not_needed": lazy_gettext("申请人不再需要办理"),
    "apply_again": lazy_gettext("信息或材料有误，申请人将重新申请"),
    "elsewhere": lazy_gettext("申请人已到其他地方办理"),
    "other": lazy_gettext("其他原因（申请人当面说明）"),
}


class IllegalTransition(Exception):
    """A change the state machine does not allow; its message is shown to the user."""


def label(status: str) -> str:
    """A status in the user's language."""
    return str(STATUS_LABELS[status])


def check(table: dict[str, set[str]], current: str, wanted: str) -> None:
    """Refuse `current -> wanted` unless the table allows it."""
    if current == wanted and wanted in ALREADY:
        raise IllegalTransition(str(ALREADY[wanted]))
    if wanted not in table[current]:
        raise IllegalTransition(
            _("当前状态为“%(current)s”，不能变为“%(wanted)s”。")
            % {"current": label(current), "wanted": label(wanted)}
        )
