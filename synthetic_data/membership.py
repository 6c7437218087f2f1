"""Who is recorded where: agencies holding each person, duplicates, record order.

Every person is held by at least one agency. A share ``overlap`` of people are held by two or
more (suspects and victims cross borders), their number of agencies drawn from the
``multiplicity`` weights; which agencies is a draw without replacement weighted by the
agencies' shares (Gumbel top-k, vectorised). Each (person, agency) membership gets an extra
record in the same agency with probability ``duplicate_rate`` (a fifth of those get a second
extra record). Each agency's records are then shuffled, so record order and record ids say
nothing about who is who.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic_data.config import GeneratorConfig
from synthetic_data.seeds import PEOPLE_CHUNK, Stream, stream

__all__ = ["Membership", "assign_membership"]

_SECOND_DUPLICATE = 0.2


@dataclass(frozen=True)
class Membership:
    """Per agency, the entity index of each record in record order."""

    records: tuple[np.ndarray, ...]  # int32 entity indices, one array per agency
    agencies_per_person: np.ndarray  # uint8 number of agencies holding each person

    def sizes(self) -> tuple[int, ...]:
        return tuple(len(r) for r in self.records)


def _multiplicity_cdf(weights: tuple[float, ...], n_agencies: int) -> np.ndarray:
    """CDF over k = 2..n_agencies; weights for more agencies than exist fold into the last."""
    w = np.zeros(max(n_agencies - 1, 1))
    for i, weight in enumerate(weights):
        w[min(i, len(w) - 1)] += weight
    return np.cumsum(w) / w.sum()


def _chunk_members(n: int, config: GeneratorConfig, rng: np.random.Generator,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(count of agencies per person, boolean membership matrix n x agencies)."""
    a = len(config.agencies)
    u = rng.random((n, 2))
    k = np.ones(n, dtype=np.int64)
    if a > 1:
        shared = u[:, 0] < config.overlap
        cdf = _multiplicity_cdf(config.multiplicity, a)
        k[shared] = 2 + np.minimum(np.searchsorted(cdf, u[shared, 1], side="right"), len(cdf) - 1)
    log_w = np.log(np.array([ag.share for ag in config.agencies], dtype=np.float64))
    gumbel = -np.log(-np.log(rng.random((n, a)) + 1e-300) + 1e-300)
    order = np.argsort(-(log_w + gumbel), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(a)[None, :].repeat(n, axis=0), axis=1)
    return k, rank < k[:, None]


def assign_membership(config: GeneratorConfig, seed: int) -> Membership:
    a = len(config.agencies)
    per_agency: list[list[np.ndarray]] = [[] for _ in range(a)]
    counts = []
    for chunk, start in enumerate(range(0, config.people, PEOPLE_CHUNK)):
        n = min(PEOPLE_CHUNK, config.people - start)
        rng = stream(seed, Stream.MEMBERSHIP, chunk)
        k, member = _chunk_members(n, config, rng)
        counts.append(k.astype(np.uint8))
        dup = rng.random((n, a, 2))
        extra = dup[..., 0] < config.duplicate_rate
        copies = (1 + extra + (extra & (dup[..., 1] < _SECOND_DUPLICATE))) * member
        people = np.arange(start, start + n, dtype=np.int32)
        for j in range(a):
            per_agency[j].append(np.repeat(people, copies[:, j]))
    records = []
    for j in range(a):
        entities = np.concatenate(per_agency[j]) if per_agency[j] else np.zeros(0, np.int32)
        stream(seed, Stream.RECORD_ORDER, j).shuffle(entities)
        records.append(entities)
    return Membership(tuple(records), np.concatenate(counts))
