"""The anonymous visitor's CSRF cookie: one value for every visitor, signed with the node's own
secret (data_dir/keys/visitor-token.key), so a value planted from elsewhere is refused; what it
proves is that a browser that names no origin sent its SameSite=Strict cookie (docs/architecture.md
"CSRF"), not who the visitor is: no per-visitor state (issue 17)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

from edge.kernel.durable_files import write_durably

SECRET_FILE = "visitor-token.key"


def load_secret(keys_dir: Path) -> bytes:
    """The node's secret for visitor tokens, made (0600, durably) on first use."""
    path = keys_dir / SECRET_FILE
    if not path.exists():
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_durably(path, secrets.token_bytes(32))
    return path.read_bytes()


def _signature(secret: bytes, nonce: str) -> str:
    digest = hmac.new(secret, b"visitor-token:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


STATIC_NONCE = "visitor"  # the same token for everyone; tokens of earlier versions stay valid


def issue(secret: bytes) -> str:
    """The node's token: `nonce.signature`, the same for every visitor."""
    return f"{STATIC_NONCE}.{_signature(secret, STATIC_NONCE)}"


def is_valid(secret: bytes, token: str) -> bool:
    """Whether this node signed `token` (any text, even non-ASCII, is answered, never raised)."""
    nonce, dot, signature = token.partition(".")
    if not dot or not token.isascii():
        return False
    return hmac.compare_digest(signature.encode(), _signature(secret, nonce).encode())
