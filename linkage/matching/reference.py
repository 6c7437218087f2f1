"""Pure-Python reference of the similarity kernels: the definition the fast paths must match.

Each filter row (little-endian uint64 words, see ``linkage.format``) becomes one Python int,
so bit i of the filter is bit i of the int; counts use ``int.bit_count``. Scores follow the
exactness contract of ``linkage.matching.kernels`` word for word:

* ``c = popcount(a & b)``, ``pa``/``pb`` the popcounts of the two filters;
* Dice ``2.0 * c / (pa + pb)``, 0.0 when ``pa + pb == 0``;
* Jaccard ``c / (pa + pb - c)``, 0.0 when the union is empty;
* a pair is above a threshold when ``score >= threshold`` (float comparison).

Slow on purpose (O(n*m) Python operations): for tests and small checks only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "filter_ints",
    "score",
    "score_pairs",
    "threshold_pairs",
    "topk_pairs",
]


def filter_ints(filters: Iterable[Sequence[int]]) -> list[int]:
    """One Python int per filter row: word k contributes bits 64k .. 64k+63."""
    return [sum(int(word) << (64 * k) for k, word in enumerate(row)) for row in filters]


def score(c: int, pa: int, pb: int, metric: str = "dice") -> float:
    """The score of a pair with ``c`` common bits and popcounts ``pa``, ``pb``."""
    if metric == "dice":
        return 2.0 * c / (pa + pb) if pa + pb else 0.0
    if metric == "jaccard":
        union = pa + pb - c
        return c / union if union else 0.0
    raise ValueError(f"unknown metric {metric!r}")


def _scores_of_row(x: int, px: int, ys: list[int], pys: list[int], metric: str) -> list[float]:
    return [score((x & y).bit_count(), px, py, metric) for y, py in zip(ys, pys, strict=True)]


def threshold_pairs(
    a: Iterable[Sequence[int]],
    b: Iterable[Sequence[int]],
    threshold: float,
    *,
    metric: str = "dice",
    self_join: bool = False,
) -> list[tuple[int, int, float]]:
    """All (i, j, score) with score >= threshold, sorted by (i, j); self_join keeps i < j."""
    xs, ys = filter_ints(a), filter_ints(b)
    pxs, pys = [x.bit_count() for x in xs], [y.bit_count() for y in ys]
    out = []
    for i, (x, px) in enumerate(zip(xs, pxs, strict=True)):
        for j, s in enumerate(_scores_of_row(x, px, ys, pys, metric)):
            if (not self_join or i < j) and s >= threshold:
                out.append((i, j, s))
    return out


def topk_pairs(
    a: Iterable[Sequence[int]],
    b: Iterable[Sequence[int]],
    k: int,
    *,
    threshold: float = 0.0,
    metric: str = "dice",
    self_join: bool = False,
) -> list[tuple[int, int, float]]:
    """For each row i of a, its k best (i, j, score) with score >= threshold, ranked by score
    descending then lower j; self_join skips j == i. Returned sorted by (i, j)."""
    xs, ys = filter_ints(a), filter_ints(b)
    pxs, pys = [x.bit_count() for x in xs], [y.bit_count() for y in ys]
    out = []
    for i, (x, px) in enumerate(zip(xs, pxs, strict=True)):
        ranked = sorted(
            ((s, j) for j, s in enumerate(_scores_of_row(x, px, ys, pys, metric))
             if s >= threshold and not (self_join and j == i)),
            key=lambda sj: (-sj[0], sj[1]),
        )
        out.extend(sorted((i, j, s) for s, j in ranked[:k]))
    return out


def score_pairs(
    a: Iterable[Sequence[int]],
    b: Iterable[Sequence[int]],
    ia: Iterable[int],
    ib: Iterable[int],
    *,
    metric: str = "dice",
) -> list[float]:
    """Scores of the pairs (ia[q], ib[q])."""
    xs, ys = filter_ints(a), filter_ints(b)
    return [
        score((xs[i] & ys[j]).bit_count(), xs[i].bit_count(), ys[j].bit_count(), metric)
        for i, j in zip(ia, ib, strict=True)
    ]
