"""Pattern-mining attack (after Christen, Schnell, Vatsalan and Ranbaduge 2017, "Efficient
cryptanalysis of Bloom filters for privacy-preserving record linkage", and Christen,
Ranbaduge, Vatsalan and Schnell 2018, "Precise and fast cryptanalysis for Bloom filter based
privacy-preserving record linkage").

It works with any hashing, random hashing included: a token sets the same k positions in
every encoding that holds it, so those positions form a *frequent bit-position pattern*
(an itemset of positions) whose support (the encodings with all of them set) equals the
token's frequency. For each frequent reference token, most frequent first:

1. seed: among the pairs of positions not yet in any pattern whose joint support is within
   ``tolerance`` of the token's expected support, those most often set together (highest
   Jaccard similarity of their columns);
2. grow each seed into a maximal near-closed itemset: add, one at a time, the position set
   in at least 95% of the encodings that hold the pattern so far, up to k positions (the
   token's weight, known from the public schema); keep the longest; a pattern shorter than
   60% of k, or one holding the same encodings as a pattern already found, is dropped;
3. mark its positions as used, so that later seeds belong to other tokens (positions shared
   by several tokens can still join later patterns in step 2).

The patterns are then named all together (``linkage.privacy.alignment``): by frequency, then
by co-occurrence with each other compared with the co-occurrence of the reference tokens.
Each encoding then contains the tokens whose patterns are fully set in it, and the reference
record with exactly those known tokens is guessed (``linkage.privacy.reidentify``).
"""

from __future__ import annotations

import time

import numpy as np

from linkage.privacy.alignment import best_naming
from linkage.privacy.bitsets import column_sets, support
from linkage.privacy.plaintext import PlainRecords
from linkage.privacy.results import NO_GUESS, AttackResult, score_guesses

__all__ = ["mine_patterns", "pattern_mining_attack"]


def _grow(cols: np.ndarray, seed: tuple[int, int], k: int, keep: float):
    """Extend a seed pair with the positions set in at least ``keep`` of its encodings."""
    pattern = [seed[0], seed[1]]
    rows = cols[seed[0]] & cols[seed[1]]
    cand = np.arange(len(cols))
    cand = cand[(cand != seed[0]) & (cand != seed[1])]
    while len(pattern) < k and len(cand):
        sup = support(cols[cand] & rows)
        best = int(np.argmax(sup))
        if sup[best] < keep * support(rows):
            break
        pattern.append(int(cand[best]))
        rows = rows & cols[cand[best]]
        cand = np.delete(cand, best)
    return pattern, rows


class _Pairs:
    """Every position pair with its joint support and Jaccard similarity (computed once)."""

    def __init__(self, bits: np.ndarray) -> None:
        dense = bits.astype(np.float32)
        joint = dense.T @ dense
        single = np.diag(joint).copy()
        self.a, self.b = np.triu_indices(len(joint), 1)
        self.support = joint[self.a, self.b]
        self.jaccard = self.support / np.maximum(single[self.a] + single[self.b] - self.support, 1)

    def seeds(self, free: np.ndarray, target: float, tolerance: float, count: int) -> list[tuple[int, int]]:
        """Free pairs with joint support within ``tolerance`` of ``target``, most often set
        together first (positions of one token have a Jaccard similarity close to 1, unlike
        two busy positions that are set together by chance)."""
        ok = np.flatnonzero(
            free[self.a] & free[self.b] & (np.abs(self.support - target) <= tolerance * target)
        )
        if len(ok) > count:
            ok = ok[np.argpartition(-self.jaccard[ok], count - 1)[:count]]
        ok = ok[np.argsort(-self.jaccard[ok], kind="stable")]
        return [(int(self.a[o]), int(self.b[o])) for o in ok]


def _closed_pattern(
    cols: np.ndarray,
    pairs: _Pairs,
    free: np.ndarray,
    target: float,
    k: int,
    tolerance: float,
    *,
    seeds: int = 12,
    keep: float = 0.95,
) -> tuple[list[int], np.ndarray]:
    """The longest near-closed pattern (an itemset of positions set together) grown from
    the free position pairs whose joint support is near ``target``."""
    best: tuple[list[int], np.ndarray] = ([], np.zeros(cols.shape[1], dtype=np.uint64))
    for seed in pairs.seeds(free, target, tolerance, seeds):
        pattern, rows = _grow(cols, seed, k, keep)
        if len(pattern) > len(best[0]):
            best = (pattern, rows)
        if len(pattern) >= k:
            break
    return best


def mine_patterns(
    bits: np.ndarray,
    reference: PlainRecords,
    *,
    max_tokens: int = 150,
    min_share: float = 0.01,
    min_positions: int = 3,
    tolerance: float = 0.3,
) -> list[tuple[np.ndarray, str]]:
    """Position patterns of frequent tokens, each with the token it was mined for."""
    n = bits.shape[0]
    cols = column_sets(bits)
    pairs = _Pairs(bits)
    counts = reference.token_counts()
    freq = {t: c / len(reference) for t, c in counts.items() if c / len(reference) >= min_share}
    order = sorted(freq, key=lambda t: (-freq[t], t))[:max_tokens]
    free = np.ones(bits.shape[1], dtype=np.bool_)
    found: list[tuple[np.ndarray, str]] = []
    found_rows: list[np.ndarray] = []
    for tok in order:
        k = reference.token_weight(tok)
        pattern, rows = _closed_pattern(cols, pairs, free, freq[tok] * n, k, tolerance)
        if len(pattern) < min(max(min_positions, int(0.6 * k)), k):
            continue
        if any(_same_rows(rows, other) for other in found_rows):
            free[pattern[:2]] = False
            continue
        found.append((np.asarray(pattern, dtype=np.int64), tok))
        found_rows.append(rows)
        free[pattern] = False
    return found


def _same_rows(a: np.ndarray, b: np.ndarray) -> bool:
    inter = support(a & b)
    return bool(inter >= 0.9 * max(support(a), support(b)))


def pattern_mining_attack(
    bits: np.ndarray,
    reference: PlainRecords,
    true_identity: np.ndarray,
    *,
    max_tokens: int = 150,
    min_share: float = 0.01,
    min_score: float = 0.8,
) -> AttackResult:
    """Run the attack on (n, L) bool encodings."""
    start = time.perf_counter()
    n = bits.shape[0]
    patterns = mine_patterns(bits, reference, max_tokens=max_tokens, min_share=min_share)
    guesses = np.full(n, NO_GUESS, dtype=np.int64)
    if patterns:
        incidence = np.stack([bits[:, p].all(axis=1) for p, _ in patterns], axis=1)
        initial = {i: t for i, (_, t) in enumerate(patterns)}
        guesses = best_naming(incidence, reference, initial=initial, min_score=min_score)
    return score_guesses(
        "pattern_mining", guesses, reference.identity, true_identity,
        seconds=time.perf_counter() - start, note=f"{len(patterns)} token patterns found",
    )
