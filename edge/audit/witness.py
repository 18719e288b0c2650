"""A node's audit chain compared with what central witnessed: its copy of the rows, the heads.

Central's copy keeps the first version of every row it saw and every head the heartbeat
published, so a row rewritten or replaced, or a log cut back, after central saw it shows here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SHOWN = 3  # rows named per kind of divergence; the rest are counted


def _named(kind: str, seqs: list[int]) -> list[str]:
    if not seqs:
        return []
    shown = ", ".join(str(seq) for seq in seqs[:SHOWN])
    more = f" and {len(seqs) - SHOWN} more" if len(seqs) > SHOWN else ""
    return [f"row {shown}{more}: {kind}"]


def divergence(
    chain: Mapping[int, str],
    witness: Mapping[int, str],
    heads: Iterable[tuple[int, str]],
    last: int | None = None,
) -> list[str]:
    """How the node's chain (seq -> hash; its last seq unless `last` says so, when only rows
    that may differ are passed) differs from central's witness rows and heads seen."""
    last = max(chain, default=0) if last is None else last
    cut = sorted(seq for seq in witness if seq > last)
    missing = sorted(seq for seq in witness if seq <= last and seq not in chain)
    changed = sorted(seq for seq, h in witness.items() if seq in chain and chain[seq] != h)
    problems = [
        *_named("witnessed by central but gone from the end of the log: cut back", cut),
        *_named("witnessed by central but deleted", missing),
        *_named("differs from central's witness copy: rewritten or replaced", changed),
    ]
    for seq, digest in sorted(set(heads)):
        if seq > last and not cut:
            problems.append(f"head {seq} published to central is beyond the log's end {last}")
        elif seq in chain and chain[seq] != digest and seq not in changed:
            problems.append(f"head {seq} published to central differs from the log's row {seq}")
    return problems
