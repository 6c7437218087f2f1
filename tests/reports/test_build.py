"""Pieces of the database-to-report builder that need no database."""

from __future__ import annotations

import numpy as np
import pytest

from service.reports.build import _durations, _flatten, display_histogram, precision_at


def _engine_histogram(seed: int = 3, matches: int = 300, non_matches: int = 20_000) -> dict:
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.beta(8, 14, non_matches), rng.beta(40, 3, matches)])
    counts = np.bincount(np.clip((scores * 200).astype(int), 0, 199), minlength=200)
    return {"edges": list(np.linspace(0, 1, 201)), "counts": counts.tolist(), "truth": scores}


def test_display_histogram_merges_bins_and_keeps_the_total():
    raw = _engine_histogram()
    hist = display_histogram(raw)
    assert len(hist.counts) == 40 and len(hist.edges) == 41
    assert sum(hist.counts) == sum(raw["counts"])
    assert hist.edges[0] == 0.0 and hist.edges[-1] == 1.0
    assert 0.8 in hist.edges and 0.7 in hist.edges and 0.75 in hist.edges  # thresholds on edges


@pytest.mark.parametrize(("bins", "shown"), [(7, 7), (40, 40), (50, 25), (53, 27), (1000, 40)])
def test_display_histogram_with_other_bin_counts(bins, shown):
    raw = {"edges": list(np.linspace(0, 1, bins + 1)), "counts": [1] * bins}
    hist = display_histogram(raw)
    assert sum(hist.counts) == bins and len(hist.counts) == shown
    assert hist.edges[0] == 0 and hist.edges[-1] == 1


def test_no_histogram():
    assert display_histogram(None) is None and display_histogram({"edges": [], "counts": []}) is None


def test_precision_estimate_is_close_to_the_truth():
    raw = _engine_histogram()
    precision, note = precision_at(raw, 0.8)
    scores = raw["truth"]
    is_match = np.arange(len(scores)) >= 20_000
    true_precision = is_match[scores >= 0.8].mean()
    assert precision is not None and abs(precision - true_precision) < 0.02, (precision, true_precision)
    assert "beta mixture" in note


def test_precision_needs_enough_scores_and_a_threshold():
    assert precision_at({"edges": [0, 0.5, 1], "counts": [3, 2]}, 0.8)[0] is None
    assert precision_at(None, 0.8) == (None, "The run recorded no score distribution to estimate it from.")
    assert precision_at(_engine_histogram(), None)[0] is None


def test_flatten_settings():
    flat = _flatten({"solver": "greedy", "blocking": {"method": "lsh", "keys": None},
                     "weights": [1, 2], "dup": False, "empty": []})
    assert flat == {"solver": "greedy", "blocking.method": "lsh", "blocking.keys": "none",
                    "weights": "1, 2", "dup": "false", "empty": "none"}


def test_engine_total_is_not_a_stage():
    stages = _durations({"blocking": 1.0, "total": 3.5, "scoring": 2.0})
    assert [s.stage for s in stages] == ["blocking", "scoring", "matching engine, all stages"]
