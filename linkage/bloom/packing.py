"""Turn token bit positions into packed uint64 filter rows (see linkage.format).

``or_cell_bits`` sets each record's bits from its cells' token hash words in place, through
the optional ``linkage.bloom._bits`` extension (a plain C loop) or, without it, numpy.
"""

from __future__ import annotations

import numpy as np

from linkage.arrays import ranges

try:
    from linkage.bloom import _bits
except ImportError:  # the extension is optional (no compiler)
    _bits = None

__all__ = ["or_cell_bits", "pack_positions"]


def pack_positions(rows: np.ndarray, positions: np.ndarray, n_rows: int, bits: int) -> np.ndarray:
    """Set bit ``positions[i]`` in row ``rows[i]``; return (n_rows, bits // 64) uint64."""
    dense = np.zeros((n_rows, bits), dtype=np.bool_)
    if len(rows):
        dense[rows, positions] = True
    packed = np.packbits(dense, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64, copy=False).reshape(n_rows, bits // 64)


def or_cell_bits(out: np.ndarray, rows: np.ndarray, cells: np.ndarray, starts: np.ndarray,
                 tokens: np.ndarray, words: np.ndarray, bits: int, *, native: bool = True) -> None:
    """For each pair i, set in ``out[rows[i]]`` bit ``words[t, j] % bits`` of every token t
    of cell ``cells[i]`` (``tokens[starts[c]:starts[c + 1]]``) and every j.

    ``out`` is (n_rows, w) uint64 with ``bits <= 64 w``; ``native=False`` forces numpy (tests
    compare the two)."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cells = np.ascontiguousarray(cells, dtype=np.int64)
    if native and _bits is not None:
        _bits.or_cells(out, rows, cells, np.ascontiguousarray(starts, dtype=np.int64),
                       np.ascontiguousarray(tokens, dtype=np.int64),
                       np.ascontiguousarray(words, dtype=np.uint32), int(bits))
        return
    sizes = np.diff(starts)[cells]
    pair_token = tokens[ranges(starts[:-1][cells], sizes)]
    k = words.shape[1]
    positions = (words[pair_token] % np.uint32(bits)).reshape(-1)
    pair_rows = np.repeat(np.repeat(rows, sizes), k)
    out |= pack_positions(pair_rows, positions, out.shape[0], 64 * out.shape[1])
