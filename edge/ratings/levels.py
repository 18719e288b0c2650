"""The five levels and the standard's indicators (国办发〔2019〕51号, GB/T 39734/39735-2020).

Levels are stored as the digit a resident replies by SMS: 1 非常满意 … 5 非常不满意.
"""

from __future__ import annotations

from babel.support import LazyProxy

from edge.kernel.i18n import lazy_gettext

LEVELS: dict[int, LazyProxy] = {
    1: lazy_gettext("非常满意"),
    2: lazy_gettext("满意"),
    3: lazy_gettext("基本满意"),
    4: lazy_gettext("不满意"),
    5: lazy_gettext("非常不满意"),
}
BAD = (4, 5)  # 差评

# column -> label, in the order the standard lists them
INDICATORS: dict[str, LazyProxy] = {
    "efficiency": lazy_gettext("办事效率"),
    "guide": lazy_gettext("办事指南精确度"),
    "convenience": lazy_gettext("办事便捷度"),
    "usability": lazy_gettext("平台操作性"),
    "overall": lazy_gettext("整体满意度"),
}

CHANNELS: dict[str, LazyProxy] = {
    "link": lazy_gettext("短信链接"),
    "tracking": lazy_gettext("进度查询页"),
    "sms": lazy_gettext("短信回复"),
    "agent_device": lazy_gettext("代办员或工作人员设备"),
}


def is_bad(level: int | None) -> bool:
    """Whether `level` is a 差评 (不满意 or 非常不满意)."""
    return level in BAD


def label(level: int | None) -> str:
    """The level's name in the current language; empty when not rated."""
    return "" if level is None else str(LEVELS[level])


REMEDY_LABELS: dict[str, LazyProxy] = {
    "rectified": lazy_gettext("已整改"),
    "explained": lazy_gettext("已解释说明"),
}
CALLBACK_LABELS: dict[str, LazyProxy] = {
    "satisfied": lazy_gettext("满意"),
    "accepted": lazy_gettext("基本认可"),
    "unsatisfied": lazy_gettext("仍不满意"),
    "unreachable": lazy_gettext("联系不上"),
}
STATUS_LABELS: dict[str, LazyProxy] = {
    "open": lazy_gettext("办理中"),
    "closed": lazy_gettext("已办结"),
    "dismissed": lazy_gettext("已撤销"),
}
