"""Simulated encodings with ground truth, for tests and benchmarks of the matcher.

No encoder and no plaintext are involved: a "person" is a random filter (each bit set with
probability ``fill``), and each party holds corrupted copies of some persons (every bit
flipped with a per-record probability drawn from ``flip``), plus persons only it knows.
Records may carry extra variants (aliases: copies corrupted more strongly). This imitates
the structure of real encodings (matches close in Hamming distance, non-matches at about
2 fill (1 - fill) of the bits), not their bit statistics; figures obtained on it say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.format import EncodedData

__all__ = ["SimulatedLinkage", "random_filters", "simulate_parties"]

_CHUNK = 16_384


@dataclass(frozen=True)
class SimulatedLinkage:
    """Parties' encodings and the truth (columns party, ref, entity_id)."""

    parties: dict[str, EncodedData]
    truth: pd.DataFrame


def random_filters(rng: np.random.Generator, n: int, bits: int, fill: float) -> np.ndarray:
    """(n, bits/64) uint64 filters with each bit set with probability ``fill``."""
    out = np.empty((n, bits // 64), dtype=np.uint64)
    for s in range(0, n, _CHUNK):
        m = min(_CHUNK, n - s)
        dense = rng.random((m, bits), dtype=np.float32) < fill
        out[s : s + m] = np.packbits(dense, axis=1, bitorder="little").view("<u8")
    return out


def _corrupt(rng: np.random.Generator, base: np.ndarray, flip: tuple[float, float]) -> np.ndarray:
    out = base.copy()
    bits = base.shape[1] * 64
    for s in range(0, len(base), _CHUNK):
        m = min(_CHUNK, len(base) - s)
        p = rng.uniform(flip[0], flip[1], size=(m, 1)).astype(np.float32)
        mask = rng.random((m, bits), dtype=np.float32) < p
        out[s : s + m] ^= np.packbits(mask, axis=1, bitorder="little").view("<u8")
    return out


def simulate_parties(n_people: int, party_names: list[str], *, bits: int = 1024,
                     fill: float = 0.35, coverage: float = 0.7,
                     flip: tuple[float, float] = (0.02, 0.06), alias_rate: float = 0.0,
                     alias_flip: tuple[float, float] = (0.10, 0.20), duplicate_rate: float = 0.0,
                     seed: int = 0) -> SimulatedLinkage:
    """Each party knows each of ``n_people`` persons with probability ``coverage``.

    ``alias_rate``: share of records with a second variant; ``duplicate_rate``: share of a
    party's records that appear a second time (as another record) in the same party.
    """
    rng = np.random.default_rng(seed)
    people = random_filters(rng, n_people, bits, fill)
    parties: dict[str, EncodedData] = {}
    truth = []
    for name in party_names:
        who = np.flatnonzero(rng.random(n_people) < coverage)
        dup = who[rng.random(len(who)) < duplicate_rate]
        who = rng.permutation(np.concatenate([who, dup]))
        primary = _corrupt(rng, people[who], flip)
        has_alias = rng.random(len(who)) < alias_rate
        alias = _corrupt(rng, people[who[has_alias]], alias_flip)
        counts = 1 + has_alias.astype(np.uint8)
        rows = np.empty((int(counts.sum()), bits // 64), dtype=np.uint64)
        first = np.cumsum(counts) - counts
        rows[first] = primary
        rows[first[has_alias] + 1] = alias
        refs = np.array([f"{name}-{i:08d}" for i in range(len(who))], dtype=object)
        parties[name] = EncodedData(refs, counts, rows)
        truth.append(pd.DataFrame({"party": name, "ref": refs, "entity_id": who}))
    return SimulatedLinkage(parties, pd.concat(truth, ignore_index=True))
