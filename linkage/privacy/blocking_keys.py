"""Frequency attack on encoded blocking keys (attribute disclosure to the central service).

An encoded blocking key is a deterministic keyed hash of a plaintext value (a phonetic code
of a name part, a year of birth, a date of birth...). The service cannot invert the hash,
but it sees how many records share each key value, and it holds public frequency knowledge
(census surname counts, birth statistics). Zipf-distributed values such as surname codes
then give themselves away by their counts: the most frequent key value is almost surely the
most frequent surname code, and so on (the frequency-alignment attack of Kuzu et al. 2011,
applied to the blocking keys instead of the filters).

The simulated attacker:

1. counts, per key value, the records holding it (what the service sees);
2. counts, per plaintext value, the records of its reference population holding it, scaled
   to the number of encoded records;
3. aligns both by rank, and guesses the plaintext of the key value at rank i only where it
   is distinguishable: its count is at least ``min_count`` and the scaled reference counts
   at ranks i - 1 and i + 1 differ from rank i's by more than ``z`` binomial standard
   deviations (otherwise neighbours could swap and a careful attacker abstains).

A record counts as disclosed when at least one of its key values is guessed right. This is
attribute disclosure (the attacker learns, e.g., that a record's family name sounds like
"SMAT"), not identity; ``linkage privacy-check`` reports it beside the re-identification
attacks without gating on it (docs/privacy.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from linkage.bloom.encoder import BlockingPlaintext
from linkage.privacy.results import AttackResult

__all__ = ["KeyExposure", "blocking_key_attack", "blocking_key_exposure"]


@dataclass(frozen=True)
class KeyExposure:
    """The attack's outcome on one key, with the counts behind it."""

    result: AttackResult
    values: int  # distinct key values the service sees
    values_named: int  # values the attacker names (clearly separated counts)
    values_right: int  # ... correctly
    largest_share: float  # share of the records holding the most frequent value


def _distinguishable(expected: np.ndarray, z: float) -> np.ndarray:
    """Ranks (sorted by descending count) whose neighbours' counts are clearly different."""
    sd = np.sqrt(np.maximum(expected, 1.0))
    gap_above = np.r_[np.inf, expected[:-1] - expected[1:]]
    gap_below = np.r_[expected[:-1] - expected[1:], np.inf]
    return (gap_above > z * sd) & (gap_below > z * sd)


def blocking_key_attack(name: str, seen: BlockingPlaintext, reference: BlockingPlaintext,
                        n_records: int, n_reference: int, **kw) -> AttackResult:
    """``blocking_key_exposure``'s result alone."""
    return blocking_key_exposure(name, seen, reference, n_records, n_reference, **kw).result


def blocking_key_exposure(
    name: str,
    seen: BlockingPlaintext,
    reference: BlockingPlaintext,
    n_records: int,
    n_reference: int,
    *,
    min_count: int = 3,
    z: float = 2.0,
) -> KeyExposure:
    """Run the attack on one key: the service sees ``seen.digests`` (per record);
    ``seen.values`` is the truth the guesses are scored against; of ``reference`` (the
    attacker's public population) only the plaintext values are used."""
    start = time.perf_counter()
    keys, key_of_pair, key_counts = np.unique(seen.digests, return_inverse=True,
                                              return_counts=True)
    ref_values, ref_counts = np.unique(reference.values.astype(str), return_counts=True)
    by_key = np.argsort(-key_counts, kind="stable")
    by_ref = np.argsort(-ref_counts, kind="stable")
    ranks = min(len(by_key), len(by_ref))
    expected = ref_counts[by_ref][:ranks] * (n_records / max(n_reference, 1))
    confident = (key_counts[by_key][:ranks] >= min_count) & _distinguishable(expected, z)

    guess = np.full(len(keys), None, dtype=object)  # plaintext guessed for each key value
    guess[by_key[:ranks][confident]] = ref_values[by_ref][:ranks][confident]
    pair_guess = guess[key_of_pair.reshape(-1)]
    made = pair_guess != None  # noqa: E711 (elementwise on an object array)
    right = made & (pair_guess == seen.values)
    guessed_records = np.unique(seen.records[made])
    disclosed = np.unique(seen.records[right])
    values_right = len(np.unique(key_of_pair.reshape(-1)[right]))
    top_share = float(key_counts.max() / n_records) if len(keys) else 0.0
    result = AttackResult(
        attack=f"blocking_key:{name}",
        encodings=n_records,
        guesses=len(guessed_records),
        correct=len(disclosed),
        seconds=time.perf_counter() - start,
        note=(f"attribute: {int(confident.sum())} of {len(keys)} values guessed, "
              f"{values_right} right; largest value holds {top_share:.1%} of records"),
    )
    return KeyExposure(result, len(keys), int(confident.sum()), values_right, top_share)
