"""Scores of candidate record pairs: best variant pair, optionally field-weighted.

A record with aliases has several filter rows (variants). The score of a record pair is the
best score over all pairs of their variants. With field weights, the score of one variant
pair is the weighted mean of the per-field similarities, where a field empty in both
variants (no bits set, i.e. missing on both sides) is left out of the mean; the record-level
filter is then not used for scoring (it still drives LSH blocking).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from linkage.matching import kernels
from linkage.matching.pool import PartyPool

__all__ = ["ScoredPairs", "Scorer", "VariantPairs", "expand_variants"]


@dataclass(frozen=True)
class ScoredPairs:
    """Record pairs (global pool indices, a < b) with their best-variant score."""

    a: np.ndarray  # int64
    b: np.ndarray  # int64
    score: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.a)

    @staticmethod
    def concat(parts: list[ScoredPairs]) -> ScoredPairs:
        if not parts:
            return ScoredPairs(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
        return ScoredPairs(np.concatenate([p.a for p in parts]),
                           np.concatenate([p.b for p in parts]),
                           np.concatenate([p.score for p in parts]))


@dataclass(frozen=True)
class VariantPairs:
    """All variant row pairs of a batch of record pairs; ``start[k]`` is where pair k begins."""

    row_a: np.ndarray
    row_b: np.ndarray
    start: np.ndarray


def expand_variants(row_offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> VariantPairs:
    """Every (variant of a, variant of b) row pair, grouped by record pair."""
    off_a, off_b = row_offsets[a], row_offsets[b]
    va, vb = row_offsets[a + 1] - off_a, row_offsets[b + 1] - off_b
    counts = va * vb
    start = np.cumsum(counts) - counts
    if len(counts) and counts.max() == 1:
        return VariantPairs(off_a, off_b, start)
    total = int(counts.sum())
    within = np.arange(total, dtype=np.int64) - np.repeat(start, counts)
    vb_rep = np.repeat(vb, counts)
    row_a = np.repeat(off_a, counts) + within // vb_rep
    row_b = np.repeat(off_b, counts) + within % vb_rep
    return VariantPairs(row_a, row_b, start)


class Scorer:
    """Scores record pairs of one pool with one metric and optional field weights."""

    def __init__(self, pool: PartyPool, metric: str = "dice",
                 field_weights: Mapping[str, float] | None = None) -> None:
        self.pool = pool
        self.metric = metric
        self.weights = {f: float(w) for f, w in sorted((field_weights or {}).items()) if w > 0}
        # popcounts tell which field filters are empty (a missing value)
        self._empty = {f: kernels.popcounts(pool.fields[f]) == 0 for f in self.weights}

    def _row_scores(self, row_a: np.ndarray, row_b: np.ndarray) -> np.ndarray:
        if not self.weights:
            return kernels.score_pairs(self.pool.clk, self.pool.clk, row_a, row_b,
                                       metric=self.metric, threads=1)
        num = np.zeros(len(row_a))
        den = np.zeros(len(row_a))
        for f, w in self.weights.items():
            arr = self.pool.fields[f]
            s = kernels.score_pairs(arr, arr, row_a, row_b, metric=self.metric, threads=1)
            present = ~(self._empty[f][row_a] & self._empty[f][row_b])
            num += np.where(present, w * s, 0.0)
            den += np.where(present, w, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, 0.0)

    def score(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
        """Best-variant scores of record pairs (a[k], b[k]) and the number of comparisons."""
        if len(a) == 0:
            return np.empty(0), 0
        vp = expand_variants(self.pool.row_offsets, a, b)
        rows = self._row_scores(vp.row_a, vp.row_b)
        if len(rows) == len(a):
            return rows, len(rows)
        return np.maximum.reduceat(rows, vp.start), len(rows)
