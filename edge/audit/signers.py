"""Whether each audit row's signature holds, and which keys may sign: the first signed row's
key, then each key a row signed by a trusted key introduces (`rotate_key`), so a key added to
`node_identity` behind the app's back signs nothing that verifies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.audit.signing import holds

ROTATE = "rotate_key"  # the audit action that introduces the next key (object: its key id)
KEY_OBJECT = "identity_key"


class Signers:
    """Walks a chain's rows in order (`keys`: key id -> public key, as the node published them)."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self.keys = keys
        self.trusted: set[str] = set()
        self.signed = False  # a signed row came before: every later row must be signed

    def problem(self, row: Mapping[str, Any], what: str) -> str | None:
        """Why this row's signature does not hold, if it does not (None for a legacy row
        written before signing began); a good row's key, or the key it introduces, is trusted."""
        found = self._problem(row, what)
        if found is None and row["key_id"] is not None:
            self._admit(row)
        self.signed = self.signed or row["key_id"] is not None or row["signature"] is not None
        return found

    def _problem(self, row: Mapping[str, Any], what: str) -> str | None:
        key_id = row["key_id"]
        if row["signature"] is None and key_id is None:
            if self.signed:
                return f"{what} is not signed, after signed rows: appended behind the app's back"
            return None  # legacy
        if key_id not in self.keys:
            return f"{what} names a signing key this node does not have ({key_id}): forged"
        if row["signature"] is None or not holds(
            self.keys[key_id], key_id, row["hash"], row["signature"]
        ):
            return f"{what} has a signature its key did not make: forged or edited"
        if self.trusted and key_id not in self.trusted:
            return (
                f"{what} is signed by key {key_id}, which no earlier row introduced: a key added "
                "behind the app's back, or made after the node's key file was lost"
            )
        return None

    def _admit(self, row: Mapping[str, Any]) -> None:
        if not self.trusted:
            self.trusted.add(row["key_id"])  # the first signed row's key
        if row["action"] == ROTATE and row["object_type"] == KEY_OBJECT:
            self.trusted.add(row["object_id"])
