"""Cryptanalysis of double hashing (after Niedermeyer, Steinmetzer, Kroll and Schnell 2014,
"Cryptanalysis of basic Bloom filters used for privacy preserving record linkage").

With double hashing a token sets the positions ``h1 + i*h2 mod L`` (i < k): an arithmetic
progression that a single pair (h1, h2) describes. There are only about L^2 progressions, so
the attacker enumerates all of them and counts in how many encodings all k positions are set.
Progressions present in many encodings are the *atoms*: the bit patterns of frequent tokens.
Then

1. atoms are matched to reference tokens: first by frequency rank, then refined by
   co-occurrence (an atom that appears together with other atoms as often as a token
   appears with the corresponding tokens): the profile of an atom over the current mapping
   is compared with each token's co-occurrence profile and the assignment re-solved
   (``scipy.optimize.linear_sum_assignment``) until it is stable;
2. each encoding's atoms give its known tokens, and the reference value with the same known
   tokens is guessed (``linkage.privacy.reidentify``).

Against keyed random hashing (the encoder's only option) or any permutation-free hardening
the atom search finds nothing: positions of a token are no longer a progression.
"""

from __future__ import annotations

import math
import time

import numpy as np

from linkage.privacy.alignment import best_naming
from linkage.privacy.bitsets import column_sets, support
from linkage.privacy.plaintext import PlainRecords
from linkage.privacy.results import NO_GUESS, AttackResult, score_guesses

__all__ = ["double_hashing_attack", "find_atoms"]


def find_atoms(
    bits: np.ndarray, k: int, min_support: int, *, max_atoms: int = 20_000
) -> tuple[np.ndarray, np.ndarray]:
    """All progressions of k positions set together in at least ``min_support`` encodings.

    Returns (atoms (m, k) int64 of positions, incidence (n, m) bool). Progressions that are
    the same set of positions (walked backwards) are kept once; steps whose progression
    cycles before k distinct positions (gcd(h2, L) > L/k, a few percent of tokens) are not
    searched, since short patterns are set together by chance too often. Positions set in
    more than 90% of the encodings carry no token information (a balanced filter folded onto
    its own complement sets a bit everywhere) and are left out. The search stops after
    ``max_atoms`` atoms.
    """
    n, width = bits.shape
    busy = bits.mean(axis=0) > 0.9
    cols = column_sets(bits & ~busy[None, :])
    h1 = np.arange(width)
    found: dict[tuple[int, ...], None] = {}
    for h2 in range(1, width):
        if width // math.gcd(h2, width) < k:  # short cycle: fewer than k distinct positions
            continue
        alive = h1
        acc = cols[alive]
        for i in range(1, k):
            acc = acc & cols[(alive + i * h2) % width]
            if i >= 2 or i == k - 1:
                keep = support(acc) >= min_support
                alive, acc = alive[keep], acc[keep]
                if len(alive) == 0:
                    break
        for a in alive:
            pos = tuple(sorted({int((a + i * h2) % width) for i in range(k)}))
            found.setdefault(pos, None)
        if len(found) >= max_atoms:
            break
    atoms = np.asarray(list(found), dtype=np.int64).reshape(len(found), k)
    incidence = np.stack([bits[:, pos].all(axis=1) for pos in atoms], axis=1) if len(atoms) else (
        np.zeros((n, 0), dtype=np.bool_)
    )
    return atoms, incidence


def double_hashing_attack(
    bits: np.ndarray,
    reference: PlainRecords,
    true_identity: np.ndarray,
    *,
    k: int,
    min_support_share: float = 0.005,
    min_score: float = 0.8,
    max_named: int = 600,
) -> AttackResult:
    """Run the attack on (n, L) bool encodings made with k positions per token."""
    start = time.perf_counter()
    n, width = bits.shape
    # Support that k random positions reach by chance in dense encodings: atoms must beat it.
    chance = float(((bits.sum(axis=1) / width) ** k).sum())
    atoms, incidence = find_atoms(bits, k, max(3, int(min_support_share * n), int(5 * chance) + 3))
    found = len(atoms)
    if found > max_named:  # the most supported atoms are the frequent tokens
        top = np.sort(np.argsort(-incidence.sum(axis=0), kind="stable")[:max_named])
        atoms, incidence = atoms[top], incidence[:, top]
    guesses = (
        best_naming(incidence, reference, min_score=min_score)
        if len(atoms)
        else np.full(n, NO_GUESS, dtype=np.int64)
    )
    return score_guesses(
        "double_hashing", guesses, reference.identity, true_identity,
        seconds=time.perf_counter() - start, note=f"{found} atoms found",
    )
