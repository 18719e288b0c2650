"""What a form kept in the agent app's outbox is told when it is sent: accepted (the page that
shows it, its code) once committed, or sent back with a message per field; the device keeps the
form until one of these arrives (static/js/outbox.js)."""

from __future__ import annotations

from starlette.responses import JSONResponse

NO_STORE = {"Cache-Control": "no-store"}


def accepted(url: str, code: str = "") -> JSONResponse:
    """The node holds it: where to see it and the code the resident or agent quotes."""
    return JSONResponse({"url": url, "tracking_code": code}, headers=NO_STORE)


def sent_back(errors: dict[str, str], error: str = "") -> JSONResponse:
    """Not taken: what to correct, by field (`error` for the form as a whole); nothing is
    lost on the device."""
    return JSONResponse({"errors": errors, "error": error}, status_code=400, headers=NO_STORE)
