"""Naming unnamed bit patterns: which token does each pattern encode?

The double-hashing and pattern-mining attacks both end with a set of *patterns* (groups of
positions) and, for each, the encodings that contain it. A pattern is named by aligning it
with the reference tokens: first by frequency (linear assignment on the log-frequency
difference), then refined by co-occurrence: a pattern co-occurs with the most frequent
patterns as often as its token co-occurs with their tokens under the current naming. The
refinement re-solves the assignment on the L1 distance of these co-occurrence profiles until
the naming is stable (an iterative linearisation of the quadratic assignment problem).

That refinement finds a local optimum, so ``best_naming`` tries several starting namings
and keeps the one under which most encodings match a reference record: a check the
attacker can run without knowing the truth (a wrong naming gives token sets that no
reference record has).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from linkage.privacy.plaintext import PlainRecords
from linkage.privacy.reidentify import guess_from_tokens
from linkage.privacy.results import NO_GUESS

__all__ = ["assign_tokens", "best_naming"]


def assign_tokens(
    incidence: np.ndarray,
    reference: PlainRecords,
    *,
    max_tokens: int = 200,
    rounds: int = 20,
    profile_size: int = 120,
    initial: dict[int, str] | None = None,
) -> dict[int, str]:
    """Pattern index -> token, by frequency (or ``initial``) then co-occurrence refinement."""
    n, m = incidence.shape
    if m == 0:
        return {}
    counts = reference.token_counts()
    tokens = sorted(counts, key=lambda t: (-counts[t], t))[: max(max_tokens, m)]
    if initial:
        tokens += sorted({t for t in initial.values() if t in counts} - set(tokens))
    vocab = {t: i for i, t in enumerate(tokens)}
    ref = np.zeros((len(reference), len(tokens)), dtype=np.float32)
    for r, toks in enumerate(reference.tokens):
        for t in toks:
            j = vocab.get(t)
            if j is not None:
                ref[r, j] = 1.0
    f_tok = ref.mean(axis=0)
    inc = incidence.astype(np.float32)
    f_atom = inc.mean(axis=0)
    co_tok = ref.T @ ref / len(reference)
    co_atom = inc.T @ inc / n
    cost = np.abs(np.log(f_atom[:, None] + 1e-4) - np.log(f_tok[None, :] + 1e-4))
    rows, cols = linear_sum_assignment(cost)
    mapping = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    if initial:
        mapping.update({a: vocab[t] for a, t in initial.items() if t in vocab})
    anchors = np.argsort(-f_atom, kind="stable")[:profile_size]  # most frequent atoms
    for _ in range(rounds):
        mapped_toks = np.asarray([mapping.get(int(a), -1) for a in anchors], dtype=np.int64)
        use = mapped_toks >= 0
        prof_atom = co_atom[:, anchors[use]]  # (m, M)
        prof_tok = co_tok[:, mapped_toks[use]]  # (T, M)
        dist = np.abs(f_atom[:, None] - f_tok[None, :])
        for lo in range(0, m, 64):
            dist[lo : lo + 64] += np.abs(prof_atom[lo : lo + 64, None, :] - prof_tok[None]).sum(axis=2)
        rows, cols = linear_sum_assignment(dist)
        new = dict(zip(rows.tolist(), cols.tolist(), strict=True))
        if new == mapping:
            break
        mapping = new
    return {a: tokens[t] for a, t in mapping.items()}


def _guesses(incidence: np.ndarray, naming: dict[int, str], reference: PlainRecords, min_score: float):
    idx = np.asarray(sorted(naming), dtype=np.int64)
    vocab: dict[str, int] = {}
    cols: list[int] = []
    for i in idx:  # a token named twice keeps its first pattern
        if naming[int(i)] not in vocab:
            vocab[naming[int(i)]] = len(vocab)
            cols.append(int(i))
    return guess_from_tokens(incidence[:, cols], vocab, reference, min_score=min_score)


def best_naming(
    incidence: np.ndarray,
    reference: PlainRecords,
    *,
    initial: dict[int, str] | None = None,
    min_score: float = 0.8,
) -> np.ndarray:
    """Per-encoding guesses under the best of several namings of the patterns."""
    candidates = [assign_tokens(incidence, reference)]
    if initial:
        candidates += [dict(initial), assign_tokens(incidence, reference, initial=initial)]
    best = np.full(incidence.shape[0], NO_GUESS, dtype=np.int64)
    for naming in candidates:
        if not naming:
            continue
        guesses = _guesses(incidence, naming, reference, min_score)
        if (guesses != NO_GUESS).sum() > (best != NO_GUESS).sum():
            best = guesses
    return best
