"""Names of the catalog's coded values (levels, modes, material forms) in the user's language."""

from __future__ import annotations

from edge.kernel.i18n import lazy_gettext

LEVEL = {
    "village": lazy_gettext("村级"),
    "township": lazy_gettext("乡镇级"),
    "county": lazy_gettext("县级部门"),
}
MODE = {
    "direct": lazy_gettext("村里直接办理"),
    "forwarded": lazy_gettext("村里申报，上级办理"),
}
MATERIAL_FORM = {
    "original": lazy_gettext("原件"),
    "copy": lazy_gettext("复印件"),
    "original_and_copy": lazy_gettext("原件和复印件"),
}
FIELD_TYPE = {
    "text": lazy_gettext("文字"),
    "number": lazy_gettext("数字"),
    "date": lazy_gettext("日期"),
    "choice": lazy_gettext("选择"),
    "id_number": lazy_gettext("身份证号码"),
    "phone": lazy_gettext("手机号码"),
}
LABELS = {"level": LEVEL, "mode": MODE, "material_form": MATERIAL_FORM, "field_type": FIELD_TYPE}
