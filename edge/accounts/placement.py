"""The names of an account's place and department on landing pages, read once per database
version (they change only by a commit: a renamed department, a moved account)."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from edge.accounts.queries import placement
from edge.kernel.auth.account import Account
from edge.kernel.data_version import memo_for


async def kept_placement(
    path: Path, db: aiosqlite.Connection, account: Account
) -> aiosqlite.Row | None:
    """`queries.placement` of the database at `path`, kept while it is unchanged."""
    memo = memo_for(path)
    version = memo.version()
    key = ("placement", account.department_code, account.jurisdiction_code)
    kept = memo.get(key)
    if isinstance(kept, aiosqlite.Row):
        return kept
    found = await placement(db, account)
    if found is not None:
        memo.keep(version, key, found)
    return found
