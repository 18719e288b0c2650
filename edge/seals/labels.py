"""Names of seal kinds and of the payload fields shown on the public check page."""

from __future__ import annotations

from edge.kernel.i18n import lazy_gettext

KIND = {
    "decision": lazy_gettext("审批决定"),
    "village_certificate": lazy_gettext("村级证明"),
}
FIELD = {
    "tracking_code": lazy_gettext("查询码"),
    "item_code": lazy_gettext("事项编码"),
    "item_name": lazy_gettext("办理事项"),
    "applicant_name": lazy_gettext("申请人"),
    "applicant_id_number": lazy_gettext("身份证号码"),
    "village": lazy_gettext("所在村"),
    "department": lazy_gettext("决定部门"),
    "decision": lazy_gettext("决定"),
    "decided_on": lazy_gettext("决定日期"),
    "issued_on": lazy_gettext("出具日期"),
    "certifies": lazy_gettext("证明内容"),
    "purpose": lazy_gettext("用途"),
    "valid_until": lazy_gettext("有效期至"),
}
