"""Signature algorithms by name (seals, node identity); a signer records its algorithm, so new
ones (SM2) can be added beside Ed25519."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SignatureAlgorithm(Protocol):
    """Makes key pairs, signs and checks; keys travel as PEM (private bytes, public text)."""

    name: str

    def generate(self) -> tuple[bytes, str]:
        """A new key pair: (private key PEM, public key PEM text)."""
        ...

    def sign(self, private_pem: bytes, message: bytes) -> bytes:
        """The signature of `message`."""
        ...

    def verify(self, public_key_text: str, message: bytes, signature: bytes) -> bool:
        """Whether `signature` was made over `message` by the key's owner."""
        ...


class Ed25519:
    """Ed25519 (RFC 8032)."""

    name = "ed25519"

    def generate(self) -> tuple[bytes, str]:
        """A new key pair: (PKCS#8 PEM, SubjectPublicKeyInfo PEM text)."""
        private = Ed25519PrivateKey.generate()
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return private_pem, public_pem.decode("ascii")

    def sign(self, private_pem: bytes, message: bytes) -> bytes:
        """Sign with a PEM private key."""
        return _ed25519_private(private_pem).sign(message)

    def verify(self, public_key_text: str, message: bytes, signature: bytes) -> bool:
        """Check with a PEM public key; a malformed key or signature is simply not valid."""
        try:
            public = _ed25519_public(public_key_text)
            if public is None:
                return False
            public.verify(signature, message)
        except (InvalidSignature, ValueError, UnicodeEncodeError):
            return False
        return True


# Parsing a PEM key costs more than an Ed25519 signature or check: each key is parsed once
# (an audit write signs, and a verify checks thousands of rows, with the same few keys).
@lru_cache(maxsize=64)
def _ed25519_private(private_pem: bytes) -> Ed25519PrivateKey:
    private = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return private


@lru_cache(maxsize=256)
def _ed25519_public(public_key_text: str) -> Ed25519PublicKey | None:
    public = serialization.load_pem_public_key(public_key_text.encode("ascii"))
    return public if isinstance(public, Ed25519PublicKey) else None


DEFAULT_ALGORITHM = "ed25519"
ALGORITHMS: dict[str, SignatureAlgorithm] = {"ed25519": Ed25519()}
