"""Multi-party clustering: party constraint, agreement with a naive reference, decisions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.matching import BlockingConfig, MatchConfig, cluster, link
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


def _same_groups(x: Groups, y: Groups) -> None:
    x, y = x.ordered(), y.ordered()
    for field in ("members", "offsets", "is_match", "score"):
        np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
        assert getattr(x, field).dtype == getattr(y, field).dtype


two_party_graphs = st.tuples(
    st.integers(1, 12), st.integers(1, 12),  # records of party 0, of party 1
    st.lists(st.tuples(st.integers(0, 23), st.integers(0, 23), st.sampled_from(
        [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9])), max_size=60),
)


@settings(max_examples=300, deadline=None)
@given(two_party_graphs, st.sampled_from([0, 1 << 14]), st.sampled_from([1, 64]))
def test_two_party_fast_path_equals_union_find(graph, loop_below, share):
    """The vectorised greedy one-to-one gives exactly the union-find clustering's groups,
    with the rounds (loop_below 0) and with the plain loop; same-party edges are refused."""
    na, nb, raw = graph
    party_of = np.repeat(np.array([0, 1], dtype=np.int16), [na, nb])
    n = na + nb
    seen, rows = set(), []
    for a, b, s in raw:
        a, b = min(a % n, b % n), max(a % n, b % n)
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            rows.append((a, b, s))
    pairs = to_pairs(rows)
    saved = cluster._LOOP_BELOW, cluster._MIN_ROUND_SHARE
    cluster._LOOP_BELOW, cluster._MIN_ROUND_SHARE = loop_below, share
    try:
        fast = greedy_clusters(pairs, party_of, THRESHOLD)
    finally:
        cluster._LOOP_BELOW, cluster._MIN_ROUND_SHARE = saved
    assert as_set(fast) == naive_clusters(rows, party_of, THRESHOLD, False)
    # union-find pairs an isolated same-party edge (blocking never makes one): compare
    # without them
    cross = [r for r in rows if party_of[r[0]] != party_of[r[1]]]
    _same_groups(fast, cluster._greedy_union_find(to_pairs(cross), party_of, THRESHOLD))


@pytest.mark.parametrize("loop_below", [0, 1 << 14])
def test_two_party_fast_path_on_a_large_random_graph(loop_below):
    rng = np.random.default_rng(7)
    na, nb, m = 3000, 3500, 20000
    party_of = np.repeat(np.array([0, 1], dtype=np.int16), [na, nb])
    code = np.unique(rng.integers(0, na, m) * (na + nb) + na + rng.integers(0, nb, m))
    a, b = code // (na + nb), code % (na + nb)
    pairs = ScoredPairs(a, b, rng.choice(np.linspace(0.6, 1.0, 9), len(a)))
    saved = cluster._LOOP_BELOW
    cluster._LOOP_BELOW = loop_below
    try:
        fast = greedy_clusters(pairs, party_of, THRESHOLD)
    finally:
        cluster._LOOP_BELOW = saved
    _same_groups(fast, cluster._greedy_union_find(pairs, party_of, THRESHOLD))


def test_two_party_chain_of_weaker_edges():
    """A path whose scores fall along it: one round per edge, so the loop finishes it."""
    k = 5000
    a = np.arange(k, dtype=np.int64)
    party_of = np.repeat(np.array([0, 1], dtype=np.int16), [k, k])
    src = np.concatenate([a, a[1:]])
    dst = np.concatenate([k + a, k + a[:-1]])  # edges x-(k+x) and (x+1)-(k+x)
    order = np.argsort(np.concatenate([2 * a, 2 * a[1:] - 1]))  # along the path
    score = np.empty(len(src))
    score[order] = np.linspace(1.0, 0.6, len(src))
    pairs = ScoredPairs(src, dst, score)
    saved = cluster._LOOP_BELOW
    cluster._LOOP_BELOW = 0
    try:
        fast = greedy_clusters(pairs, party_of, THRESHOLD)
    finally:
        cluster._LOOP_BELOW = saved
    _same_groups(fast, cluster._greedy_union_find(pairs, party_of, THRESHOLD))
    assert len(fast) == k


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9),
                          st.sampled_from([0.6, 0.7, 0.8, 0.9])), max_size=40), st.booleans())
def test_canonical_order_is_the_three_key_sort(rows, presorted):
    if presorted:  # the fast path: pairs sorted by (a, b), as blocking emits them
        rows = sorted({(a, b): s for a, b, s in rows}.items())
        rows = [(a, b, s) for (a, b), s in rows]
    a, b, s = (np.array([r[k] for r in rows], dtype=t)
               for k, t in ((0, np.int64), (1, np.int64), (2, np.float64)))
    np.testing.assert_array_equal(cluster.canonical_order(a, b, s), np.lexsort((b, a, -s)))
