"""The truth file is consistent with the records, and pairs and clusters derive from it."""

from __future__ import annotations

import itertools

import pandas as pd

from synthetic_data import RECORD_COLUMNS, TRUTH_COLUMNS, RecordRef, true_clusters, true_pairs


def test_columns_are_the_contract(medium) -> None:
    assert tuple(medium.truth.columns) == TRUTH_COLUMNS
    for frame in medium.agencies.values():
        assert tuple(frame.columns) == RECORD_COLUMNS
        assert all(frame[c].map(type).eq(str).all() for c in frame.columns)


def test_one_truth_row_per_record(medium) -> None:
    assert not medium.truth.duplicated(["agency", "record_id"]).any()
    for name, frame in medium.agencies.items():
        assert frame["record_id"].is_unique
        assert frame["record_id"].str.fullmatch(r"[A-Z]-\d{7}").all()
        rows = medium.truth[medium.truth["agency"] == name]
        assert list(rows["record_id"]) == list(frame["record_id"])


def test_record_ids_say_nothing_about_entities(medium) -> None:
    """Records are shuffled: record order is not entity order."""
    rows = medium.truth[medium.truth["agency"] == "agency_a"]
    entity_order = rows["entity_id"].str[1:].astype(int)
    assert not entity_order.is_monotonic_increasing
    assert abs(entity_order.corr(pd.Series(range(len(rows)), index=rows.index))) < 0.1


def test_pairs_and_clusters() -> None:
    truth = pd.DataFrame({
        "agency": ["a", "a", "b", "b", "c", "a"],
        "record_id": ["1", "2", "1", "2", "1", "3"],
        "entity_id": ["x", "y", "x", "z", "x", "y"],
    })
    clusters = true_clusters(truth)
    assert clusters["x"] == (RecordRef("a", "1"), RecordRef("b", "1"), RecordRef("c", "1"))
    assert clusters["z"] == (RecordRef("b", "2"),)
    assert "z" not in true_clusters(truth, include_singletons=False)
    pairs = true_pairs(truth)
    assert pairs == {
        (RecordRef("a", "1"), RecordRef("b", "1")), (RecordRef("a", "1"), RecordRef("c", "1")),
        (RecordRef("b", "1"), RecordRef("c", "1")), (RecordRef("a", "2"), RecordRef("a", "3")),
    }
    assert (RecordRef("a", "2"), RecordRef("a", "3")) not in true_pairs(
        truth, cross_agency_only=True)


def test_pairs_match_cluster_sizes(medium) -> None:
    sizes = medium.truth.groupby("entity_id").size()
    pairs = true_pairs(medium.truth)
    assert len(pairs) == int((sizes * (sizes - 1) // 2).sum())
    for a, b in itertools.islice(pairs, 200):
        assert a < b
    by_ref = dict(zip(zip(medium.truth["agency"], medium.truth["record_id"], strict=True),
                      medium.truth["entity_id"], strict=True))
    assert all(by_ref[tuple(a)] == by_ref[tuple(b)] for a, b in pairs)
