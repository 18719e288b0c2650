"""Tracking codes: unguessable, typeable, and every typo or swap refused."""

from __future__ import annotations

import math

import pytest

from edge.applications.tracking_code import (
    ALPHABET,
    CODE_LENGTH,
    RANDOM_LENGTH,
    WEIGHTS,
    InvalidTrackingCode,
    check_symbol,
    format_code,
    new_code,
    parse_code,
)

MESSAGE = "查询码有误，请核对短信或回执上的查询码。"


def code_of(body: str) -> str:
    return body + check_symbol(body)


def refused(raw: str) -> bool:
    with pytest.raises(InvalidTrackingCode) as caught:
        parse_code(raw)
    return str(caught.value) == MESSAGE


def test_alphabet_is_crockford_base32():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_at_least_50_random_bits():
    assert RANDOM_LENGTH * math.log2(len(ALPHABET)) >= 50


def test_weights_are_distinct_and_non_zero():
    # with the check symbol's weight 1 this is what makes every substitution and swap detectable
    weights = (1, *WEIGHTS)
    assert len(set(weights)) == CODE_LENGTH
    assert 0 not in weights


def test_generated_codes_parse_back():
    codes = [new_code() for _ in range(1000)]
    assert len(set(codes)) == 1000
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert parse_code(code) == code
        assert parse_code(format_code(code)) == code


def test_format_groups_4_4_3():
    code = code_of("ABCD123456")
    assert format_code(code) == f"ABCD-1234-56{code[-1]}"


SAMPLES = ["0000000000", "ZZZZZZZZZZ", "0123456789", "ABCDEFGHJK", "MNPQRSTVWX"]


@pytest.mark.parametrize("body", [*SAMPLES, *(new_code()[:RANDOM_LENGTH] for _ in range(5))])
def test_every_single_symbol_typo_is_caught(body):
    code = code_of(body)
    typos = [
        code[:position] + symbol + code[position + 1 :]
        for position in range(CODE_LENGTH)
        for symbol in ALPHABET
        if symbol != code[position]
    ]
    assert len(typos) == CODE_LENGTH * 31
    assert all(refused(typo) for typo in typos)


@pytest.mark.parametrize("body", [*SAMPLES, *(new_code()[:RANDOM_LENGTH] for _ in range(5))])
def test_every_transposition_is_caught(body):
    code = code_of(body)
    for first in range(CODE_LENGTH):
        for second in range(first + 1, CODE_LENGTH):
            if code[first] == code[second]:
                continue
            swapped = list(code)
            swapped[first], swapped[second] = swapped[second], swapped[first]
            assert refused("".join(swapped)), (code, first, second)


def test_adjacent_transpositions_of_distinct_symbols_are_enumerated():
    code = code_of("0123456789")
    swaps = [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(CODE_LENGTH - 1)
        if code[i] != code[i + 1]
    ]
    assert len(swaps) >= 9
    assert all(refused(swap) for swap in swaps)


def test_normalization_of_case_spaces_dashes_and_lookalikes():
    code = code_of("0A1B2C3D4E")
    assert parse_code(format_code(code).lower()) == code
    assert parse_code(" " + " ".join(format_code(code)) + " ") == code
    assert parse_code("oa" + "l" + code[3:]) == code
    assert parse_code("OA" + "I" + code[3:]) == code
    assert parse_code(format_code(code).replace("-", "—")) == code
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert parse_code(full_width) == code


def test_wrong_length_or_symbols_are_refused():
    code = new_code()
    assert refused(code[:-1])
    assert refused(code + "0")
    assert refused("")
    assert refused(code[:5] + "U" + code[6:])
    assert refused(code[:5] + "#" + code[6:])
