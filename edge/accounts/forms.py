"""The account form a node admin fills: checked values and messages, nothing saved on error."""

from __future__ import annotations

from starlette.datastructures import FormData

from edge.accounts.roles import ASSIGNABLE_ROLES
from edge.jurisdictions.codes import contains, level_of
from edge.kernel.auth.forms import is_mobile
from edge.kernel.auth.passwords import MIN_LENGTH
from edge.kernel.i18n import gettext as _
from edge.kernel.text_input import name_problem, normal_name


def parse_account(
    form: FormData,
    *,
    admin_jurisdiction: str,
    places: set[str],
    departments: set[str],
    new: bool,
    officers_here: bool = True,
    current_role: str = "",
) -> tuple[dict[str, str], dict[str, str]]:
    """(values, errors) of an account form; `places` are the codes the admin may assign.
    Without `officers_here` (county steps are decided at central) no account becomes an
    officer here; one that already is may still be edited."""
    values = {
        key: str(form.get(key, "")).strip()
        for key in ("phone", "name", "role", "jurisdiction_code", "department_code")
    }
    values["name"] = normal_name(values["name"])
    values["password"] = str(form.get("password", ""))
    values["active"] = "1" if form.get("active") or new else ""
    errors: dict[str, str] = {}
    if new and not is_mobile(values["phone"]):
        errors["phone"] = _("请输入11位手机号码。")
    if bad_name := name_problem(values["name"]):
        errors["name"] = str(bad_name)
    elif not 1 <= len(values["name"]) <= 30:
        errors["name"] = _("请输入姓名（1至30个字）。")
    if values["role"] not in ASSIGNABLE_ROLES:
        errors["role"] = _("请选择角色。")
    code = values["jurisdiction_code"]
    if code not in places or not contains(admin_jurisdiction, code):
        errors["jurisdiction_code"] = _("请选择本镇范围内的辖区。")
    elif values["role"] == "agent" and level_of(code) != "village":
        errors["jurisdiction_code"] = _(
            "代办员的辖区必须是一个村（社区）：代办员只能看到和受理本村的申请。"
        )
    if values["role"] == "officer" and not officers_here and current_role != "officer":
        errors["role"] = _(
            "本镇的县级部门审批在市级中心平台办理，部门审批人员的账号请由中心管理员开设。"
        )
    elif values["role"] == "officer":
        if values["department_code"] not in departments:
            errors["department_code"] = _("部门审批人员必须选择所属部门。")
    else:
        values["department_code"] = ""
    if (new or values["password"]) and len(values["password"]) < MIN_LENGTH:
        errors["password"] = _("密码至少需要 %(n)s 个字符。") % {"n": MIN_LENGTH}
    return values, errors
