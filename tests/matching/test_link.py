"""The facade: determinism, order independence, progress, cancellation, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from linkage.errors import MatchingError
from linkage.format import EncodedData
from linkage.matching import (
    BlockingConfig,
    LinkCancelled,
    LinkProgress,
    LinkResult,
    MatchConfig,
    MatchGroup,
    link,
    matches_table,
)
from linkage.matching.simulate import simulate_parties

SIM = simulate_parties(60, ["c", "a", "f", "b"], coverage=0.6, alias_rate=0.3,
                       duplicate_rate=0.1, flip=(0.02, 0.12), seed=11)


def shuffled(data: EncodedData, rng: np.random.Generator) -> EncodedData:
    """The same records in another order (variants stay with their record, in order)."""
    order = rng.permutation(data.n_records)
    offsets = data.row_offsets
    rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in order])
    return EncodedData(data.refs[order], data.variant_counts[order], data.clk[rows],
                       {f: v[rows] for f, v in data.fields.items()},
                       {k: [v[i] for i in order] for k, v in data.blocking.items()})


def by_refs(result: LinkResult, parties: dict[str, EncodedData]):
    return [(g.match_id, g.decision, round(g.score, 12),
             tuple((m.party, parties[m.party].refs[m.record_index]) for m in g.members))
            for g in result.groups]


CONFIGS = [
    MatchConfig(threshold=0.85, possible_threshold=0.75),
    MatchConfig(threshold=0.85, possible_threshold=0.75, allow_duplicates=True),
    MatchConfig(threshold=0.85, possible_threshold=0.7, solver="many_to_many"),
    MatchConfig(threshold=0.8, blocking=BlockingConfig(method="none")),
]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(range(len(CONFIGS))))
def test_groups_and_ids_do_not_depend_on_input_order(seed, which):
    config = CONFIGS[which]
    rng = np.random.default_rng(seed)
    names = list(SIM.parties)
    rng.shuffle(names)
    parties = {n: shuffled(SIM.parties[n], rng) for n in names}
    expected = by_refs(link(SIM.parties, config), SIM.parties)
    assert expected, "the fixture should produce groups"
    assert by_refs(link(parties, config), parties) == expected


def test_two_party_optimal_is_order_independent_too():
    two = {n: SIM.parties[n] for n in ("a", "b")}
    config = MatchConfig(threshold=0.85, possible_threshold=0.7, solver="optimal")
    expected = by_refs(link(two, config), two)
    rng = np.random.default_rng(5)
    for _ in range(5):
        parties = {n: shuffled(two[n], rng) for n in ("b", "a")}
        assert by_refs(link(parties, config), parties) == expected


def test_result_is_made_of_named_types_with_sequential_ids():
    result = link(SIM.parties, MatchConfig())
    assert isinstance(result, LinkResult)
    assert all(isinstance(g, MatchGroup) for g in result.groups)
    ids = [g.match_id for g in result.groups]
    assert ids == [f"M{k:06d}" for k in range(1, len(ids) + 1)]
    decisions = [g.decision for g in result.groups]
    assert decisions == sorted(decisions, key=lambda d: d != "match")
    for g in result.groups:
        parties = [m.party for m in g.members]
        assert parties == sorted(parties)
    assert result.parties == ("a", "b", "c", "f")
    assert result.score_histogram.total == result.candidate_pairs
    assert result.comparisons >= result.candidate_pairs
    assert set(result.durations) >= {"blocking", "scoring", "solving", "total"}
    table = matches_table(result, SIM.parties)
    assert list(table.columns) == ["match_id", "decision", "party", "ref", "score",
                                   "cluster_size"]
    assert len(table) == sum(len(g.members) for g in result.groups)


def test_progress_reports_every_stage_in_order():
    seen: list[LinkProgress] = []
    link(SIM.parties, MatchConfig(blocking=BlockingConfig(method="lsh", lsh_bands=5)), progress=seen.append)
    stages = [p.stage for p in seen]
    assert stages[0] == "blocking" and stages[-1] == "solving"
    assert stages.index("scoring") > max(i for i, s in enumerate(stages) if s == "blocking")
    blocking = [p for p in seen if p.stage == "blocking" and p.total == 5]
    assert [p.done for p in blocking] == [1, 2, 3, 4, 5]
    scoring = [p for p in seen if p.stage == "scoring"]
    assert scoring[-1].done == scoring[-1].total and scoring[-1].comparisons > 0


@pytest.mark.parametrize("stop_after", [1, 3, 8])
def test_cancelled_stops_with_link_cancelled(stop_after):
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] >= stop_after

    with pytest.raises(LinkCancelled, match="cancelled") as info:
        config = MatchConfig(blocking=BlockingConfig(method="lsh", lsh_bands=5))
        link(SIM.parties, config, cancelled=cancelled)
    assert isinstance(info.value, MatchingError)
    assert calls["n"] == stop_after


def test_config_is_validated():
    with pytest.raises(ValidationError, match="possible_threshold must not exceed threshold"):
        MatchConfig(threshold=0.7, possible_threshold=0.8)
    with pytest.raises(ValidationError, match="cannot allow duplicates"):
        MatchConfig(solver="optimal", allow_duplicates=True)
    with pytest.raises(ValidationError):
        MatchConfig(blocking={"method": "lsh", "unknown": 1})
    with pytest.raises(ValidationError):
        BlockingConfig(lsh_rows=65)
    with pytest.raises(ValidationError):
        MatchConfig(field_weights={"name": 0.0})
    config = MatchConfig()
    with pytest.raises(ValidationError):
        config.threshold = 0.5  # frozen


def test_inputs_that_cannot_be_linked_are_refused():
    one = {"a": SIM.parties["a"]}
    with pytest.raises(MatchingError, match="2 to 20 parties"):
        link(one, MatchConfig())
    with pytest.raises(MatchingError, match="optimal solver links exactly two parties"):
        link(SIM.parties, MatchConfig(solver="optimal"))
    narrow = EncodedData(np.array(["x"], dtype=object), np.array([1], dtype=np.uint8),
                         np.zeros((1, 2), dtype=np.uint64))
    with pytest.raises(MatchingError, match="filter length differs"):
        link({"a": SIM.parties["a"], "z": narrow}, MatchConfig())


def test_keep_candidates_returns_every_scored_pair():
    result = link(SIM.parties, MatchConfig(), keep_candidates=True)
    c = result.candidates
    assert len(c) == result.candidate_pairs
    assert (c.party_a < c.party_b).all()
    assert result.score_histogram.total == len(c)
    without = link(SIM.parties, MatchConfig())
    assert without.candidates is None
    assert [g.match_id for g in without.groups] == [g.match_id for g in result.groups]
