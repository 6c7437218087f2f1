"""Integer-array helpers shared by both trust zones (no plaintext, no keys)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["factorize_exact", "ranges", "unique_sorted"]


def unique_sorted(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array.

    Same result as ``np.unique(x)``, which in numpy >= 2.3 takes a hash-table path that is
    one to two orders of magnitude slower than a SIMD sort on the monotone codes the
    encoder and matcher build (measured: 0.13 s against 0.002 s for 300,000 int64 codes).
    """
    y = np.sort(x)
    if len(y) < 2:
        return y
    keep = np.empty(len(y), dtype=bool)
    keep[0] = True
    np.not_equal(y[1:], y[:-1], out=keep[1:])
    return y[keep]


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each ``(s, n)``."""
    total = int(sizes.sum())
    ends = np.cumsum(sizes)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - sizes - starts, sizes)


def factorize_exact(values: pd.Series | np.ndarray | list) -> tuple[np.ndarray, list]:
    """``pd.factorize`` (codes in order of first appearance, -1 for None/NaN) that never
    merges distinct values.

    pandas' object hash table compares strings only up to the first NUL ("a" and "a\x00"
    get one code), turns every string with a lone surrogate into the same replacement
    character, and hashes True equal to 1 and False equal to 0 and 0.0. Columns of strings
    without NUL or surrogates take pandas' fast path; anything else is factorised by
    ``(type, value)`` in Python.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if _plain_strings(series):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return codes.astype(np.int64, copy=False), list(uniques)
    return _factorize_by_type(series.tolist())


def _plain_strings(series: pd.Series) -> bool:
    """Only str values (no missing ones), none with a NUL or a lone surrogate."""
    try:
        joined = "".join(series.tolist())
    except TypeError:  # a value that is not a str
        return False
    if "\x00" in joined:
        return False
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _factorize_by_type(items: list) -> tuple[np.ndarray, list]:
    index: dict[tuple[type, object], int] = {}
    uniques: list = []
    codes = np.empty(len(items), dtype=np.int64)
    for i, v in enumerate(items):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):  # missing values
            codes[i] = -1
            continue
        code = index.setdefault((type(v), v), len(uniques))
        if code == len(uniques):
            uniques.append(v)
        codes[i] = code
    return codes, uniques
