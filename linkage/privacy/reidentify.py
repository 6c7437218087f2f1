"""From tokens recovered in each encoding to a guessed reference record.

Used by the attacks that learn which bits each frequent token sets (double-hashing
cryptanalysis, pattern mining): once an attack knows, per encoding, which of the known tokens
it contains, it looks for the reference records whose known tokens are exactly those. A
Bloom filter has no false negatives, so a reference record is *consistent* with an encoding
only if every one of its known tokens was found there; among consistent records the one with
the highest Dice similarity of known-token sets is guessed, and only when it is unique (no
other identity scores as high) and the similarity reaches ``min_score``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from linkage.privacy.plaintext import PlainRecords, token_matrix
from linkage.privacy.results import NO_GUESS

__all__ = ["guess_from_tokens", "unique_identities"]

_CHUNK = 1024


def unique_identities(reference: PlainRecords) -> np.ndarray:
    """Index of the first reference record of each distinct identity."""
    _, first = np.unique(reference.identity.astype(str), return_index=True)
    return np.sort(first)


def guess_from_tokens(
    found: np.ndarray,
    vocab: dict[str, int],
    reference: PlainRecords,
    *,
    min_score: float = 0.8,
    max_missing: int = 0,
) -> np.ndarray:
    """Guess a reference record per encoding from its found tokens.

    ``found`` is (n, len(vocab)) bool: token ``vocab[t]`` was recovered in encoding i.
    Returns reference indices (``NO_GUESS`` where no unique, consistent, good-enough record).
    """
    n = found.shape[0]
    guesses = np.full(n, NO_GUESS, dtype=np.int64)
    if n == 0 or not vocab:
        return guesses
    reps = unique_identities(reference)
    ref = token_matrix([reference.tokens[i] for i in reps], vocab)  # (u, T)
    ref_size = np.asarray(ref.sum(axis=1)).ravel()
    usable = ref_size > 0
    ref_t = sparse.csr_matrix(ref.T)
    for start in range(0, n, _CHUNK):
        block = found[start : start + _CHUNK].astype(np.float32)
        inter = (sparse.csr_matrix(block) @ ref_t).toarray()
        size = block.sum(axis=1, keepdims=True)
        missing = ref_size[None, :] - inter  # known tokens of the record not found
        dice = np.where(
            (missing <= max_missing) & usable[None, :],
            2 * inter / np.maximum(size + ref_size[None, :], 1),
            -1.0,
        )
        best = dice.argmax(axis=1)
        top = dice[np.arange(len(block)), best]
        dice[np.arange(len(block)), best] = -1.0
        second = dice.max(axis=1)
        ok = (top >= min_score) & (top > second)
        guesses[start : start + len(block)][ok] = reps[best[ok]]
    return guesses
