"""Columns of a bit matrix as packed bit sets over rows, for fast support counting."""

from __future__ import annotations

import numpy as np

__all__ = ["column_sets", "row_set", "support"]


def column_sets(bits: np.ndarray) -> np.ndarray:
    """(n, L) bool -> (L, ceil(n/64)) uint64: column j as a bit set over the n rows."""
    n = bits.shape[0]
    pad = (-n) % 64
    cols = np.packbits(np.ascontiguousarray(np.pad(bits, ((0, pad), (0, 0))).T), axis=1, bitorder="little")
    return np.ascontiguousarray(cols).view("<u8").astype(np.uint64, copy=False)


def row_set(mask: np.ndarray) -> np.ndarray:
    """(n,) bool -> (ceil(n/64),) uint64 bit set."""
    pad = (-len(mask)) % 64
    packed = np.packbits(np.pad(mask, (0, pad)), bitorder="little")
    return packed.view("<u8").astype(np.uint64, copy=False)


def support(sets: np.ndarray) -> np.ndarray:
    """Number of rows in each bit set (last axis = words)."""
    return np.bitwise_count(sets).sum(axis=-1).astype(np.int64)
