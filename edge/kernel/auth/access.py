"""Who may see a page: signed in, with one of the allowed roles."""

from __future__ import annotations

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request

from edge.kernel.auth.account import Account
from edge.kernel.i18n import gettext as _
from edge.kernel.urls import path_for


class LoginRequired(HTTPException):
    """Raised when a page needs a signed-in account; answered with a redirect to /login."""

    def __init__(self, login_path: str, next_path: str) -> None:
        self.location = f"{login_path}?next={quote(next_path)}"
        super().__init__(status_code=303, headers={"Location": self.location})


def require(request: Request, *roles: str) -> Account:
    """The signed-in account, if its role is one of `roles` (any role when none are given)."""
    account: Account | None = request.scope.get("account")
    if account is None:
        raise LoginRequired(path_for(request, "auth:login"), request.url.path)
    if roles and account.role not in roles:
        raise HTTPException(status_code=403, detail=_("您的账号没有权限访问此页面。"))
    return account
