"""Tracking codes residents type from an SMS or a receipt: 10 random symbols and 1 check symbol.

Crockford base32 (no I, L, O, U), shown as XXXX-XXXX-XXX. The check symbol makes the weighted
sum over GF(32) zero; the weights are distinct and non-zero, so every single-symbol typo and every
swap of two different symbols changes the sum and is caught.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from edge.kernel.i18n import gettext as _

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 10
CODE_LENGTH = RANDOM_LENGTH + 1
GROUPS = (4, 4, 3)
FIELD_POLYNOMIAL = 0b100101  # x^5 + x^2 + 1, primitive: x has order 31 in GF(32)
READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_.·]+")

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}


class InvalidTrackingCode(ValueError):
    """A typed code that is not a tracking code; str() is a message for the resident."""


def gf32_multiply(a: int, b: int) -> int:
    """The product of two 5-bit values in GF(32) = GF(2)[x] / (x^5 + x^2 + 1)."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= FIELD_POLYNOMIAL
    return product


def _powers_of_x(count: int) -> tuple[int, ...]:
    powers, power = [], 1
    for _index in range(count):
        power = gf32_multiply(power, 0b10)
        powers.append(power)
    return tuple(powers)


# x^1 .. x^10 for the random symbols; the check symbol's weight is x^0 = 1
WEIGHTS = _powers_of_x(RANDOM_LENGTH)


def check_symbol(body: str) -> str:
    """The symbol that completes 10 random symbols into a valid code."""
    total = 0
    for weight, symbol in zip(WEIGHTS, body, strict=True):
        total ^= gf32_multiply(weight, _VALUE[symbol])
    return ALPHABET[total]


def new_code() -> str:
    """A fresh code in canonical form (11 symbols, no dashes), 50 random bits from `secrets`."""
    body = "".join(secrets.choice(ALPHABET) for _index in range(RANDOM_LENGTH))
    return body + check_symbol(body)


def format_code(code: str) -> str:
    """A canonical code grouped for reading aloud and printing: XXXX-XXXX-XXX."""
    first, second = GROUPS[0], GROUPS[0] + GROUPS[1]
    return f"{code[:first]}-{code[first:second]}-{code[second:]}"


def canonical(raw: str) -> str:
    """What the resident typed, upper-cased, without spaces or dashes, O read as 0, I/L as 1."""
    return SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper().translate(READ_AS)


def parse_code(raw: str) -> str:
    """The canonical code behind `raw`, or InvalidTrackingCode when it cannot be one."""
    code = canonical(raw)
    if (
        len(code) != CODE_LENGTH
        or any(symbol not in _VALUE for symbol in code)
        or check_symbol(code[:RANDOM_LENGTH]) != code[RANDOM_LENGTH]
    ):
        raise InvalidTrackingCode(_("查询码有误，请核对短信或回执上的查询码。"))
    return code
