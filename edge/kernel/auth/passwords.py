"""Password hashing with Argon2id (memory-hard)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the phone is unknown, so both paths cost the same time.
_DUMMY = _hasher.hash("cunban-no-such-account")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """An Argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; takes as long when there is no account."""
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
