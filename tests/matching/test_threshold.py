"""Threshold suggestion without ground truth recovers the valley and its precision."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from linkage.matching.threshold import ScoreHistogram, histogram_counts, suggest_threshold

NON_MATCH = (20.0, 30.0)  # Beta(a, b): mean 0.40
MATCH = (45.0, 5.0)  # mean 0.90


def sample(n_non: int, n_match: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.beta(*NON_MATCH, n_non), rng.beta(*MATCH, n_match)])
    labels = np.concatenate([np.zeros(n_non, bool), np.ones(n_match, bool)])
    return scores, labels


def histogram(scores: np.ndarray) -> ScoreHistogram:
    h = ScoreHistogram.empty()
    h.add(scores)
    return h


def bayes_point(n_non: int, n_match: int) -> float:
    """Where the true weighted densities cross between the modes."""
    x = np.linspace(0.45, 0.85, 40001)
    diff = n_match * stats.beta.pdf(x, *MATCH) - n_non * stats.beta.pdf(x, *NON_MATCH)
    return float(x[np.flatnonzero(diff >= 0)[0]])


@pytest.mark.parametrize(("n_non", "n_match"), [(20_000, 2_000), (200_000, 1_000),
                                                (5_000, 5_000)])
def test_suggestion_recovers_the_valley_and_its_precision(n_non, n_match):
    scores, labels = sample(n_non, n_match)
    s = suggest_threshold(histogram(scores))
    assert s is not None and s.converged and s.bimodal and s.reliable
    assert s.threshold == pytest.approx(bayes_point(n_non, n_match), abs=0.03)
    # the mixture density is low there: well below both modes
    density = np.histogram(scores, bins=100, range=(0, 1))[0]
    at = density[int(s.threshold * 100)]
    assert at < 0.05 * min(density[:60].max(), density[60:].max())
    above = scores >= s.threshold
    true_precision = labels[above].mean()
    true_recall = above[labels].mean()
    assert s.estimated_precision == pytest.approx(true_precision, abs=0.01)
    assert s.estimated_recall == pytest.approx(true_recall, abs=0.01)
    assert s.estimated_matches == pytest.approx(n_match, rel=0.05)
    assert s.match.mean == pytest.approx(0.9, abs=0.01)
    assert s.non_match.mean == pytest.approx(0.4, abs=0.01)
    assert s.possible_threshold <= s.threshold
    assert s.possible_estimated_recall >= s.estimated_recall
    # the estimates at any threshold, and from the two sides of the model directly
    assert s.precision_at(s.threshold) == s.estimated_precision
    assert s.recall_at(s.possible_threshold) == s.possible_estimated_recall
    m = s.match.weight * (1 - s.match.cdf(s.threshold))
    n = s.non_match.weight * (1 - s.non_match.cdf(s.threshold))
    assert m / (m + n) == pytest.approx(s.estimated_precision)


def test_a_heavy_tail_of_near_misses_does_not_inflate_the_estimates():
    # Blocked candidates of real encodings: a main non-match mode, a tail of look-alike
    # non-matches, and a broad match mode reaching 1.0 (identical encodings).
    rng = np.random.default_rng(3)
    parts = [rng.beta(17, 34, 20_000), rng.beta(30, 30, 1_500), rng.beta(9, 1.6, 1_200)]
    scores = np.concatenate(parts)
    labels = np.concatenate([np.zeros(21_500, bool), np.ones(1_200, bool)])
    s = suggest_threshold(histogram(scores))
    assert s is not None and s.reliable and len(s.non_match.components) == 2
    above = scores >= s.threshold
    assert labels[above].mean() > 0.9  # the suggestion itself is sound
    assert s.estimated_precision == pytest.approx(labels[above].mean(), abs=0.03)
    assert s.estimated_recall == pytest.approx(above[labels].mean(), abs=0.03)
    assert s.estimated_matches == pytest.approx(1_200, rel=0.1)


def test_a_spike_of_identical_encodings_stays_on_the_match_side():
    # Candidates from effective encoded blocking keys: few non-matches, a broad match mode
    # and a spike of identical encodings at 1.0.
    rng = np.random.default_rng(4)
    scores = np.concatenate([rng.beta(15, 25, 600), rng.beta(14, 3.5, 2_000),
                             rng.beta(300, 3, 1_500)])
    labels = np.concatenate([np.zeros(600, bool), np.ones(3_500, bool)])
    s = suggest_threshold(histogram(scores))
    assert s is not None and len(s.match.components) == 2
    above = scores >= s.threshold
    assert above[labels].mean() > 0.97 and labels[above].mean() > 0.97
    assert s.estimated_recall == pytest.approx(above[labels].mean(), abs=0.03)
    assert s.estimated_matches == pytest.approx(3_500, rel=0.05)


def test_overlapping_modes_report_lower_precision():
    rng = np.random.default_rng(1)
    scores = np.concatenate([rng.beta(30, 30, 20_000), rng.beta(35, 15, 2_000)])  # 0.5, 0.7
    labels = np.concatenate([np.zeros(20_000, bool), np.ones(2_000, bool)])
    s = suggest_threshold(histogram(scores))
    assert s is not None
    above = scores >= s.threshold
    assert s.estimated_precision < 0.95
    assert s.estimated_precision == pytest.approx(labels[above].mean(), abs=0.05)


def test_too_few_scores_give_no_suggestion():
    assert suggest_threshold(histogram(np.array([0.5, 0.9]))) is None
    assert suggest_threshold(ScoreHistogram.empty()) is None


def test_a_single_mode_is_flagged_unreliable():
    rng = np.random.default_rng(2)
    s = suggest_threshold(histogram(rng.beta(20, 30, 50_000)))
    assert s is None or not s.reliable


def test_histogram_bins_include_both_ends():
    counts = histogram_counts(np.array([0.0, 0.004999, 0.005, 0.5, 0.999, 1.0]), bins=200)
    assert counts.sum() == 6
    assert counts[0] == 2 and counts[1] == 1 and counts[100] == 1 and counts[199] == 2
    h = histogram(np.array([0.1, 0.8, 0.8, 1.0]))
    assert h.count_at_least(0.8) == 3
    assert h.edges[0] == 0.0 and h.edges[-1] == 1.0
