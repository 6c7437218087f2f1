"""Turn (row, bit position) pairs into packed uint64 filter rows (see linkage.format)."""

from __future__ import annotations

import numpy as np

__all__ = ["pack_positions"]


def pack_positions(rows: np.ndarray, positions: np.ndarray, n_rows: int, bits: int) -> np.ndarray:
    """Set bit ``positions[i]`` in row ``rows[i]``; return (n_rows, bits // 64) uint64."""
    dense = np.zeros((n_rows, bits), dtype=np.bool_)
    if len(rows):
        dense[rows, positions] = True
    packed = np.packbits(dense, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64, copy=False).reshape(n_rows, bits // 64)
