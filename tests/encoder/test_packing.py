"""Setting records' bits from their cells' tokens: the C extension against numpy, and both
against a bit-by-bit reference written from the definition."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.bloom import packing
from linkage.bloom.packing import or_cell_bits


def _reference(out, rows, cells, starts, tokens, words, bits):
    out = out.copy()
    for r, c in zip(rows.tolist(), cells.tolist(), strict=True):
        for t in tokens[starts[c] : starts[c + 1]].tolist():
            for word in words[t].tolist():
                p = word % bits
                out[r, p // 64] |= np.uint64(1) << np.uint64(p % 64)
    return out


@st.composite
def problems(draw):
    w = draw(st.sampled_from([1, 2, 8, 16]))
    bits = draw(st.one_of(st.just(64 * w), st.integers(1, 64 * w)))
    n_rows = draw(st.integers(1, 12))
    sizes = draw(st.lists(st.integers(0, 5), min_size=1, max_size=10))
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n_tokens, k = draw(st.integers(1, 8)), draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, n_tokens, int(starts[-1])).astype(np.int64)
    words = rng.integers(0, 2**32, (n_tokens, k), dtype=np.uint64).astype(np.uint32)
    m = draw(st.integers(0, 30))
    rows = rng.integers(0, n_rows, m).astype(np.int64)
    cells = rng.integers(0, len(sizes), m).astype(np.int64)
    start = rng.integers(0, 2**63, (n_rows, w)).astype(np.uint64) * draw(st.sampled_from([0, 1]))
    return start.astype(np.uint64), rows, cells, starts, tokens, words, bits


@settings(max_examples=150, deadline=None)
@given(problems())
def test_native_and_numpy_set_the_bits_of_the_definition(problem):
    start, *args = problem
    want = _reference(start, *args)
    for native in (True, False):
        out = start.copy()
        or_cell_bits(out, *args, native=native)
        assert np.array_equal(out, want)


@pytest.mark.parametrize("native", [True, False])
def test_bits_beyond_the_filter_length_are_never_set(native):
    out = np.zeros((1, 2), dtype=np.uint64)
    words = np.arange(0, 4000, 7, dtype=np.uint32).reshape(1, -1)
    or_cell_bits(out, np.array([0]), np.array([0]), np.array([0, 1]), np.array([0]), words, 100,
                 native=native)
    assert int(out[0, 1]) >> (100 - 64) == 0
    assert bin(int(out[0, 0])).count("1") + bin(int(out[0, 1])).count("1") == 100


@pytest.mark.parametrize(
    ("rows", "cells", "starts", "tokens", "message"),
    [
        ([2], [0], [0, 1], [0], "rows"),
        ([-1], [0], [0, 1], [0], "rows"),
        ([0], [1], [0, 1], [0], "cells"),
        ([0], [0], [0, 1], [3], "tokens"),
        ([0], [0], [1, 0], [0], "starts"),
    ],
)
def test_native_rejects_out_of_range_indexes_without_writing(rows, cells, starts, tokens, message):
    if packing._bits is None:
        pytest.skip("extension not built here")
    out = np.zeros((2, 1), dtype=np.uint64)
    words = np.ones((1, 3), dtype=np.uint32)
    with pytest.raises(ValueError, match=message):
        or_cell_bits(out, np.array(rows), np.array(cells), np.array(starts), np.array(tokens),
                     words, 64)
    assert not out.any()


def test_native_rejects_a_read_only_or_wrongly_typed_output():
    if packing._bits is None:
        pytest.skip("extension not built here")
    args = (np.array([0]), np.array([0]), np.array([0, 1]), np.array([0]),
            np.ones((1, 3), dtype=np.uint32), 64)
    frozen = np.zeros((1, 1), dtype=np.uint64)
    frozen.flags.writeable = False
    with pytest.raises((TypeError, ValueError, BufferError)):
        or_cell_bits(frozen, *args)
    with pytest.raises(TypeError, match="out"):
        or_cell_bits(np.zeros((1, 2), dtype=np.uint32), *args)


def test_native_bits_extension_is_built_in_ci():
    """.ci/run sets LINKAGE_TEST_REQUIRE_NATIVE: there the C path must be the one tested."""
    if not os.environ.get("LINKAGE_TEST_REQUIRE_NATIVE") and packing._bits is None:
        pytest.skip("extension not built here")
    assert packing._bits is not None
