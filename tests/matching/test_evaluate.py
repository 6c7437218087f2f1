"""Evaluation metrics on hand-computed cases."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.errors import MatchingError
from linkage.matching import BlockingConfig, MatchConfig, link
from linkage.matching.evaluate import (
    PairMetrics,
    PairTable,
    blocking_quality,
    evaluate_link,
    evaluate_matches,
    group_pairs,
    load_truth,
    pair_metrics,
    truth_pairs,
)

TRUTH = pd.DataFrame(
    [  # entity 1 is known to a, b and c; entity 2 to a and b; entity 3 twice in a and in c
        ("a", "a1", "e1"), ("b", "b1", "e1"), ("c", "c1", "e1"),
        ("a", "a2", "e2"), ("b", "b2", "e2"),
        ("a", "a3", "e3"), ("a", "a4", "e3"), ("c", "c3", "e3"),
        ("b", "b9", "e9"),
    ],
    columns=["party", "ref", "entity_id"],
)
# true cross-party pairs: e1: a1-b1, a1-c1, b1-c1; e2: a2-b2; e3: a3-c3, a4-c3 -> 6
MATCHES = pd.DataFrame(
    [
        ("M1", "match", "a", "a1"), ("M1", "match", "b", "b1"), ("M1", "match", "c", "c1"),
        ("M2", "match", "a", "a2"), ("M2", "match", "b", "b9"),  # wrong
        ("M3", "possible", "a", "a3"), ("M3", "possible", "c", "c3"),
        ("M4", "possible", "a", "a2"), ("M4", "possible", "b", "b2"),
    ],
    columns=["match_id", "decision", "party", "ref"],
)


def test_true_pairs_are_cross_party_pairs_of_one_entity():
    t = truth_pairs(TRUTH)
    got = set(zip(t.party_a, t.ref_a, t.party_b, t.ref_b, strict=True))
    assert got == {("a", "a1", "b", "b1"), ("a", "a1", "c", "c1"), ("b", "b1", "c", "c1"),
                   ("a", "a2", "b", "b2"), ("a", "a3", "c", "c3"), ("a", "a4", "c", "c3")}


def test_metrics_by_hand():
    ev = evaluate_matches(MATCHES, TRUTH)
    # matches: predicted {a1b1, a1c1, b1c1, a2b9}: 3 right, 1 wrong, 3 true pairs missed
    assert ev.matches == PairMetrics(3, 1, 3)
    assert ev.matches.precision == 0.75
    assert ev.matches.recall == 0.5
    assert ev.matches.f1 == pytest.approx(0.6)
    # with possible: + a3c3 (right), a2b2 (right): 5 right, 1 wrong, 1 missed (a4c3)
    assert ev.matches_and_possible == PairMetrics(5, 1, 1)
    assert ev.matches_and_possible.f1 == pytest.approx(2 * (5 / 6) * (5 / 6) / (10 / 6))


def test_pairs_are_unordered_and_deduplicated():
    forward = PairTable.from_frame(pd.DataFrame(
        {"party_a": ["a", "b", "a"], "ref_a": ["x", "y", "x"],
         "party_b": ["b", "a", "a"], "ref_b": ["y", "x", "z"]}))
    assert len(forward) == 1  # b-a is a-b again; a-a is within one party
    assert pair_metrics(forward, forward) == PairMetrics(1, 0, 0)


def test_empty_cases():
    empty = group_pairs(MATCHES.iloc[:0])
    assert pair_metrics(empty, truth_pairs(TRUTH)) == PairMetrics(0, 0, 6)
    assert PairMetrics(0, 0, 0).precision == 1.0 and PairMetrics(0, 0, 0).recall == 1.0


def test_load_truth_accepts_agency_and_record_id_with_a_mapping(tmp_path):
    truth = tmp_path / "truth.csv"
    pd.DataFrame({"agency": ["a", "b"], "record_id": ["r1", "r2"], "entity_id": ["e", "e"]}
                 ).to_csv(truth, index=False)
    plain = load_truth(truth)
    assert plain.to_dict("records") == [{"party": "a", "ref": "r1", "entity_id": "e"},
                                        {"party": "b", "ref": "r2", "entity_id": "e"}]
    mapping = tmp_path / "map.csv"
    pd.DataFrame({"agency": ["a", "b"], "record_id": ["r1", "r2"], "ref": ["p1", "p2"]}
                 ).to_csv(mapping, index=False)
    mapped = load_truth(truth, mapping)
    assert mapped["ref"].tolist() == ["p1", "p2"]
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"who": ["a"]}).to_csv(bad, index=False)
    with pytest.raises(MatchingError, match="lacks columns"):
        load_truth(bad)


def test_evaluate_link_measures_blocking_on_the_records_present(make_encoded):
    person = set(range(30))
    a = make_encoded(["a1", "a2"], [[person], [set(range(40, 70))]])
    b = make_encoded(["b1", "b2"], [[person], [set(range(100, 128))]])
    truth = pd.DataFrame({"party": ["a", "b", "a", "b", "b"], "ref": ["a1", "b1", "a2", "b2", "gone"],
                          "entity_id": [1, 1, 2, 2, 2]})
    result = link({"a": a, "b": b}, MatchConfig(blocking=BlockingConfig(method="lsh", lsh_bands=16)),
                  keep_candidates=True)
    ev = evaluate_link(result, {"a": a, "b": b}, truth)
    assert ev.matches == PairMetrics(1, 0, 1)  # a2-b2 differ completely: missed
    bq = ev.blocking
    assert (bq.true_pairs, bq.total_pairs) == (2, 4)  # "gone" is not in the files
    assert bq.true_pairs_found == 1
    assert bq.pair_completeness == 0.5
    assert bq.reduction_ratio == 1 - bq.candidate_pairs / 4
    with pytest.raises(MatchingError, match="keep_candidates"):
        blocking_quality(link({"a": a, "b": b}, MatchConfig()), {"a": a, "b": b}, truth)
