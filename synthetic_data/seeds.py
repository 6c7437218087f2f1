"""Independent random streams derived from the user's seed.

Each stream is keyed by what it generates and where (population chunk 7, agency 2's record
chunk 41 ...), through numpy's ``SeedSequence`` spawn keys, so a chunk's data depends only on
the seed and its key: not on the order chunks are made in, on how many worker processes
make them, or on the machine (PCG64 is specified bit for bit).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = ["PEOPLE_CHUNK", "RECORD_CHUNK", "Stream", "stream"]

#: Fixed chunk sizes: changing them changes the data for a given seed.
PEOPLE_CHUNK = 50_000
RECORD_CHUNK = 10_000


class Stream(IntEnum):
    PEOPLE = 1
    MEMBERSHIP = 2
    RECORD_ORDER = 3
    RECORDS = 4
    REFERENCE = 5


def stream(seed: int, kind: Stream, *keys: int) -> np.random.Generator:
    """The generator of stream ``kind`` at ``keys`` for ``seed`` (a non-negative int)."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(int(kind), *keys))
    return np.random.Generator(np.random.PCG64(sequence))
