"""Rating link tokens: short, random, single-use; only their hash is stored (and replicated)."""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base 32, lower case
LENGTH = 10  # 50 bits


def new_token() -> str:
    """A fresh token for one invitation."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def token_hash(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.lower().encode()).hexdigest()


def plausible(token: str) -> bool:
    """Whether `token` could be one of ours (anything else is not looked up)."""
    return len(token) == LENGTH and all(char in ALPHABET for char in token.lower())
