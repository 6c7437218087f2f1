"""The small-count rule and the report model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.reports.model import (
    RetentionItem,
    RunReport,
    ScoreHistogram,
    present_count,
    present_counts,
    present_partition,
    suppress,
)


@pytest.mark.parametrize(
    ("count", "k", "text"),
    [(0, 5, "0"), (1, 5, "< 5"), (4, 5, "< 5"), (5, 5, "5"), (123456, 5, "123456"),
     (9, 10, "< 10"), (10, 10, "10"), (1, 1, "1"), (0, 1, "0")],
)
def test_suppress(count, k, text):
    assert suppress(count, k) == text


def test_suppress_default_k_is_five():
    assert suppress(4) == "< 5" and suppress(5) == "5"


@pytest.mark.parametrize(("count", "k"), [(-1, 5), (3, 0), (3, -2)])
def test_suppress_rejects_negative_counts_and_k_below_one(count, k):
    with pytest.raises(ValueError):
        suppress(count, k)


@given(st.integers(0, 10_000), st.integers(1, 50))
def test_a_shown_count_never_reveals_a_small_one(count, k):
    shown = present_count(count, k)
    if 0 < count < k:
        assert shown.suppressed and shown.exact is None and shown.text == f"< {k}"
        assert shown.bar_height == k  # the same for every hidden count: reveals nothing
    else:
        assert not shown.suppressed and shown.exact == count and shown.text == str(count)
        assert shown.bar_height == count


def _recoverable(counts, shown) -> bool:
    """Can a hidden cell be computed from the published total and the shown cells?"""
    hidden = [i for i, s in enumerate(shown) if s.suppressed]
    return len(hidden) == 1 and counts[hidden[0]] > 0


@given(st.lists(st.integers(0, 60), min_size=1, max_size=12), st.integers(2, 10))
def test_partition_never_lets_the_total_give_a_small_cell_away(counts, k):
    shown = present_partition(counts, k)
    small = [i for i, c in enumerate(counts) if 0 < c < k]
    others = [i for i, c in enumerate(counts) if c >= k]
    assert all(shown[i].suppressed for i in small)
    if small and others:
        assert not _recoverable(counts, shown)
    assert sum(s.suppressed for s in shown) in (len(small), len(small) + 1)
    for s, c in zip(shown, counts, strict=True):
        if s.reason == "complementary":
            assert s.text == "hidden" and s.exact is None and c >= k
            assert s.bar_height % k == 0 and s.bar_height >= k


def test_partition_hides_the_smallest_other_cell():
    shown = present_partition([145, 2, 30, 0], 5)
    assert [s.text for s in shown] == ["145", "< 5", "hidden", "0"]


def test_partition_with_two_small_cells_needs_no_complement():
    assert [s.text for s in present_partition([145, 2, 3], 5)] == ["145", "< 5", "< 5"]


def test_partition_never_hides_a_zero():
    assert [s.text for s in present_partition([0, 3, 0], 5)] == ["0", "< 5", "0"]


def test_present_counts_keeps_order():
    assert [s.text for s in present_counts([7, 1, 0])] == ["7", "< 5", "0"]


def test_histogram_validation():
    ScoreHistogram((0.0, 0.5, 1.0), (3, 4))
    with pytest.raises(ValueError):
        ScoreHistogram((0.0, 1.0), (3, 4))
    with pytest.raises(ValueError):
        ScoreHistogram((0.0, 0.5, 0.5), (3, 4))
    with pytest.raises(ValueError):
        ScoreHistogram((0.0, 0.5, 1.0), (3, -1))


def test_retention_status():
    now = datetime(2025, 1, 10, tzinfo=UTC)
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    assert RetentionItem("a", past, future).status(now) == "held until deletion date"
    assert RetentionItem("a", past, past).status(now) == "deletion overdue"
    assert RetentionItem("a", past, future, deleted_at=past).status(now) == "erased"
    assert RetentionItem("a", past, None).status(now) == "kept until the agency replaces or deletes it"
    naive = RetentionItem("a", None, future.replace(tzinfo=None))
    assert naive.status(now) == "held until deletion date"


def test_run_total_seconds():
    t = datetime(2025, 1, 1, tzinfo=UTC)
    base = dict(project="p", run="r", status="succeeded", agencies=(), schema_fingerprint="",
                filter_bits=None, threshold=None)
    assert RunReport(**base).total_seconds is None
    report = RunReport(**base, started_at=t, finished_at=t + timedelta(seconds=90))
    assert report.total_seconds == 90
