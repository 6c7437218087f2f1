"""Builders of small encoded inputs for the matching tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pytest

from linkage.format import EncodedData


def filters_from_bits(rows: Sequence[Iterable[int]], bits: int) -> np.ndarray:
    """(len(rows), bits/64) uint64 filters with the given bit positions set."""
    dense = np.zeros((len(rows), bits), dtype=bool)
    for r, positions in enumerate(rows):
        dense[r, list(positions)] = True
    return np.packbits(dense, axis=1, bitorder="little").view("<u8").astype(np.uint64)


def encoded_from_bits(refs: Sequence[str], variants: Sequence[Sequence[Iterable[int]]], *,
                      bits: int = 128, fields: dict[str, list[list[Iterable[int]]]] | None = None,
                      field_bits: int = 64,
                      blocking: dict[str, list[list[int]]] | None = None) -> EncodedData:
    """An EncodedData whose record i has the variants ``variants[i]`` (lists of set bits);
    ``fields[name][i]`` likewise per variant; ``blocking[name][i]`` are record i's keys."""
    counts = np.array([len(v) for v in variants], dtype=np.uint8)
    clk = filters_from_bits([v for rec in variants for v in rec], bits)
    field_arrays = {
        name: filters_from_bits([v for rec in per_record for v in rec], field_bits)
        for name, per_record in (fields or {}).items()
    }
    keys = {name: [np.asarray(k, dtype=np.uint64) for k in per_record]
            for name, per_record in (blocking or {}).items()}
    return EncodedData(np.array(refs, dtype=object), counts, clk, field_arrays, keys)


def pair_with_dice(shared: int, size: int = 10, offset: int = 0) -> tuple[set[int], set[int]]:
    """Two bit sets of ``size`` bits sharing ``shared``: Dice = shared / size exactly."""
    a = set(range(offset, offset + size))
    b = set(range(offset, offset + shared)) | set(range(offset + size, offset + 2 * size - shared))
    return a, b


@pytest.fixture
def make_encoded():
    return encoded_from_bits


@pytest.fixture
def dice_pair():
    return pair_with_dice


@pytest.fixture
def make_filters():
    return filters_from_bits
