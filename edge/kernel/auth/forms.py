"""The login form: a phone number and a password."""

from __future__ import annotations

from starlette.datastructures import FormData

from edge.kernel.i18n import gettext as _


def is_mobile(phone: str) -> bool:
    """An 11-digit mainland mobile number."""
    return len(phone) == 11 and phone.isascii() and phone.isdecimal() and phone.startswith("1")


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else becomes empty."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return ""


def parse_login(form: FormData) -> tuple[dict[str, str], dict[str, str]]:
    """(values, errors) of a login post."""
    values = {
        "phone": str(form.get("phone", "")).strip().replace(" ", ""),
        "password": str(form.get("password", "")),
        "next": safe_next(str(form.get("next", ""))),
    }
    errors = {}
    if not is_mobile(values["phone"]):
        errors["phone"] = _("请输入11位手机号码。")
    if not values["password"]:
        errors["password"] = _("请输入密码。")
    return values, errors
