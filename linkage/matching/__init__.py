"""Encoded zone: similarity kernels, blocking, solving, clustering and evaluation."""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from linkage.errors import MatchingError
from linkage.format import EncodedData
from linkage.matching._util import map_ordered
from linkage.matching.blocking import BlockingStats, CandidatePairs, all_pairs, block
from linkage.matching.cluster import Groups, greedy_clusters
from linkage.matching.config import BlockingConfig, MatchConfig
from linkage.matching.pool import PartyPool, build_pool
from linkage.matching.results import (
    CandidateTable,
    GroupMember,
    LinkProgress,
    LinkResult,
    MatchGroup,
    matches_table,
)
from linkage.matching.scoring import ScoredPairs, Scorer
from linkage.matching.solve import many_to_many, optimal_one_to_one
from linkage.matching.threshold import ScoreHistogram, ThresholdSuggestion, suggest_threshold

__all__ = [
    "BlockingConfig",
    "BlockingStats",
    "CandidateTable",
    "GroupMember",
    "LinkCancelled",
    "LinkProgress",
    "LinkResult",
    "MatchConfig",
    "MatchGroup",
    "ScoreHistogram",
    "ThresholdSuggestion",
    "link",
    "matches_table",
]

# Record pairs scored per task; bounds memory and sets how often progress and cancellation
# are handled.
_SCORE_CHUNK = 1 << 19


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
_heap_tuned = False


def _return_freed_arrays_to_the_system() -> None:
    """Make glibc give large freed blocks back to the system at once (process-wide, once).

    glibc raises its mmap threshold to the size of any mmapped block that is freed (up to
    32 MiB), so afterwards arrays of up to that size come from the heap and its per-thread
    arenas, and memory they free is mostly kept by the process. Blocking allocates and
    frees such arrays band after band on several threads: at 10^6 records per party about
    0.5 GB of its peak RSS was such retained memory. A fixed threshold (glibc's default
    128 KiB) keeps every large block its own mapping. Left alone where the
    MALLOC_MMAP_THRESHOLD_ environment variable is set or the C library is not glibc."""
    global _heap_tuned
    if _heap_tuned:
        return
    _heap_tuned = True
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):
            return
        libc.mallopt(ctypes.c_int(_M_MMAP_THRESHOLD), ctypes.c_int(128 * 1024))
    except (OSError, AttributeError):
        return


class LinkCancelled(MatchingError):
    """The caller's ``cancelled()`` returned True; the run stopped between chunks."""


class _Reporter:
    def __init__(self, progress: Callable[[LinkProgress], None] | None,
                 cancelled: Callable[[], bool] | None) -> None:
        self.progress = progress
        self.cancelled = cancelled
        self.comparisons = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.cancelled is not None and self.cancelled():
            raise LinkCancelled("cancelled")
        if self.progress is not None:
            self.progress(LinkProgress(stage, done, total, self.comparisons))


def _key_names(parties: Mapping[str, EncodedData], cfg: BlockingConfig) -> list[str]:
    if cfg.method not in ("keys", "lsh+keys") or not parties:
        return []
    common = set.intersection(*(set(d.blocking) for d in parties.values()))
    names = sorted(common) if cfg.keys is None else list(cfg.keys)
    if not names and cfg.method == "lsh+keys" and cfg.keys is None:
        return []  # the default method degrades to LSH alone for encodings without keys
    if not names:
        raise MatchingError(f"blocking method {cfg.method!r} needs encoded blocking keys, "
                            "and the parties carry none in common")
    return names


def _threads(config: MatchConfig) -> int:
    if config.threads is not None:
        return config.threads
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def _chunks(pairs: CandidatePairs) -> Iterator[CandidatePairs]:
    for start in range(0, len(pairs), _SCORE_CHUNK):
        stop = start + _SCORE_CHUNK
        yield CandidatePairs(pairs.a[start:stop], pairs.b[start:stop])


class _Collector:
    """Gathers scored chunks: histogram of all scores, pairs at or above the floor, and
    optionally every pair."""

    def __init__(self, floor: float, keep_all: bool) -> None:
        self.floor = floor
        self.hist = ScoreHistogram.empty()
        self.kept: list[ScoredPairs] = []
        self.everything: list[ScoredPairs] | None = [] if keep_all else None

    def add(self, chunk: CandidatePairs, scores: np.ndarray) -> None:
        self.hist.add(scores)
        keep = scores >= self.floor
        self.kept.append(ScoredPairs(chunk.a[keep], chunk.b[keep], scores[keep]))
        if self.everything is not None:
            self.everything.append(ScoredPairs(chunk.a, chunk.b, scores))


def _score_all(pool: PartyPool, chunks: Iterator[CandidatePairs], total: int,
               config: MatchConfig, report: _Reporter, out: _Collector) -> None:
    """Score every candidate pair, chunk by chunk, on the configured threads."""
    scorer = Scorer(pool, config.metric, config.field_weights)

    def score(chunk: CandidatePairs) -> tuple[CandidatePairs, np.ndarray, int]:
        return (chunk, *scorer.score(chunk.a, chunk.b))

    done = 0
    report("scoring", 0, total)
    for chunk, scores, comparisons in map_ordered(score, chunks, _threads(config)):
        out.add(chunk, scores)
        report.comparisons += comparisons
        done += len(chunk)
        report("scoring", done, total)


def _solve(pool: PartyPool, pairs: ScoredPairs, config: MatchConfig) -> Groups:
    if config.solver == "many_to_many":
        return many_to_many(pairs, config.threshold)
    if config.solver == "optimal":
        if len(pool.names) != 2:
            raise MatchingError("the optimal solver links exactly two parties; use greedy "
                                "clustering for more")
        return optimal_one_to_one(pairs, config.threshold)
    return greedy_clusters(pairs, pool.party_of, config.threshold, config.allow_duplicates)


def _named_groups(pool: PartyPool, groups: Groups) -> list[MatchGroup]:
    """Named groups in the canonical order, with ids "M" + zero-padded position."""
    g = groups.ordered()
    width = max(6, len(str(len(g))))
    names = np.asarray(pool.names, dtype=object)
    members = [GroupMember(p, i) for p, i in zip(names[pool.party_of[g.members]].tolist(),
                                                 pool.source_index[g.members].tolist(),
                                                 strict=True)]
    offsets = g.offsets.tolist()
    return [
        MatchGroup(f"M{k + 1:0{width}d}", "match" if is_match else "possible",
                   tuple(members[offsets[k]:offsets[k + 1]]), score)
        for k, (is_match, score) in enumerate(zip(g.is_match.tolist(), g.score.tolist(),
                                                  strict=True))
    ]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Millions of small, acyclic result objects would trigger repeated full collections
    that cost more than building them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _candidate_table(pool: PartyPool, pairs: ScoredPairs) -> CandidateTable:
    return CandidateTable(pool.party_of[pairs.a], pool.source_index[pairs.a],
                          pool.party_of[pairs.b], pool.source_index[pairs.b], pairs.score)


def link(parties: Mapping[str, EncodedData], config: MatchConfig, *,
         progress: Callable[[LinkProgress], None] | None = None,
         cancelled: Callable[[], bool] | None = None,
         keep_candidates: bool = False) -> LinkResult:
    """Link the parties' encodings (see docs/matching.md).

    Results do not depend on the order of ``parties`` or of the records inside each party.
    ``progress`` receives a ``LinkProgress`` after every band, key and chunk of pairs;
    ``cancelled`` is polled at the same points and stops the run with ``LinkCancelled``.
    With ``keep_candidates`` every scored candidate pair is returned in
    ``LinkResult.candidates`` (for evaluation of blocking).
    """
    _return_freed_arrays_to_the_system()
    report = _Reporter(progress, cancelled)
    durations: dict[str, float] = {}
    start = last = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal last
        now = time.perf_counter()
        durations[stage] = now - last
        last = now

    report("blocking", 0, 1)
    fields = sorted(f for f, w in (config.field_weights or {}).items() if w > 0)
    pool = build_pool(parties, fields=fields, keys=_key_names(parties, config.blocking))
    lap("prepare")
    if config.blocking.method == "none":
        total = pool.cross_party_pairs()
        stats = BlockingStats(method="none", total_pairs=total, candidate_pairs=total,
                              pairs_emitted=total)
        chunks: Iterator[CandidatePairs] = all_pairs(pool, _SCORE_CHUNK)
    else:
        candidates, stats = block(pool, config.blocking, threads=_threads(config),
                                  tick=lambda d, t: report("blocking", d, t))
        total = len(candidates)
        chunks = _chunks(candidates)
        del candidates  # the generator holds them until scored, not through solving
    pool = replace(pool, blocking={})  # the keys' copies are not needed after blocking
    lap("blocking")
    scored = _Collector(config.floor, keep_candidates)
    _score_all(pool, chunks, total, config, report, scored)
    del chunks
    kept, hist = ScoredPairs.concat(scored.kept), scored.hist
    scored.kept.clear()
    # nor the filters after scoring: what follows needs only the records' party and index
    pool = replace(pool, clk=pool.clk[:0].copy(), fields={})  # a copy: a view keeps it all
    lap("scoring")
    suggestion = suggest_threshold(hist)
    lap("threshold")
    report("solving", 0, 1)
    solved = _solve(pool, kept, config)
    del kept  # before the result's millions of objects are made
    with _gc_paused():
        groups = _named_groups(pool, solved)
    report("solving", 1, 1)
    lap("solving")
    durations["total"] = time.perf_counter() - start
    return LinkResult(
        groups=groups,
        candidate_pairs=total,
        comparisons=report.comparisons,
        blocking_stats=stats,
        score_histogram=hist,
        threshold_suggestion=suggestion,
        durations=durations,
        parties=pool.names,
        candidates=(None if scored.everything is None
                    else _candidate_table(pool, ScoredPairs.concat(scored.everything))),
    )
