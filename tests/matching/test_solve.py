"""Two-party solvers: greedy vs optimal one-to-one, and many-to-many."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.matching import BlockingConfig, MatchConfig, link
from linkage.matching.cluster import Groups, greedy_clusters
from linkage.matching.scoring import ScoredPairs
from linkage.matching.solve import many_to_many, max_weight_matching, optimal_one_to_one


def edges(rows: list[tuple[int, int, float]]) -> ScoredPairs:
    a, b, s = zip(*rows, strict=True) if rows else ((), (), ())
    return ScoredPairs(np.array(a, dtype=np.int64), np.array(b, dtype=np.int64),
                       np.array(s, dtype=np.float64))


def as_set(groups: Groups) -> set[tuple[tuple[int, ...], str, float]]:
    out = set()
    for k in range(len(groups)):
        members = tuple(groups.members[groups.offsets[k]:groups.offsets[k + 1]].tolist())
        out.add((members, "match" if groups.is_match[k] else "possible",
                 round(float(groups.score[k]), 9)))
    return out


# Records 0, 1 are party A; 2, 3 are party B.
PARTY = np.array([0, 0, 1, 1], dtype=np.int16)
# A0-B2 is the single best pair, but taking it leaves A1 and B3 without partners.
CROSS = [(0, 2, 0.95), (0, 3, 0.90), (1, 2, 0.90)]


def test_greedy_and_optimal_differ_where_they_should():
    greedy = as_set(greedy_clusters(edges(CROSS), PARTY, threshold=0.8))
    optimal = as_set(optimal_one_to_one(edges(CROSS), threshold=0.8))
    assert greedy == {((0, 2), "match", 0.95)}
    assert optimal == {((0, 3), "match", 0.90), ((1, 2), "match", 0.90)}


def test_optimal_through_link_on_real_filters(make_encoded):
    # 20-bit filters: Dice(a0,b0) = Dice(a1,b0) = 0.95, Dice(a0,b1) = 0.9, Dice(a1,b1) = 0.8
    a = make_encoded(["a0", "a1"], [[set(range(0, 20))], [set(range(2, 22))]])
    b = make_encoded(["b0", "b1"], [[set(range(1, 21))], [set(range(0, 18)) | {40, 41}]])
    base = {"threshold": 0.75, "possible_threshold": None,
            "blocking": BlockingConfig(method="none")}

    def pairs(solver: str) -> set[tuple[int, int]]:
        result = link({"a": a, "b": b}, MatchConfig(solver=solver, **base))
        return {tuple(m.record_index for m in g.members) for g in result.groups}

    # greedy: the tie at 0.95 goes to a0 (canonical order), then a1-b1 at 0.8: total 1.75
    assert pairs("greedy") == {(0, 0), (1, 1)}
    # optimal: a0-b1 + a1-b0 = 1.85
    assert pairs("optimal") == {(0, 1), (1, 0)}


def test_optimal_handles_graphs_without_a_full_matching():
    # a star: three A records (0, 1, 2) all want B record 3; plus an isolated pair 4-5
    star = [(0, 3, 0.85), (1, 3, 0.95), (2, 3, 0.90), (4, 5, 0.99)]
    assert as_set(optimal_one_to_one(edges(star), 0.8)) == {
        ((1, 3), "match", 0.95), ((4, 5), "match", 0.99)}


def test_optimal_never_trades_a_match_for_possible_matches():
    # two review-band pairs (0.75 + 0.75) outweigh one match (0.95) in total, but matches
    # are settled first
    graph = [(0, 2, 0.95), (0, 3, 0.75), (1, 2, 0.75)]
    assert as_set(optimal_one_to_one(edges(graph), 0.8)) == {((0, 2), "match", 0.95)}
    # records left unmatched by the first stage can still get a possible match
    graph = [(0, 2, 0.95), (1, 3, 0.75), (1, 2, 0.78)]
    assert as_set(optimal_one_to_one(edges(graph), 0.8)) == {
        ((0, 2), "match", 0.95), ((1, 3), "possible", 0.75)}


def brute_best_total(rows: list[tuple[int, int, float]]) -> float:
    best = 0.0
    for r in range(len(rows) + 1):
        for subset in itertools.combinations(rows, r):
            a = [x for x, _, _ in subset]
            b = [y for _, y, _ in subset]
            if len(set(a)) == len(a) and len(set(b)) == len(b):
                best = max(best, sum(s for _, _, s in subset))
    return best


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.tuples(st.integers(0, 4), st.integers(5, 9)),
                       st.integers(1, 100), max_size=10))
def test_max_weight_matching_is_optimal(weights):
    rows = sorted((a, b, w / 100) for (a, b), w in weights.items())
    chosen = max_weight_matching(edges(rows))
    picked = [r for r, c in zip(rows, chosen.tolist(), strict=True) if c]
    assert len({a for a, _, _ in picked}) == len(picked)
    assert len({b for _, b, _ in picked}) == len(picked)
    assert sum(s for _, _, s in picked) == pytest.approx(brute_best_total(rows))


def test_many_to_many_keeps_every_pair_above_the_floor():
    graph = [(0, 2, 0.95), (0, 3, 0.85), (1, 2, 0.72)]
    assert as_set(many_to_many(edges(graph), 0.8)) == {
        ((0, 2), "match", 0.95), ((0, 3), "match", 0.85), ((1, 2), "possible", 0.72)}


def test_many_to_many_through_link_finds_duplicates(make_encoded):
    person = set(range(30))
    a = make_encoded(["a0", "a1", "a2"], [[person], [person | {50}], [set(range(60, 90))]])
    b = make_encoded(["b0"], [[person]])
    cfg = MatchConfig(solver="many_to_many", blocking=BlockingConfig(method="none"))
    result = link({"a": a, "b": b}, cfg)
    got = {tuple((m.party, m.record_index) for m in g.members) for g in result.groups}
    assert got == {(("a", 0), ("b", 0)), (("a", 1), ("b", 0))}
    one_to_one = link({"a": a, "b": b}, cfg.model_copy(update={"solver": "greedy"}))
    assert len(one_to_one.groups) == 1
