"""The live sessions a node has looked up, kept while the database has not changed (its
`data_version`): a request of a signed-in person then runs no SQL to find who they are; any
commit by any process (sign-out, deactivation, a renewed session) makes the next request ask."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from edge.kernel.auth.account import Account
from edge.kernel.data_version import memo_for
from edge.kernel.db import Database

MAX_SESSIONS = 4096  # the oldest goes first


@dataclass(frozen=True)
class Found:
    """A live session as the database said at `version`: its account, CSRF token, when it was
    last used and when it ends."""

    version: int
    account: Account
    csrf_token: str
    seen: datetime
    expires: datetime


Lookup = tuple[Account, str, datetime]


class SessionCache:
    """`lookup` with the database's answer kept per token hash until any commit."""

    def __init__(self) -> None:
        self.found: OrderedDict[str, Found] = OrderedDict()
        self._db: Database | None = None

    def version(self, db: Database) -> int:
        """The database's change counter now, on its one `data_version` connection (shared
        with the page cache and the other kept reads: edge.kernel.data_version.memo_for)."""
        if self._db is not db:
            self._db = db
            self.found.clear()
        return memo_for(db).data_version()

    def get(self, key: str, version: int, now: datetime, idle: timedelta) -> Lookup | None:
        """The kept answer when nothing was committed since and it is still live now."""
        found = self.found.get(key)
        if found is None or found.version != version:
            return None
        if found.expires <= now or found.seen <= now - idle:
            return None  # asked again: the database decides (and says no)
        return found.account, found.csrf_token, found.seen

    def keep(self, key: str, version: int, found: Lookup, expires: datetime) -> None:
        """Remember the database's answer for `key` as of `version`."""
        account, csrf_token, seen = found
        self.found[key] = Found(version, account, csrf_token, seen, expires)
        self.found.move_to_end(key)
        while len(self.found) > MAX_SESSIONS:
            self.found.popitem(last=False)
