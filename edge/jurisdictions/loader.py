"""Load the jurisdiction tree from its data file, idempotently (only changed rows are written)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import aiosqlite

from edge.jurisdictions.codes import is_code, level_of

DATA_FILE = Path(__file__).parent / "beihai.toml"


def read_tree(path: Path = DATA_FILE) -> list[dict[str, str]]:
    """Parse and check the tree: valid codes, levels that match, parents listed first."""
    rows = tomllib.loads(path.read_text(encoding="utf-8"))["jurisdictions"]
    seen: dict[str, str] = {}
    tree = []
    for position, row in enumerate(rows):
        code, level = row["code"], row["level"]
        if not is_code(code) or level_of(code) != level:
            raise ValueError(f"{path.name}: {code} is not a valid {level} code")
        parent = _parent(code, seen)
        seen[code] = level
        tree.append(
            {
                "code": code,
                "parent_code": parent,
                "level": level,
                "name_zh": row["name"]["zh"],
                "name_en": row["name"]["en"],
                "position": position,
            }
        )
    return tree


def _parent(code: str, seen: dict[str, str]) -> str | None:
    for length in (9, 6, 4, 2):
        candidate = code[:length].ljust(12, "0")
        if candidate != code and candidate in seen:
            return candidate
    return None


async def load_tree(conn: aiosqlite.Connection, path: Path = DATA_FILE) -> int:
    """Upsert the tree inside the caller's transaction; return how many rows changed."""
    changed = 0
    for row in read_tree(path):
        cursor = await conn.execute(
            """
            INSERT INTO jurisdictions (code, parent_code, level, name_zh, name_en, position)
            VALUES (:code, :parent_code, :level, :name_zh, :name_en, :position)
            ON CONFLICT (code) DO UPDATE SET
                parent_code = excluded.parent_code, level = excluded.level,
                name_zh = excluded.name_zh, name_en = excluded.name_en,
                position = excluded.position
            WHERE (parent_code, level, name_zh, name_en, position) IS NOT
                  (excluded.parent_code, excluded.level, excluded.name_zh, excluded.name_en,
                   excluded.position)
            """,
            row,
        )
        changed += cursor.rowcount
    return changed
