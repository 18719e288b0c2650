"""What the power pages show, the same on the edge and at central: the list filtered by a GET
search and area, and one power with its catalog items and real cases."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from edge.disclosure.labels import DECISIONS
from edge.disclosure.results import public_cases
from edge.kernel.i18n import gettext as _
from edge.powers.loader import PowerList, power_list
from edge.powers.power import Area, Power

MAX_QUERY = 40
CASES_SHOWN = 5  # the newest; the results list has the rest (and one A4 page holds five)


def wanted_areas(powers: PowerList, query: str, area: str) -> list[Area]:
    """The areas (with only their matching powers) for a search and an area filter."""
    found = []
    for each in powers.areas:
        if area and each.code != area:
            continue
        matching = tuple(p for p in each.powers if not query or p.matches(query))
        if matching:
            found.append(Area(each.code, each.name, matching))
    return found


def list_context(request: Request) -> dict[str, Any]:
    """The list page's context, the same on the edge and at central."""
    powers = power_list()
    query = request.query_params.get("q", "").strip()[:MAX_QUERY]
    area = request.query_params.get("area", "")
    area = area if any(a.code == area for a in powers.areas) else ""
    return {
        "powers": powers,
        "areas": wanted_areas(powers, query, area),
        "query": query,
        "area": area,
    }


def power_or_404(request: Request) -> Power:
    """The power named by the `code` path parameter, or a 404 page."""
    power = power_list().power(request.path_params["code"])
    if power is None:
        raise HTTPException(status_code=404, detail=_("没有找到这项权力，请返回权力清单查找。"))
    return power


def power_context(power: Power, rows: list[Any], items: list[Any]) -> dict[str, Any]:
    """One power's page context with its items and real cases, the same on edge and central."""
    return {
        "power": power,
        "items": items,
        "powers": power_list(),
        "cases": public_cases(rows),
        "decisions": DECISIONS,
        "catalog_links": False,  # central has no service guide pages
        "feedback_links": False,  # nor the 我有话说 form: it is the township's
        "sheets": False,  # notice-board sheets are printed (and sealed) by the township
        "villages": [],
    }
