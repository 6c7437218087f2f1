"""Multi-party clustering: party constraint, agreement with a naive reference, decisions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.matching import BlockingConfig, MatchConfig, link
from linkage.matching.cluster import Groups, greedy_clusters
from linkage.matching.scoring import ScoredPairs

THRESHOLD, FLOOR = 0.8, 0.6


def naive_clusters(rows, party_of, threshold, allow_duplicates):
    """Straightforward reference: sets of members, edges one by one in canonical order."""
    rows = sorted(rows, key=lambda r: (-r[2], r[0], r[1]))
    cluster = {}  # record -> frozenset
    info = {}  # frozenset -> (score, possible)
    out = []

    def merge(edges, possible):
        for a, b, s in edges:
            ca = cluster.get(a, frozenset([a]))
            cb = cluster.get(b, frozenset([b]))
            if ca == cb:
                continue
            if not allow_duplicates and {party_of[x] for x in ca} & {party_of[x] for x in cb}:
                continue
            new = ca | cb
            was_possible = info.get(ca, (0, False))[1] or info.get(cb, (0, False))[1]
            info[new] = (s, possible or was_possible)
            for x in new:
                cluster[x] = new

    merge([r for r in rows if r[2] >= threshold], False)
    for c in set(cluster.values()):
        out.append((tuple(sorted(c)), "match", info[c][0]))
    merge([r for r in rows if r[2] < threshold], True)
    for c in set(cluster.values()):
        if info[c][1]:
            out.append((tuple(sorted(c)), "possible", info[c][0]))
    return set(out)


def as_set(groups: Groups):
    return {
        (tuple(groups.members[groups.offsets[k]:groups.offsets[k + 1]].tolist()),
         "match" if groups.is_match[k] else "possible", float(groups.score[k]))
        for k in range(len(groups))
    }


graphs = st.tuples(
    st.lists(st.integers(0, 4), min_size=2, max_size=14),  # party of each record
    st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13), st.sampled_from(
        [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0])), max_size=30),
)


def build(parties, raw_edges):
    party_of = np.array(sorted(parties), dtype=np.int16)  # global indices are party-major
    n = len(party_of)
    seen, rows = set(), []
    for a, b, s in raw_edges:
        a, b = a % n, b % n
        a, b = min(a, b), max(a, b)
        if party_of[a] != party_of[b] and (a, b) not in seen:
            seen.add((a, b))
            rows.append((a, b, s))
    return party_of, rows


def to_pairs(rows):
    return ScoredPairs(np.array([r[0] for r in rows], dtype=np.int64),
                       np.array([r[1] for r in rows], dtype=np.int64),
                       np.array([r[2] for r in rows], dtype=np.float64))


@settings(max_examples=300, deadline=None)
@given(graphs, st.booleans())
def test_clusters_equal_the_naive_reference(graph, allow_duplicates):
    party_of, rows = build(*graph)
    got = as_set(greedy_clusters(to_pairs(rows), party_of, THRESHOLD, allow_duplicates))
    assert got == naive_clusters(rows, party_of, THRESHOLD, allow_duplicates)


@settings(max_examples=300, deadline=None)
@given(graphs)
def test_never_two_records_of_one_party_in_a_cluster(graph):
    party_of, rows = build(*graph)
    groups = as_set(greedy_clusters(to_pairs(rows), party_of, THRESHOLD))
    for members, _, _ in groups:
        assert len(members) >= 2
        assert len({party_of[m] for m in members}) == len(members)
    for decision in ("match", "possible"):
        seen = [m for members, d, _ in groups if d == decision for m in members]
        assert len(seen) == len(set(seen)), "a record in two groups of one decision"
    # every match group is inside the possible group that extends it, if any
    matches = [set(m) for m, d, _ in groups if d == "match"]
    for members, d, _ in groups:
        if d == "possible":
            for m in matches:
                assert m <= set(members) or not (m & set(members))


@settings(max_examples=200, deadline=None)
@given(graphs)
def test_with_duplicates_match_groups_are_connected_components(graph):
    party_of, rows = build(*graph)
    groups = as_set(greedy_clusters(to_pairs(rows), party_of, THRESHOLD, allow_duplicates=True))
    parent = list(range(len(party_of)))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b, s in rows:
        if s >= THRESHOLD:
            parent[find(a)] = find(b)
    comps: dict[int, list[int]] = {}
    for x in range(len(party_of)):
        comps.setdefault(find(x), []).append(x)
    expected = {tuple(sorted(c)) for c in comps.values() if len(c) > 1}
    assert {m for m, d, _ in groups if d == "match"} == expected


def test_three_parties_form_one_cluster_scored_by_its_last_merge(make_encoded):
    x = set(range(10))
    y = set(range(9)) | {10}  # Dice(x, y) = 0.9
    z = set(range(8)) | {20, 21}  # Dice(x, z) = Dice(y, z) = 0.8
    parties = {"a": make_encoded(["a0"], [[x]]), "c": make_encoded(["c0"], [[y]]),
               "f": make_encoded(["f0"], [[z]])}
    result = link(parties, MatchConfig(threshold=0.8, possible_threshold=0.7,
                                       blocking=BlockingConfig(method="none")))
    assert [(g.decision, g.score, [m.party for m in g.members]) for g in result.groups] == [
        ("match", 0.8, ["a", "c", "f"])]


@pytest.mark.parametrize(("shared", "expected"), [
    (10, ["match"]),  # 1.0
    (8, ["match"]),  # exactly the threshold 0.8
    (7, ["possible"]),  # exactly the possible threshold 0.7
    (6, []),  # 0.6: below both
])
def test_three_way_decision_boundaries(make_encoded, dice_pair, shared, expected):
    x, y = dice_pair(shared)
    parties = {"a": make_encoded(["a0"], [[x]]), "b": make_encoded(["b0"], [[y]])}
    for solver in ("greedy", "optimal", "many_to_many"):
        result = link(parties, MatchConfig(threshold=0.8, possible_threshold=0.7,
                                           solver=solver,
                                           blocking=BlockingConfig(method="none")))
        assert [g.decision for g in result.groups] == expected
        assert all(g.score == shared / 10 for g in result.groups)


def test_without_possible_threshold_only_matches(make_encoded, dice_pair):
    x, y = dice_pair(7)
    parties = {"a": make_encoded(["a0"], [[x]]), "b": make_encoded(["b0"], [[y]])}
    result = link(parties, MatchConfig(threshold=0.7, possible_threshold=None,
                                       blocking=BlockingConfig(method="none")))
    assert [g.decision for g in result.groups] == ["match"]


def test_a_weak_third_record_makes_a_possible_group_around_the_match(make_encoded):
    x = set(range(10))
    y = set(range(9)) | {10}  # 0.9 with x
    z = set(range(7)) | {30, 31, 32}  # 0.7 with x and with y
    parties = {"a": make_encoded(["a0"], [[x]]), "b": make_encoded(["b0"], [[y]]),
               "c": make_encoded(["c0"], [[z]])}
    result = link(parties, MatchConfig(threshold=0.8, possible_threshold=0.6,
                                       blocking=BlockingConfig(method="none")))
    got = [(g.match_id, g.decision, tuple(m.party for m in g.members)) for g in result.groups]
    assert got == [("M000001", "match", ("a", "b")), ("M000002", "possible", ("a", "b", "c"))]
