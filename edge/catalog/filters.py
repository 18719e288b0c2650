"""What a catalog search asks for, read from a query string: the words (at most 40 characters),
a known department and a known way of handling; anything else is ignored, never an error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from edge.catalog.queries import CatalogFilter
from edge.catalog.schema import MODES

MAX_QUERY = 40


def catalog_filter(params: Mapping[str, str], departments: Iterable[str]) -> CatalogFilter:
    """The filter `params` (q, dept, mode) ask for, limited to what exists."""
    department = params.get("dept", "")
    mode = params.get("mode", "")
    return CatalogFilter(
        query=params.get("q", "").strip()[:MAX_QUERY],
        department=department if department in set(departments) else "",
        mode=mode if mode in MODES else "",
    )
