"""Frequency attack (after Kuzu et al. 2011, "A constraint satisfaction cryptanalysis of Bloom
filters in private record linkage").

Identical plaintext values give identical encodings, so the frequency of each distinct
encoding mirrors the frequency of a plaintext value in the population. The attack:

1. counts the distinct encodings and keeps those seen at least ``min_count`` times;
2. gives each one the candidate reference values whose expected count in a sample of this
   size (reference count scaled to the number of encodings) lies within ``z`` binomial
   standard deviations, and, when the encodings are plain Bloom filters, whose expected
   Hamming weight (from the number of tokens and bits per token) matches the filter's;
3. propagates constraints (the CSP of Kuzu et al.): every encoding with a single candidate
   becomes an anchor; two anchored values claim different encodings (one value, one
   filter); and for Bloom filters the overlap ``|a AND b|`` of two encodings must match the
   overlap predicted from the tokens their candidate values share. Candidates that violate a
   constraint with any anchor are removed, which creates new anchors, until nothing changes;
4. guesses the remaining single candidate for every encoding of an anchored filter.
"""

from __future__ import annotations

import time

import numpy as np

from linkage.privacy.plaintext import PlainRecords
from linkage.privacy.results import NO_GUESS, AttackResult, score_guesses

__all__ = ["frequency_attack"]


def _expected_bits(draws: np.ndarray | float, width: int) -> np.ndarray:
    return width * (1.0 - (1.0 - 1.0 / width) ** np.asarray(draws, dtype=np.float64))


def _distinct(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows: (index of a representative, inverse, counts)."""
    packed = np.packbits(bits, axis=1)
    view = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse, counts = np.unique(view, return_index=True, return_inverse=True, return_counts=True)
    return first, inverse.ravel(), counts


def frequency_attack(
    bits: np.ndarray,
    reference: PlainRecords,
    true_identity: np.ndarray,
    *,
    bloom_model: bool = True,
    min_count: int = 2,
    z: float = 3.0,
) -> AttackResult:
    """Run the attack on (n, L) bool encodings; ``bloom_model`` enables the weight and
    overlap constraints (valid for Bloom filters without XOR-folding, diffusion or BLIP)."""
    start = time.perf_counter()
    n, width = bits.shape
    first, inverse, counts = _distinct(bits)
    frequent = np.flatnonzero(counts >= min_count)
    _, ref_first, ref_counts = np.unique(
        reference.identity.astype(str), return_index=True, return_counts=True
    )
    expected = ref_counts * (n / max(len(reference), 1))
    draws = np.asarray(
        [sum(reference.token_weight(t) for t in reference.tokens[i]) for i in ref_first], dtype=np.float64
    )
    filt = bits[first[frequent]]
    observed = counts[frequent].astype(np.float64)
    zfreq = np.abs(observed[:, None] - expected[None, :]) / np.sqrt(
        np.maximum(expected, 1.0) * (1 + n / max(len(reference), 1))
    )[None, :]
    ok = zfreq <= z
    ok &= expected[None, :] >= min_count / 2
    if bloom_model:
        mean = _expected_bits(draws, width)
        sd = np.sqrt(np.maximum(mean * (1 - mean / width), 1.0))
        weight = filt.sum(axis=1).astype(np.float64)
        ok &= np.abs(weight[:, None] - mean[None, :]) <= z * sd[None, :] + 2
    cols = np.flatnonzero(ok.any(axis=0))
    model = (
        _OverlapModel.build(filt, [reference.tokens[ref_first[c]] for c in cols], reference, width, z)
        if bloom_model
        else None
    )
    cand = _propagate(ok[:, cols], zfreq[:, cols], observed, model)
    guess_of_distinct = np.full(len(counts), NO_GUESS, dtype=np.int64)
    for row, col in cand.items():
        guess_of_distinct[frequent[row]] = ref_first[cols[col]]
    guesses = guess_of_distinct[inverse]
    return score_guesses(
        "frequency", guesses, reference.identity, true_identity,
        seconds=time.perf_counter() - start,
        note=f"{len(frequent)} encodings seen >= {min_count} times",
    )


class _OverlapModel:
    """Observed overlaps of the filters and predicted overlaps of candidate values."""

    def __init__(self, overlap, weight, shared, width, z):
        self.overlap = overlap  # (F, F) observed |a AND b|
        self.weight = weight  # (F,) observed weights
        self.shared = shared  # (C, C) bits drawn by the tokens two values share
        self.width = width
        self.z = z

    @classmethod
    def build(cls, filt, tokens, reference, width, z):
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for i, toks in enumerate(tokens):
            for t in toks:
                rows.append(i)
                cols.append(vocab.setdefault(t, len(vocab)))
                vals.append(reference.token_weight(t))
        a = np.zeros((len(tokens), max(len(vocab), 1)), dtype=np.float32)
        w = np.zeros_like(a)
        a[rows, cols] = 1.0
        w[rows, cols] = vals
        f = filt.astype(np.float32)
        return cls(f @ f.T, f.sum(axis=1), w @ a.T, width, z)

    def _residual(self, r, v, rows, cols) -> tuple[np.ndarray, np.ndarray]:
        s = _expected_bits(self.shared[v, cols], self.width)
        rest_a = np.maximum(self.weight[r] - s, 0.0)
        rest_b = np.maximum(self.weight[rows] - s, 0.0)
        chance = rest_a * rest_b / np.maximum(self.width - s, 1.0)
        sd = np.sqrt(chance + 0.05 * s + 1.0)
        return (self.overlap[r, rows] - (s + chance)) / sd, sd

    def agreement(self, r, v, rows, cols) -> np.ndarray:
        """Soft compatibility in [0, 1]: Gaussian in the standardised overlap residual."""
        res, _ = self._residual(r, v, rows, cols)
        return np.exp(-0.5 * res**2).astype(np.float32)

    def consistent(self, r, v, rows, cols) -> np.ndarray:
        """Whether filter r as value v and filter ``rows`` as values ``cols`` agree on overlap
        (broadcasting arrays)."""
        res, sd = self._residual(r, v, rows, cols)
        return np.abs(res) * sd <= self.z * sd + 1.0


def _prune(ok: np.ndarray, r: int, v: int, model: _OverlapModel | None) -> None:
    """Apply the constraints of anchoring filter r to value v (in place)."""
    others = np.ones(len(ok), dtype=np.bool_)
    others[r] = False
    ok[others, v] = False  # one value, one filter
    ok[r] = False
    ok[r, v] = True
    if model is None:
        return
    rows, cols = np.nonzero(ok & others[:, None])
    bad = ~model.consistent(r, v, rows, cols)
    ok[rows[bad], cols[bad]] = False


def _seed(
    ok: np.ndarray, zfreq: np.ndarray, observed: np.ndarray, model: _OverlapModel,
    *, top: int = 60, per_row: int = 30, rounds: int = 30,
) -> dict[int, int]:
    """Relaxation labelling (Hummel and Zucker) over the ``top`` most frequent undecided
    filters and their ``per_row`` best candidates by frequency: a label's probability grows
    with the support it gets from labels of other filters whose overlap it predicts well.
    Filters whose best label ends above 0.9 become anchors."""
    n_cand = ok.sum(axis=1)
    rows = np.flatnonzero(n_cand > 1)
    rows = rows[np.argsort(-observed[rows], kind="stable")][:top]
    pr_list, pv_list = [], []
    for r in rows:
        c = np.flatnonzero(ok[r])
        c = c[np.argsort(zfreq[r, c], kind="stable")][:per_row]
        pr_list.append(np.full(len(c), r))
        pv_list.append(c)
    if not pr_list:
        return {}
    pr, pv = np.concatenate(pr_list), np.concatenate(pv_list)
    weight = model.agreement(pr[:, None], pv[:, None], pr[None, :], pv[None, :])
    weight[(pr[:, None] == pr[None, :]) | (pv[:, None] == pv[None, :])] = 0.0
    prob = np.exp(-0.5 * zfreq[pr, pv] ** 2)
    group = np.unique(pr, return_inverse=True)[1]
    for _ in range(rounds):
        prob = prob / np.bincount(group, weights=prob)[group]
        support = weight @ prob
        prob = prob * (support + 1e-9)
    prob = prob / np.bincount(group, weights=prob)[group]
    out: dict[int, int] = {}
    for g in range(group.max() + 1):
        mine = np.flatnonzero(group == g)
        best = mine[np.argmax(prob[mine])]
        if prob[best] >= 0.9:
            out[int(pr[best])] = int(pv[best])
    return out


def _propagate(
    ok: np.ndarray, zfreq: np.ndarray, observed: np.ndarray, model: _OverlapModel | None
) -> dict[int, int]:
    """Constraint propagation; returns filter row -> value column.

    Filters with one candidate become anchors and prune the others. When none is left,
    relaxation labelling over the most frequent undecided filters (``_seed``) proposes anchors.
    """
    ok = ok.copy()
    anchors: dict[int, int] = {}
    for _ in range(len(ok) + 1):
        n_cand = ok.sum(axis=1)
        new = {int(r): int(np.flatnonzero(ok[r])[0]) for r in np.flatnonzero(n_cand == 1)}
        new = {r: v for r, v in new.items() if r not in anchors}
        if not new and model is not None:
            new = _seed(ok, zfreq, observed, model)
        if not new:
            break
        for r, v in sorted(new.items(), key=lambda rv: -observed[rv[0]]):
            if ok[r, v]:
                anchors[r] = v
                _prune(ok, r, v, model)
    return {r: v for r, v in anchors.items() if ok[r, v] and ok[r].sum() == 1}
