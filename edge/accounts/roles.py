"""The roles of DESIGN.md §4, their labels and the page each lands on after login."""

from __future__ import annotations

from edge.kernel.i18n import lazy_gettext

ROLE_LABELS = {
    "resident": lazy_gettext("居民"),
    "agent": lazy_gettext("代办员"),
    "township_staff": lazy_gettext("乡镇工作人员"),
    "officer": lazy_gettext("部门审批人员"),
    "supervisor": lazy_gettext("监察人员"),
    "node_admin": lazy_gettext("节点管理员"),
    "central_admin": lazy_gettext("市级管理员"),
}
ROLES = tuple(ROLE_LABELS)

# Roles a township's node admin may give: never central_admin.
ASSIGNABLE_ROLES = ("resident", "agent", "township_staff", "officer", "supervisor", "node_admin")

# The route each role lands on, by name: resolved at request time (edge.kernel.urls.home_path).
HOME = {
    "resident": "me:index",
    "agent": "intake:home",
    "township_staff": "review:queue",
    "officer": "review:queue",
    "supervisor": "supervision:dashboard",
    "node_admin": "accounts:list",
    "central_admin": "home:index",
}


def label(role: str) -> str:
    """The role's name in the current language."""
    return str(ROLE_LABELS[role])
