"""All parties' encodings in one canonical order.

Every later stage works on "global" record indices of a ``PartyPool``: parties sorted by
name, records of a party sorted by reference. The pool is therefore the same whatever the
order of the ``parties`` mapping or of the records inside each party, and so is everything
computed from it (candidate pairs, scores, groups, match ids).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from linkage.errors import MatchingError
from linkage.format import EncodedData

__all__ = ["KeyLists", "PartyPool", "build_pool"]

MAX_PARTIES = 20


class KeyLists:
    """Values of one blocking key per pooled record, stored flat: record g's values are
    ``values[offsets[g]:offsets[g + 1]]`` (indexing gives that view). Two arrays instead of
    one small array per record: millions of records would otherwise cost ~100 bytes each."""

    __slots__ = ("offsets", "values")

    def __init__(self, values: np.ndarray, offsets: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.uint64)
        self.offsets = np.asarray(offsets, dtype=np.int64)

    @classmethod
    def gather(cls, per_party: Sequence, orders: Sequence[np.ndarray]) -> KeyLists:
        """The lists of ``per_party[p][i]`` for i in ``orders[p]``, parties in turn. Each
        ``per_party[p]`` is a sequence of arrays, or any object with flat ``values`` and
        ``offsets`` arrays (as the encoded-file reader gives)."""
        values, sizes = [], []
        for lists, order in zip(per_party, orders, strict=True):
            flat_values = getattr(lists, "values", None)
            flat_offsets = getattr(lists, "offsets", None)
            if isinstance(flat_values, np.ndarray) and isinstance(flat_offsets, np.ndarray):
                flat_values = flat_values.astype(np.uint64, copy=False)
                flat_offsets = flat_offsets.astype(np.int64, copy=False)
            else:
                arrays = [np.asarray(a, dtype=np.uint64).reshape(-1) for a in lists]
                flat_offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
                np.cumsum([len(a) for a in arrays], out=flat_offsets[1:])
                flat_values = (np.concatenate(arrays) if arrays else np.zeros(0, np.uint64))
            counts = np.diff(flat_offsets)[order]
            starts = np.repeat(flat_offsets[:-1][order] - (np.cumsum(counts) - counts), counts)
            values.append(flat_values[starts + np.arange(int(counts.sum()), dtype=np.int64)])
            sizes.append(counts)
        offsets = np.zeros(sum(len(c) for c in sizes) + 1, dtype=np.int64)
        if sizes:
            np.cumsum(np.concatenate(sizes), out=offsets[1:])
        return cls(np.concatenate(values) if values else np.zeros(0, np.uint64), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, g: int) -> np.ndarray:
        return self.values[self.offsets[g]:self.offsets[g + 1]]


@dataclass(frozen=True)
class PartyPool:
    """Records of all parties, party-major and reference-sorted.

    ``party_of[g]`` is the index into ``names`` of global record g, ``source_index[g]`` its
    index in the caller's ``EncodedData``; rows ``row_offsets[g]:row_offsets[g+1]`` of
    ``clk`` (and of each array in ``fields``) are its variants.
    """

    names: tuple[str, ...]
    party_offsets: np.ndarray  # (P+1,) int64: records of party p are offsets[p]:offsets[p+1]
    party_of: np.ndarray  # (n,) int16
    source_index: np.ndarray  # (n,) int64
    refs: np.ndarray  # (n,) object
    row_offsets: np.ndarray  # (n+1,) int64
    clk: np.ndarray  # (rows, w) uint64
    fields: dict[str, np.ndarray]
    blocking: dict[str, KeyLists]  # name -> per global record

    @property
    def n_records(self) -> int:
        return len(self.party_of)

    @property
    def n_rows(self) -> int:
        return len(self.clk)

    @property
    def party_sizes(self) -> np.ndarray:
        return np.diff(self.party_offsets)

    @property
    def variant_counts(self) -> np.ndarray:
        return np.diff(self.row_offsets)

    @property
    def record_of_row(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_records, dtype=np.int64), self.variant_counts)

    def cross_party_pairs(self) -> int:
        """Number of record pairs between different parties (the unblocked workload)."""
        sizes = self.party_sizes.tolist()
        return (sum(sizes) ** 2 - sum(x * x for x in sizes)) // 2


def _row_permutation(data: EncodedData, order: np.ndarray) -> np.ndarray:
    """Filter rows of ``data`` in the record order ``order`` (variants kept in order)."""
    offsets = data.row_offsets
    counts = data.variant_counts.astype(np.int64)[order]
    starts = np.repeat(offsets[:-1][order], counts)
    within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts + within


def _check_party(name: str, data: EncodedData, width: int | None, fields: Sequence[str],
                 keys: Sequence[str]) -> None:
    if not isinstance(name, str) or not name:
        raise MatchingError("party names must be non-empty strings")
    if data.clk.ndim != 2 or data.clk.dtype != np.uint64:
        raise MatchingError(f"party {name!r}: filters must be a 2-d uint64 array")
    if width is not None and data.clk.shape[1] != width:
        raise MatchingError(f"party {name!r}: filter length differs from the other parties")
    if int(data.variant_counts.astype(np.int64).sum()) != len(data.clk):
        raise MatchingError(f"party {name!r}: variant counts do not match the filter rows")
    for f in fields:
        if f not in data.fields:
            raise MatchingError(f"party {name!r} has no field-level filter {f!r}")
    for k in keys:
        if k not in data.blocking:
            raise MatchingError(f"party {name!r} has no blocking key {k!r}")


def build_pool(parties: Mapping[str, EncodedData], *, fields: Sequence[str] = (),
               keys: Sequence[str] = ()) -> PartyPool:
    """Combine parties into one canonical pool, keeping only the named fields and keys."""
    if not 2 <= len(parties) <= MAX_PARTIES:
        raise MatchingError(f"linkage needs 2 to {MAX_PARTIES} parties, got {len(parties)}")
    names = tuple(sorted(parties))
    width = None
    for name in names:
        _check_party(name, parties[name], width, fields, keys)
        width = parties[name].clk.shape[1]
    for f in fields:
        widths = {parties[n].fields[f].shape[1] for n in names}
        if len(widths) != 1:
            raise MatchingError(f"field-level filter {f!r} has different lengths across parties")

    orders = [np.argsort(parties[n].refs.astype(str), kind="stable") for n in names]
    rows = [_row_permutation(parties[n], o) for n, o in zip(names, orders, strict=True)]
    sizes = np.array([parties[n].n_records for n in names], dtype=np.int64)
    party_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    counts = np.concatenate(
        [parties[n].variant_counts.astype(np.int64)[o] for n, o in zip(names, orders, strict=True)]
    )
    row_offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=row_offsets[1:])

    def gather(get) -> np.ndarray:
        parts = [get(parties[n])[r] for n, r in zip(names, rows, strict=True)]
        return np.ascontiguousarray(np.concatenate(parts))

    return PartyPool(
        names=names,
        party_offsets=party_offsets,
        party_of=np.repeat(np.arange(len(names), dtype=np.int16), sizes),
        source_index=np.concatenate(orders).astype(np.int64),
        refs=np.concatenate([parties[n].refs[o] for n, o in zip(names, orders, strict=True)]),
        row_offsets=row_offsets,
        clk=gather(lambda d: d.clk),
        fields={f: gather(lambda d, f=f: d.fields[f]) for f in fields},
        blocking={k: KeyLists.gather([parties[n].blocking[k] for n in names], orders)
                  for k in keys},
    )
