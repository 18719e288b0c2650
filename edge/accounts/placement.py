"""The names of an account's place and department on landing pages, read once per database
version (they change only by a commit: a renamed department, a moved account)."""

from __future__ import annotations

import aiosqlite

from edge.accounts.queries import placement
from edge.kernel.auth.account import Account
from edge.kernel.data_version import memo_for
from edge.kernel.db import Database


async def kept_placement(
    database: Database, db: aiosqlite.Connection, account: Account
) -> aiosqlite.Row | None:
    """`queries.placement` on `db`, a connection of `database`, kept while it is unchanged."""
    memo = memo_for(database)
    version = memo.version()
    key = ("placement", account.department_code, account.jurisdiction_code)
    kept = memo.get(key)
    if isinstance(kept, aiosqlite.Row):
        return kept
    found = await placement(db, account)
    if found is not None:
        memo.keep(version, key, found)
    return found
