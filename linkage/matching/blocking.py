"""Blocking without plaintext: candidate record pairs from the encodings themselves.

Two sources, usable together:

* Hamming LSH (bit sampling) on the record-level filters. Band k samples ``rows`` bit
  positions (drawn once from ``seed``); the sampled bits of a filter row, packed into a
  uint64, are its band key. Rows with equal keys share a bucket. Two filters at Hamming
  distance d out of L bits agree on one sampled bit with probability 1 - d/L, so they share a
  band with probability (1 - d/L)^rows and at least one of ``bands`` bands with probability
  1 - (1 - (1 - d/L)^rows)^bands.
* Encoded blocking keys computed by the encoder on the agency side; records sharing any value
  of the same named key are candidates.

Everything is vectorised: band keys by shifting bits into place, buckets by a stable sort,
pairs by ``np.repeat`` over bucket runs. Only pairs of records of different parties are
emitted. A bucket larger than ``max_bucket`` records does not pair all its records: with
``oversized="nearest"`` each record keeps its ``nearest_k`` most similar records of the other
parties in the bucket (``Nearest``: Dice of the filters, computed here on the encodings), so
a coarse key finds true pairs at a cost bounded per record; buckets above
``nearest_limit`` (or all oversized ones with ``oversized="skip"``) are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from linkage.matching._util import map_ordered, unique_sorted
from linkage.matching.config import BlockingConfig
from linkage.matching.kernels import dice_topk, score_pairs
from linkage.matching.pool import KeyLists, PartyPool
from linkage.matching.scoring import expand_variants

__all__ = [
    "BlockingStats",
    "CandidatePairs",
    "Nearest",
    "all_pairs",
    "band_keys",
    "block",
    "bucket_pairs",
    "lsh_positions",
]

# Accumulated pair codes are deduplicated whenever they pass this many (bounds memory).
_COMPACT_AT = 8_000_000
# Oversized buckets refined together (vectorised) are scored this many pairs at a time.
_DENSE_BATCH = 2_000_000


@dataclass(frozen=True)
class CandidatePairs:
    """Distinct candidate record pairs in global (pool) indices, ``a < b``, sorted by (a, b)."""

    a: np.ndarray  # int64
    b: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.a)


@dataclass
class BlockingStats:
    """What blocking did. ``reduction_ratio`` = 1 - candidate_pairs / total_pairs."""

    method: str
    total_pairs: int = 0
    candidate_pairs: int = 0
    lsh_bands: int = 0
    lsh_rows: int = 0
    max_bucket: int = 0
    buckets: int = 0  # buckets holding records of at least two parties
    oversized_buckets: int = 0  # skipped: larger than max_bucket (and not refined)
    records_in_oversized: int = 0  # bucket memberships skipped (a record counts once per bucket)
    refined_buckets: int = 0  # larger than max_bucket, reduced to each record's nearest rows
    records_in_refined: int = 0
    nearest_pairs: int = 0  # pairs emitted by refined buckets (before deduplication)
    largest_bucket: int = 0
    pairs_emitted: int = 0  # before deduplication across bands and keys
    pairs_by_source: dict[str, int] = field(default_factory=dict)  # distinct pairs per source

    @property
    def reduction_ratio(self) -> float:
        if self.total_pairs == 0:
            return 0.0
        return 1.0 - self.candidate_pairs / self.total_pairs

    def add_buckets(self, other: BlockingStats) -> None:
        """Add the bucket counts of one band or key (computed on a worker thread)."""
        self.buckets += other.buckets
        self.oversized_buckets += other.oversized_buckets
        self.records_in_oversized += other.records_in_oversized
        self.refined_buckets += other.refined_buckets
        self.records_in_refined += other.records_in_refined
        self.nearest_pairs += other.nearest_pairs
        self.largest_bucket = max(self.largest_bucket, other.largest_bucket)


# --- bucket → pairs ---------------------------------------------------------------------


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (in place): spreads key bits so that the high bits are usable."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def bucket_pairs(keys: np.ndarray, records: np.ndarray, party_of: np.ndarray, max_bucket: int,
                 stats: BlockingStats, *,
                 nearest: Nearest | None = None) -> np.ndarray:
    """Cross-party pairs of records that share a key, as codes ``a * n + b`` (a < b).

    A bucket of more than ``max_bucket`` records is skipped, unless ``nearest`` is given and
    the bucket holds at most ``nearest.limit`` records: then it yields only the pairs of
    each record with its nearest records of the other parties in the bucket (``Nearest``).

    Keys are mixed and their high bits packed above the record number into one uint64, so a
    single (SIMD) sort of plain integers orders the elements by bucket, then by record, hence
    party-major inside a bucket: every element pairs with the elements of later parties in
    its bucket and no same-party pair is ever built. Truncating the key can only merge
    buckets (extra candidates, about n^2 / 2^(64 - log2 n) of them), never split one.
    """
    n = len(party_of)
    shift = np.uint64(max(1, (n - 1).bit_length()))
    code = _mix(keys.astype(np.uint64, copy=True)) >> shift << shift
    code |= records.astype(np.uint64)
    code.sort()
    # a record with several variants may land in one bucket more than once
    keep = np.ones(len(code), dtype=bool)
    keep[1:] = code[1:] != code[:-1]
    code = code[keep]
    if len(code) < 2:
        return np.empty(0, dtype=np.int64)
    k = code >> shift
    r = (code & ((np.uint64(1) << shift) - np.uint64(1))).astype(np.int64)
    del code
    starts = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
    sizes = np.diff(np.append(starts, len(k)))
    stats.largest_bucket = max(stats.largest_bucket, int(sizes.max()))
    big = sizes > max_bucket
    near_parts: list[np.ndarray] = []
    refine = np.zeros_like(big)
    if nearest is not None and big.any():
        refine = big & (sizes <= nearest.limit)
        # very large buckets one by one (top-k kernel); the others with the small buckets
        # below, vectorised, and pruned to each record's nearest partners afterwards
        for s0, size in zip(starts[refine & (sizes > nearest.dense)].tolist(),
                            sizes[refine & (sizes > nearest.dense)].tolist(), strict=True):
            near_parts.append(nearest.bucket(r[s0:s0 + size]))
        stats.refined_buckets += int(refine.sum())
        stats.records_in_refined += int(sizes[refine].sum())
    skipped = big & ~refine
    stats.oversized_buckets += int(skipped.sum())
    stats.records_in_oversized += int(sizes[skipped].sum())
    small = (sizes >= 2) & ~big
    codes = _pairs_of(r, k, starts, sizes, small, party_of, stats)
    if nearest is not None:
        # buckets of up to ``nearest.dense`` records: all their pairs, scored and pruned, in
        # batches of at most _DENSE_BATCH pairs (bounds memory)
        dense = np.flatnonzero(refine & (sizes <= nearest.dense))
        weight = np.cumsum(sizes[dense].astype(np.int64) ** 2 // 4)
        lo = 0
        while lo < len(dense):
            hi = max(lo + 1, int(np.searchsorted(weight, weight[lo] + _DENSE_BATCH)))
            sel = np.zeros(len(sizes), dtype=bool)
            sel[dense[lo:hi]] = True
            a, b, group = _pairs_of(r, k, starts, sizes, sel, party_of, None, with_group=True)
            if len(a):
                near_parts.append(nearest.prune(a, b, group))
            lo = hi
    n = len(party_of)
    out = codes[0] * n + codes[1]
    return np.concatenate([out, _join(near_parts, stats)]) if near_parts else out


def _pairs_of(r: np.ndarray, k: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
              selected: np.ndarray, party_of: np.ndarray, stats: BlockingStats | None, *,
              with_group: bool = False):
    """All cross-party pairs (a, b), a < b, of the selected buckets (elements ``r`` sorted
    by bucket ``k``, then record, hence party-major inside a bucket): every element pairs
    with the elements of later parties in its bucket. With ``with_group``, also the index
    (among the selected buckets) of each pair's bucket."""
    empty = np.empty(0, dtype=np.int64)
    mask = np.repeat(selected, sizes)
    if not mask.any():
        return (empty, empty, empty) if with_group else (empty, empty)
    r, k = r[mask], k[mask]
    p = party_of[r]
    # ends of bucket runs and of (bucket, party) runs, per element
    bucket_start = np.concatenate([[True], k[1:] != k[:-1]])
    run_start = bucket_start | np.concatenate([[True], p[1:] != p[:-1]])
    m = len(r)
    end = _run_ends(bucket_start, m)
    later = _run_ends(run_start, m)
    counts = end - later
    if stats is not None:
        stats.buckets += int(np.count_nonzero(bucket_start & (counts > 0)))
    total = int(counts.sum())
    if total == 0:
        return (empty, empty, empty) if with_group else (empty, empty)
    first = np.repeat(r, counts)
    offset = np.repeat(np.cumsum(counts) - counts - later, counts)
    partner = np.arange(total, dtype=np.int64) - offset
    if with_group:
        group = np.repeat(np.cumsum(bucket_start) - 1, counts)
        return first, r[partner], group
    return first, r[partner]


def _join(parts: list[np.ndarray], stats: BlockingStats) -> np.ndarray:
    out = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    stats.nearest_pairs += len(out)
    return out


class Nearest:
    """Reduces an oversized bucket to each record's ``k`` most similar records of the other
    parties in the bucket (Dice of the record-level filters, on the encodings only).

    Buckets of up to ``dense`` records are done together, vectorised: all their cross-party
    pairs are scored (best variant pair) and each record keeps its ``k`` best partners per
    bucket. Larger ones (up to ``limit`` records) are done one by one with the top-k kernel
    over filter rows: a record keeps the owners of its ``k`` best rows of the other parties,
    so a partner with two close variants can take two of the ``k`` slots.
    """

    def __init__(self, pool: PartyPool, k: int, limit: int, dense: int = 128) -> None:
        self.pool, self.k, self.limit, self.dense = pool, k, limit, dense

    def prune(self, a: np.ndarray, b: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Codes of the pairs (a < b) that are among the ``k`` best of a or of b in their
        group (bucket)."""
        n = self.pool.n_records
        vp = expand_variants(self.pool.row_offsets, a, b)
        rows = score_pairs(self.pool.clk, self.pool.clk, vp.row_a, vp.row_b, threads=1)
        score = rows if len(rows) == len(a) else np.maximum.reduceat(rows, vp.start)
        keep = np.zeros(len(a), dtype=bool)
        # best first; ties keep the (canonical) order in which the pairs were generated
        by_score = np.argsort(-score, kind="stable")
        for me in (a, b):
            run_key = (group * n + me)[by_score]
            within = np.argsort(run_key, kind="stable")  # radix sort on int64
            order, g = by_score[within], run_key[within]
            starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
            rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts,
                                                                               len(order))))
            keep[order[rank < self.k]] = True
        return a[keep] * n + b[keep]

    def bucket(self, members: np.ndarray) -> np.ndarray:
        """Codes ``a * n + b`` (a < b) linking every record of one bucket (distinct global
        record indices in pool order) to the owners of its ``k`` best rows."""
        pool, n = self.pool, self.pool.n_records
        ro = pool.row_offsets
        counts = ro[members + 1] - ro[members]
        total = int(counts.sum())
        rows = (np.repeat(ro[members] - np.cumsum(counts) + counts, counts)
                + np.arange(total, dtype=np.int64))
        rec = np.repeat(members, counts)
        party = pool.party_of[rec]
        filters = pool.clk[rows]
        out = []
        for p in np.unique(party).tolist():
            mine = party == p
            if mine.all():
                continue
            top = dice_topk(filters[mine], filters[~mine], self.k, threads=1)
            x, y = rec[mine][top.i], rec[~mine][top.j]
            out.append(np.minimum(x, y) * n + np.maximum(x, y))
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def _run_ends(run_start: np.ndarray, m: int) -> np.ndarray:
    """For each element, the index just past the end of its run."""
    starts = np.flatnonzero(run_start)
    ends = np.append(starts[1:], m)
    return np.repeat(ends, ends - starts)


class _PairAccumulator:
    """Collects pair codes from many buckets and deduplicates them, bounding memory."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []
        self._pending = 0
        self.emitted = 0

    def add(self, codes: np.ndarray) -> None:
        self._parts.append(codes)
        self._pending += len(codes)
        self.emitted += len(codes)
        if self._pending > _COMPACT_AT:
            self._parts = [self.codes()]
            self._pending = 0

    def codes(self) -> np.ndarray:
        if not self._parts:
            return np.empty(0, dtype=np.int64)
        out = unique_sorted(np.concatenate(self._parts))
        self._parts = [out]
        return out

    def take(self) -> np.ndarray:
        """The distinct codes, handing over the memory."""
        out = self.codes()
        self._parts = []
        return out


# --- LSH ----------------------------------------------------------------------------------


def lsh_positions(filter_bits: int, bands: int, rows: int, seed: int) -> np.ndarray:
    """(bands, rows) bit positions, distinct within a band, fixed by the seed."""
    rng = np.random.default_rng(seed)
    rows = min(rows, filter_bits)
    return np.stack([np.sort(rng.choice(filter_bits, size=rows, replace=False))
                     for _ in range(bands)]).astype(np.int64)


def band_keys(words: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """A uint64 key per filter row that is equal for rows agreeing on all sampled bits.

    ``words`` is the transposed filter array (w, rows), so each word is one contiguous
    column. The masked words used by the band are folded into the key by multiply, add and
    xor-shift (``bucket_pairs`` mixes the result again): equal sampled bits always give equal
    keys; different ones collide only by chance (an extra candidate, never a missed one).
    """
    key = np.zeros(words.shape[1], dtype=np.uint64)
    tmp = np.empty_like(key)
    masks: dict[int, int] = {}
    for pos in positions.tolist():
        masks[pos >> 6] = masks.get(pos >> 6, 0) | (1 << (pos & 63))
    for word, mask in sorted(masks.items()):
        np.bitwise_and(words[word], np.uint64(mask), out=tmp)
        key *= np.uint64(0x9E3779B97F4A7C15)
        key += tmp
        # fold the high half down: a multiply alone moves information only upwards, so
        # differences in the top bits of earlier words would be shifted out
        np.right_shift(key, np.uint64(29), out=tmp)
        key ^= tmp
    return key


def _lsh_tasks(pool: PartyPool, cfg: BlockingConfig,
               stats: BlockingStats) -> Iterator[Callable[[], tuple[np.ndarray, np.ndarray]]]:
    positions = lsh_positions(pool.clk.shape[1] * 64, cfg.lsh_bands, cfg.lsh_rows, cfg.seed)
    stats.lsh_bands, stats.lsh_rows = cfg.lsh_bands, positions.shape[1]
    record_of_row = pool.record_of_row
    words = np.ascontiguousarray(pool.clk.T)  # one contiguous column per word
    for band in positions:
        yield lambda band=band: (band_keys(words, band), record_of_row)


# --- encoded blocking keys ----------------------------------------------------------------


def _key_values(per_record, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, record of each value) of one key; ``per_record`` is a ``KeyLists`` or a list
    of arrays, one per record."""
    if isinstance(per_record, KeyLists):
        lengths = np.diff(per_record.offsets)
        return per_record.values, np.repeat(np.arange(n, dtype=np.int64), lengths)
    lengths = np.fromiter((len(v) for v in per_record), dtype=np.int64, count=len(per_record))
    values = (np.concatenate(per_record).astype(np.uint64) if lengths.sum()
              else np.empty(0, dtype=np.uint64))
    return values, np.repeat(np.arange(n, dtype=np.int64), lengths)


def _key_tasks(pool: PartyPool) -> Iterator[Callable[[], tuple[np.ndarray, np.ndarray]]]:
    for name in sorted(pool.blocking):
        yield lambda name=name: _key_values(pool.blocking[name], pool.n_records)


# --- no blocking --------------------------------------------------------------------------


def all_pairs(pool: PartyPool, chunk: int = 1 << 20) -> Iterator[CandidatePairs]:
    """Every cross-party record pair, in (a, b) order, in chunks of about ``chunk`` pairs."""
    n = pool.n_records
    # record a pairs with every record after the end of its own party
    party_end = pool.party_offsets[1:][pool.party_of.astype(np.int64)]
    widths = n - party_end
    cum = np.cumsum(widths)
    start = 0
    while start < n:
        base = int(cum[start - 1]) if start else 0
        stop = min(n, max(start + 1, int(np.searchsorted(cum, base + chunk, side="right"))))
        w = widths[start:stop]
        total = int(w.sum())
        if total:
            a = np.repeat(np.arange(start, stop, dtype=np.int64), w)
            run = np.repeat(np.cumsum(w) - w, w)
            b = np.repeat(party_end[start:stop], w) + (np.arange(total, dtype=np.int64) - run)
            yield CandidatePairs(a, b)
        start = stop


# --- facade -------------------------------------------------------------------------------


def block(pool: PartyPool, cfg: BlockingConfig, *, threads: int = 1,
          tick: Callable[[int, int], None] | None = None) -> tuple[CandidatePairs, BlockingStats]:
    """Candidate pairs and statistics for ``cfg`` (method ``none`` is handled by the caller
    through ``all_pairs``, which streams instead of materialising n * m pairs).

    Bands and keys are bucketed on ``threads`` worker threads (numpy releases the GIL in
    the sorts and array operations); their pairs are collected in order. ``tick(done,
    total)`` is called after each band or key, and is where the caller checks for
    cancellation.
    """
    stats = BlockingStats(method=cfg.method, total_pairs=pool.cross_party_pairs(),
                          max_bucket=cfg.max_bucket)
    jobs: list[tuple[str, Callable[[], tuple[np.ndarray, np.ndarray]]]] = []
    if cfg.method in ("lsh", "lsh+keys"):
        jobs += [("lsh", make) for make in _lsh_tasks(pool, cfg, stats)]
    if cfg.method in ("keys", "lsh+keys"):
        jobs += [("keys", make) for make in _key_tasks(pool)]
    accumulators = {name: _PairAccumulator() for name, _ in jobs}
    nearest = (Nearest(pool, cfg.nearest_k, cfg.nearest_limit)
               if cfg.oversized == "nearest" else None)

    def run(job):
        name, make = job
        local = BlockingStats(method=cfg.method)
        keys, records = make()
        return name, bucket_pairs(keys, records, pool.party_of, cfg.max_bucket, local,
                                  nearest=nearest), local

    for done, (name, codes, local) in enumerate(map_ordered(run, jobs, threads), start=1):
        accumulators[name].add(codes)
        stats.add_buckets(local)
        if tick is not None:
            tick(done, len(jobs))
    sources = []
    for name, acc in accumulators.items():
        codes = acc.take()
        stats.pairs_by_source[name] = len(codes)
        stats.pairs_emitted += acc.emitted
        sources.append(codes)
    codes = unique_sorted(np.concatenate(sources)) if len(sources) > 1 else sources[0]
    del sources
    stats.candidate_pairs = len(codes)
    n = np.int64(pool.n_records)
    return CandidatePairs(codes // n, codes % n), stats
