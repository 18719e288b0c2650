"""The compact signed form a certificate's QR code carries, so it can be checked offline.

The QR holds `<verify URL>#<token>`; the token (RFC 4648 base32, no padding: the QR's
alphanumeric mode) is key id (4 bytes of the SHA-256 of the raw Ed25519 public key) + signature
(64) + compact JSON `[item, office, issued on, name, ID number (region + last 4), [the item's
fields' answers in its order]]`, signed as `cunban-qr-1\n<seal id>\n<JSON>` (the seal id is
the URL's last path segment). An answer longer than LONG_FACT characters is null (checked
online); an unanswered field is "".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from segno import consts

from edge.kernel.key_files import key_path
from edge.kernel.signatures import ALGORITHMS

DOMAIN = b"cunban-qr-1\n"
KEY_ID_BYTES = 4
SIGNATURE_BYTES = 64
LONG_FACT = 40


@dataclass(frozen=True)
class Certified:
    """What the QR of one certificate states; `fields` are the item's field names in order."""

    seal_id: str
    item_code: str
    office: str
    issued_on: str
    applicant_name: str
    id_number: str
    facts: dict[str, str]
    fields: tuple[str, ...] = ()


def raw_public_key(public_pem: str) -> bytes:
    """The 32 raw bytes of an Ed25519 public key (what WebCrypto imports as `raw`)."""
    key = serialization.load_pem_public_key(public_pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_pem: str) -> str:
    """The short key id a token names its key by (hex)."""
    return hashlib.sha256(raw_public_key(public_pem)).digest()[:KEY_ID_BYTES].hex()


def _short_id(masked: str) -> str:
    """4505**********1234 -> 45051234 (the page shows the masked form again)."""
    return masked[:4] + masked[-4:] if len(masked) == 18 and "*" in masked else masked


def message(certified: Certified) -> bytes:
    """The JSON the token carries (long answers left out as null)."""
    answers = [certified.facts.get(name, "") for name in certified.fields]
    body = [
        certified.item_code,
        certified.office,
        certified.issued_on,
        certified.applicant_name,
        _short_id(certified.id_number),
        [answer if len(answer) <= LONG_FACT else None for answer in answers],
    ]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signed_bytes(seal_id: str, body: bytes) -> bytes:
    """What the signature covers: the domain, the seal id and the JSON."""
    return DOMAIN + seal_id.encode("ascii") + b"\n" + body


def token(keys_dir: Path, seal_key_id: str, public_pem: str, certified: Certified) -> str | None:
    """The signed token, or None when the office's private key is no longer on this node."""
    private = key_path(keys_dir, seal_key_id)
    if not private.is_file():
        return None
    body = message(certified)
    signature = ALGORITHMS["ed25519"].sign(
        private.read_bytes(), signed_bytes(certified.seal_id, body)
    )
    raw = bytes.fromhex(key_id(public_pem)) + signature + body
    return base64.b32encode(raw).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Checked:
    """A token read back: which key it names, whether the signature holds, what it states."""

    key_id: str
    valid: bool
    body: list[Any]


def check(text: str, keys: dict[str, str]) -> Checked | None:
    """Read the QR's text `<...>/verify/<seal id>#<token>` against {key id: public PEM}; None
    when it is not a certificate's QR at all. The Python twin of static/js/seal-check.js."""
    address, _hash, encoded = text.strip().rpartition("#")
    seal_id = address.rstrip("/").rpartition("/")[2]
    encoded = encoded.upper()
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
        seal_id.encode("ascii")
    except (binascii.Error, ValueError):
        return None
    if len(raw) <= KEY_ID_BYTES + SIGNATURE_BYTES or not seal_id:
        return None
    kid = raw[:KEY_ID_BYTES].hex()
    signature = raw[KEY_ID_BYTES : KEY_ID_BYTES + SIGNATURE_BYTES]
    body = raw[KEY_ID_BYTES + SIGNATURE_BYTES :]
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    pem = keys.get(kid)
    valid = pem is not None and ALGORITHMS["ed25519"].verify(
        pem, signed_bytes(seal_id, body), signature
    )
    return Checked(kid, valid, parsed if isinstance(parsed, list) else [])


@dataclass(frozen=True)
class QrCode:
    """A QR code as inline SVG, with its version (size) and how many bytes it encodes."""

    svg: str
    content: str
    version: int
    modules: int
    payload_bytes: int


def qr_code(url: str, signed: str | None) -> QrCode:
    """The verify URL (byte mode) followed by the token (alphanumeric mode) in one code."""
    prefix = url + "#" if signed else url
    segments: list[tuple[str, int]] = [(prefix, consts.MODE_BYTE)]
    if signed:
        segments.append((signed, consts.MODE_ALPHANUMERIC))
    code = segno.make(segments, error="m", micro=False)  # type: ignore[arg-type]  # segments
    size = int(code.symbol_size(border=0)[0])
    svg = code.svg_inline(scale=2, border=2, omitsize=True)
    content = prefix + (signed or "")
    return QrCode(svg, content, int(code.version), size, len(prefix.encode()) + len(signed or ""))
