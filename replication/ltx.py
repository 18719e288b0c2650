"""Litestream 0.5's LTX files (superfly/ltx v0.5 format): the name of each file in the store and
its header and LZ4-compressed pages, read so a follower can apply them to a mirror itself."""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

MAGIC = b"LTX1"
HEADER_SIZE = 100
PAGE_HEADER_SIZE = 6
PAGE_FLAG_SIZE = 1  # a 4-byte size and one LZ4 block follow (the only form ltx v0.5 writes)
SNAPSHOT_LEVEL = 9
NAME = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16})\.ltx$")


class LtxError(ValueError):
    """A file that is not an LTX file this reader understands, or is cut short."""


@dataclass(frozen=True)
class Header:
    """The fields of an LTX header a follower needs."""

    page_size: int
    commit: int  # database size in pages after the transaction
    min_txid: int
    max_txid: int
    timestamp_ms: int


def level_prefix(store_kind: str, replica_prefix: str, level: int) -> str:
    """Where Litestream keeps one level's LTX files of a replica: `<replica>/0000/` in S3 (the
    level in 4 hex digits), `<replica>/ltx/0/` in a folder."""
    if store_kind == "s3":
        return f"{replica_prefix}/{level:04x}"
    return f"{replica_prefix}/ltx/{level}"


def txids(key: str) -> tuple[int, int] | None:
    """(min, max) transaction ids of an LTX file from its key, None for another object."""
    match = NAME.match(key.rsplit("/", 1)[-1])
    return (int(match.group(1), 16), int(match.group(2), 16)) if match else None


def after(level0: str, txid: int) -> str:
    """A key under `level0` that sorts after every file starting at or below `txid`, before
    the rest ('-' < '.' in the names `<min>-<max>.ltx`)."""
    return f"{level0}/{txid:016x}."


def header(data: bytes) -> Header:
    """The file's header."""
    if len(data) < HEADER_SIZE or data[:4] != MAGIC:
        raise LtxError("not an LTX file")
    _, page_size, commit, min_txid, max_txid, timestamp = struct.unpack_from(">IIIQQq", data, 4)
    if page_size < 512 or page_size & (page_size - 1):
        raise LtxError(f"bad page size {page_size}")
    return Header(page_size, commit, min_txid, max_txid, timestamp)


@cache
def _lz4() -> ctypes.CDLL:
    name = ctypes.util.find_library("lz4") or "liblz4.so.1"
    library = ctypes.CDLL(name)
    library.LZ4_decompress_safe.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_int,
    ]
    library.LZ4_decompress_safe.restype = ctypes.c_int
    return library


def _decompress(block: bytes, size: int) -> bytes:
    out = ctypes.create_string_buffer(size)
    got = _lz4().LZ4_decompress_safe(block, out, len(block), size)
    if got != size:
        raise LtxError(f"page decompressed to {got} bytes, expected {size}")
    return out.raw


def pages(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Every (page number, page bytes) of the file, in file order."""
    size = header(data).page_size
    at = HEADER_SIZE
    while True:
        if at + PAGE_HEADER_SIZE > len(data):
            raise LtxError("cut short in the page block")
        pgno, flags = struct.unpack_from(">IH", data, at)
        at += PAGE_HEADER_SIZE
        if pgno == 0 and flags == 0:
            return
        if flags != PAGE_FLAG_SIZE:
            raise LtxError(f"page {pgno}: unsupported page flags {flags:#x}")
        (length,) = struct.unpack_from(">I", data, at)
        at += 4
        if at + length > len(data):
            raise LtxError(f"page {pgno}: cut short")
        yield pgno, _decompress(data[at : at + length], size)
        at += length
