"""Load the catalog files into the database: checked, versioned, idempotent."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from edge.catalog.schema import check_item

CATALOG_DIR = Path(__file__).parent


class CatalogError(ValueError):
    """The catalog files are incomplete or inconsistent."""


@dataclass(frozen=True)
class Catalog:
    """A parsed catalog: version, departments and items, with a hash of its content."""

    version: str
    departments: list[dict[str, Any]]
    items: list[dict[str, Any]]
    content_hash: str


@dataclass(frozen=True)
class LoadResult:
    """What a load did."""

    version: str
    items: int
    changed: int


def read_parts(directory: Path = CATALOG_DIR) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The parsed catalog.toml and items/*.toml, unchecked; file names must be item codes."""
    head = tomllib.loads((directory / "catalog.toml").read_text(encoding="utf-8"))
    items = []
    for path in sorted((directory / "items").glob("*.toml")):
        item = tomllib.loads(path.read_text(encoding="utf-8"))
        if item.get("code") and path.stem != item["code"]:
            raise CatalogError(f"{path.name}: file name must be the item code {item['code']}")
        items.append(item)
    return head, items


def from_parts(head: dict[str, Any], items: list[dict[str, Any]]) -> Catalog:
    """Check a catalog (from files, or from central's feed); raise listing every problem."""
    departments = head.get("departments", [])
    known = {d.get("code") for d in departments}
    problems = [
        f"{item.get('code', '?')}: {error}" for item in items for error in check_item(item, known)
    ]
    if not head.get("version"):
        problems.append("catalog.toml: version is missing")
    if problems:
        raise CatalogError("catalog is not valid:\n" + "\n".join(problems))
    canonical = json.dumps([head, items], ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return Catalog(str(head["version"]), departments, items, digest)


def read_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    """Parse and check catalog.toml and items/*.toml."""
    return from_parts(*read_parts(directory))


def version_key(version: str) -> tuple[int, ...]:
    """A catalog version (`2026.11.1`) as numbers, so versions compare by value."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        raise CatalogError(f"catalog version {version!r} is not dotted numbers") from None


async def newer_loaded(conn: aiosqlite.Connection, version: str) -> bool:
    """Whether the database already holds a newer catalog (central published one)."""
    loaded = await current_version(conn)
    return loaded is not None and version_key(loaded[0]) > version_key(version)


async def current_version(conn: aiosqlite.Connection) -> tuple[str, str] | None:
    """The (version, content hash) loaded, if any."""
    async with conn.execute("SELECT version, content_hash FROM catalog_meta") as cursor:
        row = await cursor.fetchone()
    return (row["version"], row["content_hash"]) if row else None


async def load_catalog(conn: aiosqlite.Connection, catalog: Catalog) -> LoadResult:
    """Write `catalog` inside the caller's transaction unless this exact content is loaded."""
    if await current_version(conn) == (catalog.version, catalog.content_hash):
        return LoadResult(catalog.version, len(catalog.items), 0)
    changed = 0
    for position, department in enumerate(catalog.departments):
        changed += await _upsert_department(conn, department, position)
    for item in catalog.items:
        changed += await _upsert_item(conn, item)
    codes = [item["code"] for item in catalog.items]
    cursor = await conn.execute(
        "UPDATE catalog_items SET active = 0 WHERE active = 1 AND code NOT IN "
        f"({','.join('?' * len(codes))})",
        codes,
    )
    changed += cursor.rowcount
    await conn.execute(
        """
        INSERT INTO catalog_meta (id, version, content_hash, loaded_at) VALUES (1, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET version = excluded.version,
            content_hash = excluded.content_hash, loaded_at = excluded.loaded_at
        """,
        (catalog.version, catalog.content_hash, datetime.now(UTC).isoformat()),
    )
    return LoadResult(catalog.version, len(catalog.items), changed)


async def _upsert_department(
    conn: aiosqlite.Connection, department: dict[str, Any], position: int
) -> int:
    cursor = await conn.execute(
        """
        INSERT INTO departments (code, name_zh, name_en, position) VALUES (?, ?, ?, ?)
        ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh,
            name_en = excluded.name_en, position = excluded.position
        WHERE (name_zh, name_en, position) IS NOT
              (excluded.name_zh, excluded.name_en, excluded.position)
        """,
        (department["code"], department["name"]["zh"], department["name"]["en"], position),
    )
    return cursor.rowcount


async def _upsert_item(conn: aiosqlite.Connection, item: dict[str, Any]) -> int:
    body = json.dumps(item, ensure_ascii=False, sort_keys=True)
    cursor = await conn.execute(
        """
        INSERT INTO catalog_items (code, department_code, level, mode, name_zh, name_en,
            keywords, statutory_days, promised_days, body, active)
        VALUES (:code, :department, :level, :mode, :name_zh, :name_en, :keywords,
            :statutory_days, :promised_days, :body, 1)
        ON CONFLICT (code) DO UPDATE SET department_code = excluded.department_code,
            level = excluded.level, mode = excluded.mode, name_zh = excluded.name_zh,
            name_en = excluded.name_en, keywords = excluded.keywords,
            statutory_days = excluded.statutory_days, promised_days = excluded.promised_days,
            body = excluded.body, active = 1
        WHERE catalog_items.body IS NOT excluded.body OR catalog_items.active = 0
        """,
        {
            "code": item["code"],
            "department": item["department"],
            "level": item["level"],
            "mode": item["mode"],
            "name_zh": item["name"]["zh"],
            "name_en": item["name"]["en"],
            "keywords": " ".join(item["keywords"]),
            "statutory_days": item["statutory_days"],
            "promised_days": item["promised_days"],
            "body": body,
        },
    )
    return cursor.rowcount
