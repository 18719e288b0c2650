"""What a push says: title, body and the page it opens; only the applicant's masked name."""

from __future__ import annotations

from typing import Any

from edge.applications.records import Application
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name


def _titles() -> dict[str, str]:
    return {
        "returned": _("申请被退回补正"),
        "approved": _("申请已批准"),
        "rejected": _("申请未获批准"),
        "yellow": _("办理即将到期"),
        "red": _("办理已超期"),
        "urge": _("催办"),
        "escalation": _("超期督办"),
    }


def decision(app: Application, status: str) -> dict[str, str]:
    """For the agent: the application was returned, approved or rejected."""
    params = {"name": mask_name(app.applicant_name), "item": app.item_name_zh}
    bodies = {
        "returned": _("%(name)s 的“%(item)s”申请需要补正材料。"),
        "approved": _("%(name)s 的“%(item)s”申请已批准。"),
        "rejected": _("%(name)s 的“%(item)s”申请不予批准。"),
    }
    return {
        "title": _titles()[status],
        "body": bodies[status] % params,
        "url": f"/agent/applications/{app.id}",
    }


def deadline(step: Any, card: str) -> dict[str, str]:
    """For the staff who must act: a step turned yellow or red."""
    params = {
        "name": mask_name(step["applicant_name"]),
        "item": step["item_name_zh"],
        "date": step["due_on"],
    }
    return {
        "title": _titles()[card],
        "body": _("%(name)s 的“%(item)s”申请应于 %(date)s 前办结。") % params,
        "url": f"/staff/applications/{step['application_id']}",
    }
