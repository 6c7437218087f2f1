"""The attacker's first look at a set of encodings: unpacking and undoing what can be undone.

Balancing appends the complement of each filter and permutes the bits with a key, but the
key does not hide which columns are complements of each other: in every encoding, column
``a`` and its partner ``b`` hold opposite bits. An attacker who knows the schema (it is
public) pairs such columns and keeps one of each pair. Which one is the original? Bloom filter bits
are set less than half of the time, so the sparser member of a pair is the original unless
both are set about half of the time; for those, the attacker keeps the member that
correlates positively with the weight of the confidently oriented columns (all bits of a
Bloom filter grow with the number of tokens). This recovers the unbalanced filter up to a
permutation.
Random hashing already places bits at keyed positions, so the permutation costs the attacks
below nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AttackView", "as_dense", "attack_view"]


def as_dense(filters: np.ndarray) -> np.ndarray:
    """Packed uint64 filters (rows, L/64) or a bool matrix -> (rows, L) bool."""
    if filters.dtype == np.bool_:
        return filters
    rows = filters.shape[0]
    raw = np.ascontiguousarray(filters, dtype="<u8").view(np.uint8).reshape(rows, -1)
    return np.unpackbits(raw, axis=1, bitorder="little").astype(np.bool_)


@dataclass(frozen=True)
class AttackView:
    bits: np.ndarray  # (n, L') bool: the encodings as the attacks see them
    complement_pairs: int  # column pairs found to be exact complements and removed


def attack_view(filters: np.ndarray) -> AttackView:
    """Dense bits with exact complement column pairs reduced to their sparser member."""
    dense = as_dense(filters)
    n, width = dense.shape
    if n < 16:
        return AttackView(dense, 0)
    cols = np.packbits(dense.T, axis=1)  # (L, ceil(n/8)) one byte string per column
    pad = (-n) % 8
    mask = np.full(cols.shape[1], 0xFF, dtype=np.uint8)
    if pad:
        mask[-1] = (0xFF << pad) & 0xFF
    groups: dict[bytes, list[int]] = {}
    for j in range(width):  # identical columns (e.g. never set) pair up one to one
        groups.setdefault(cols[j].tobytes(), []).append(j)
    pairs: list[tuple[int, int]] = []
    done: set[bytes] = set()
    for content, members in groups.items():
        partner = (~np.frombuffer(content, dtype=np.uint8) & mask).tobytes()
        if content in done or partner not in groups or partner == content:
            continue
        done.update((content, partner))
        pairs.extend(zip(members, groups[partner], strict=False))
    if not pairs:
        return AttackView(dense, 0)
    a = np.asarray([p[0] for p in pairs])
    b = np.asarray([p[1] for p in pairs])
    freq = dense.mean(axis=0)
    keep = np.where(freq[a] <= freq[b], a, b)
    confident = np.abs(freq[a] - 0.5) > 0.15
    if confident.any() and not confident.all():
        weight = dense[:, keep[confident]].sum(axis=1).astype(np.float64)
        cov = (dense[:, a[~confident]] - freq[a[~confident]]).T @ (weight - weight.mean())
        keep[~confident] = np.where(cov >= 0, a[~confident], b[~confident])
    unpaired = np.setdiff1d(np.arange(width), np.concatenate([a, b]))
    cols_kept = np.sort(np.concatenate([keep, unpaired]))
    return AttackView(np.ascontiguousarray(dense[:, cols_kept]), len(pairs))
