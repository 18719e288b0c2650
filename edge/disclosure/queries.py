"""Results disclosure queries: decided, not withheld cases, from the edge's own tables or from
central's ingested copies (the same SQL over `Source`); the edge's withholdings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from edge.disclosure.results import DECIDED, PAGE_SIZE, ResultFilter


@dataclass(frozen=True)
class Source:
    """Where decided cases and their withholdings live: the edge's tables or central's copies."""

    applications: str
    withholdings: str
    same_case: str

    @property
    def cases(self) -> str:
        """FROM ... WHERE: decided cases, with item and village, none withheld now."""
        return f"""
            FROM {self.applications} a
            JOIN catalog_items i ON i.code = a.item_code
            JOIN jurisdictions j ON j.code = a.village_code
            WHERE a.status IN {DECIDED!r}
              AND NOT EXISTS (SELECT 1 FROM {self.withholdings} w
                              WHERE {self.same_case} AND w.released_at IS NULL)
        """


EDGE = Source("applications", "disclosure_withholdings", "w.application_id = a.id")
CENTRAL = Source(
    "edge_applications",
    "edge_disclosure_withholdings",
    "w.node_id = a.node_id AND w.application_id = a.id",
)
COLUMNS = """
    SELECT a.id, a.item_code, a.village_code, a.applicant_name, a.status, a.finished_at,
           a.promised_due_on, a.form_data, i.name_zh AS item_zh, i.name_en AS item_en, i.body,
           j.name_zh AS village_zh, j.name_en AS village_en
"""


def _where(wanted: ResultFilter) -> tuple[str, list[Any]]:
    sql, params = [], []
    if wanted.village:
        sql.append("AND a.village_code = ?")
        params.append(wanted.village)
    if wanted.item:
        sql.append("AND a.item_code = ?")
        params.append(wanted.item)
    if wanted.month:
        sql.append("AND substr(a.finished_at, 1, 7) = ?")
        params.append(wanted.month)
    return "\n".join(sql), params


async def cases(
    db: aiosqlite.Connection, wanted: ResultFilter, source: Source = EDGE
) -> tuple[list[Any], int]:
    """One page of cases matching the filter, newest first, and how many match in all."""
    where, params = _where(wanted)
    async with db.execute(f"SELECT count(*) {source.cases} {where}", params) as cursor:
        row = await cursor.fetchone()
    total = int(row[0]) if row else 0
    async with db.execute(
        f"{COLUMNS} {source.cases} {where} ORDER BY a.finished_at DESC, a.id DESC LIMIT ? OFFSET ?",
        [*params, PAGE_SIZE, wanted.offset],
    ) as cursor:
        return list(await cursor.fetchall()), total


async def cases_of_items(
    db: aiosqlite.Connection, items: tuple[str, ...], limit: int, source: Source = EDGE
) -> list[Any]:
    """The newest cases of any of `items` (a power's real cases)."""
    if not items:
        return []
    marks = ",".join("?" * len(items))
    async with db.execute(
        f"{COLUMNS} {source.cases} AND a.item_code IN ({marks}) "
        "ORDER BY a.finished_at DESC, a.id DESC LIMIT ?",
        [*items, limit],
    ) as cursor:
        return list(await cursor.fetchall())


async def decided_items(db: aiosqlite.Connection, source: Source = EDGE) -> list[aiosqlite.Row]:
    """The catalog items that have at least one disclosed case, for the item filter."""
    async with db.execute(
        f"SELECT DISTINCT i.code, i.name_zh, i.name_en {source.cases} ORDER BY i.code"
    ) as cursor:
        return list(await cursor.fetchall())


async def withholding(db: aiosqlite.Connection, application_id: str) -> aiosqlite.Row | None:
    """The application's withholding row (withheld or released), if any."""
    async with db.execute(
        "SELECT * FROM disclosure_withholdings WHERE application_id = ?", (application_id,)
    ) as cursor:
        return await cursor.fetchone()


async def withhold(
    db: aiosqlite.Connection, application_id: str, reason: str, note: str, by: str, at: str
) -> None:
    """Withhold a case from publication (again, if it was released)."""
    await db.execute(
        """
        INSERT INTO disclosure_withholdings (application_id, reason, note, withheld_by,
            withheld_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (application_id) DO UPDATE SET reason = excluded.reason,
            note = excluded.note, withheld_by = excluded.withheld_by,
            withheld_at = excluded.withheld_at, released_by = NULL, released_at = NULL
        """,
        (application_id, reason, note, by, at),
    )


async def release(db: aiosqlite.Connection, application_id: str, by: str, at: str) -> bool:
    """Publish a withheld case again; False if it was not withheld."""
    cursor = await db.execute(
        """
        UPDATE disclosure_withholdings SET released_by = ?, released_at = ?
        WHERE application_id = ? AND released_at IS NULL
        """,
        (by, at, application_id),
    )
    return cursor.rowcount == 1
