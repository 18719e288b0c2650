"""Central's demo accounts: a city admin and, per county with a registered township, one
officer for each department that decides county steps; idempotent."""

from __future__ import annotations

import aiosqlite

from central.nodes import parse_registry
from central.policies.demo import load_demo_city_content
from central.schema import migrate_database
from central.settings import CentralSettings
from central.supervision.demo import load_supervision_demo
from edge.accounts import queries as accounts
from edge.accounts.demo_people import DEMO_PASSWORD, OFFICER_NAMES, DemoAccount
from edge.catalog.loader import Catalog, read_catalog
from edge.jurisdictions.loader import read_tree
from edge.kernel.auth.account import by_phone
from edge.kernel.auth.passwords import hash_password
from edge.kernel.db import Database
from edge.reference import load_reference_data

ADMIN_PHONE = "13807700001"
BLOCK = "1380770"  # + county digit (its place in the tree) + 3 digits; edges use 1380771-9
CITY = "450500000000"


def county_departments(catalog: Catalog) -> list[str]:
    """Departments that decide a county step of some item, in the catalog's order."""
    used = {
        department
        for item in catalog.items
        for stage in item["route"]
        if stage["level"] == "county"
        for department in stage["departments"]
    }
    return [d["code"] for d in catalog.departments if d["code"] in used]


def demo_counties(registry: str) -> list[tuple[int, str]]:
    """(digit, county code) of every county with a registered township, in tree order."""
    tree = read_tree()
    counties = [row["code"] for row in tree if row["level"] == "county"]
    parents = {row["code"]: row["parent_code"] for row in tree}
    wanted = {parents[township] for _node, township, _url in parse_registry(registry)}
    return [(digit, code) for digit, code in enumerate(counties) if code in wanted and digit < 10]


def demo_accounts(registry: str, catalog: Catalog) -> list[DemoAccount]:
    """The demo logins of central for the townships in `registry` (CUNBAN_CENTRAL_NODES)."""
    people = [DemoAccount(ADMIN_PHONE, "覃振宇", "central_admin", CITY)]
    departments = county_departments(catalog)
    for digit, county in demo_counties(registry):
        for index, department in enumerate(departments):
            name = OFFICER_NAMES[(index + digit) % len(OFFICER_NAMES)]
            phone = f"{BLOCK}{digit}1{index:02d}"
            people.append(DemoAccount(phone, name, "officer", county, department))
    return people


async def load_demo(conn: aiosqlite.Connection, registry: str, now: str) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet (reference data loaded); return all."""
    people = demo_accounts(registry, read_catalog())
    missing = [p for p in people if await by_phone(conn, p.phone) is None]
    if missing:
        password_hash = hash_password(DEMO_PASSWORD)
        for person in missing:
            await accounts.create(
                conn,
                phone=person.phone,
                name=person.name,
                role=person.role,
                jurisdiction_code=person.jurisdiction_code,
                department_code=person.department_code,
                password_hash=password_hash,
                now=now,
            )
    people += await load_supervision_demo(conn, BLOCK, demo_counties(registry), now)
    return people


async def load_demo_central(settings: CentralSettings, now: str) -> list[DemoAccount]:
    """Migrate central.db, load reference data and the demo accounts (`python -m central demo`)."""
    db = Database(settings.database_path, replicated=False)
    await db.open()
    try:
        await migrate_database(db)
        await load_reference_data(db)
        async with db.write() as conn:
            people = await load_demo(conn, settings.nodes, now)
            await load_demo_city_content(conn, settings.nodes, ADMIN_PHONE, now)
            return people
    finally:
        await db.close()
