"""Similarity kernels: every backend and CPU path agrees exactly with the pure-Python reference.

The C paths are parametrised over what this CPU supports (skipped with the reason when the
extension is not built or the CPU lacks the instructions). Tile sizes and the work split are
shrunk in the property tests so that tile edges, SIMD group tails and thread chunks all fall
inside the small random inputs.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.errors import MatchingError
from linkage.matching import kernels, reference

_C_PATHS = ("avx512", "avx2", "popcnt", "portable")


def _c_supported() -> tuple[tuple[str, ...], str | None]:
    mod, err = kernels._load_extension()
    return (tuple(mod.supported_paths()), None) if mod is not None else ((), err)


def _backend_params():
    supported, err = _c_supported()
    params = [pytest.param(("numpy", ""), id="numpy")]
    for path in _C_PATHS:
        if err is not None:
            marks = pytest.mark.skip(reason=f"C kernel unavailable: {err}")
        elif path not in supported:
            marks = pytest.mark.skip(reason=f"this CPU or build does not support the {path} path")
        else:
            marks = ()
        params.append(pytest.param(("c", path), id=f"c-{path}", marks=marks))
    return params


@pytest.fixture(params=_backend_params())
def backend(request, monkeypatch):
    name, path = request.param
    monkeypatch.setenv("LINKAGE_KERNEL", name)
    monkeypatch.setenv("LINKAGE_KERNEL_PATH", path)
    return name, path


PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@contextlib.contextmanager
def small_tiles(enabled: bool):
    """Shrink tiles, row blocks and the per-thread work floor (restored afterwards)."""
    names = ("_TILE_BYTES", "_ROW_BLOCK", "_NP_TILE_ROWS", "_NP_TILE_COLS", "_MIN_CHUNK_PAIRS",
             "_NP_PAIR_CHUNK")
    saved = {n: getattr(kernels, n) for n in names}
    if enabled:
        kernels._TILE_BYTES, kernels._ROW_BLOCK = 40, 3
        kernels._NP_TILE_ROWS, kernels._NP_TILE_COLS = 3, 5
        kernels._MIN_CHUNK_PAIRS, kernels._NP_PAIR_CHUNK = 1, 7
    try:
        yield
    finally:
        for n, v in saved.items():
            setattr(kernels, n, v)


def random_filters(rng: np.random.Generator, n: int, w: int, density: float) -> np.ndarray:
    bits = rng.random((n, 64 * w)) < density
    return np.packbits(bits, axis=1, bitorder="little").view("<u8").reshape(n, w).copy()


@st.composite
def filter_sets(draw, max_rows: int = 20):
    """(a, b): random filters with shared rows (ties, exact 1.0 scores) and empty rows."""
    w = draw(st.integers(1, 20))
    n, m = draw(st.integers(0, max_rows)), draw(st.integers(0, max_rows))
    density = draw(st.sampled_from([0.0, 0.03, 0.3, 0.5, 0.97, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a, b = random_filters(rng, n, w, density), random_filters(rng, m, w, density)
    if n and m:
        for _ in range(draw(st.integers(0, 4))):  # copies make ties and equal scores
            b[draw(st.integers(0, m - 1))] = a[draw(st.integers(0, n - 1))]
        for _ in range(draw(st.integers(0, 2))):
            b[draw(st.integers(0, m - 1))] = 0
        for _ in range(draw(st.integers(0, 2))):
            a[draw(st.integers(0, n - 1))] = 0
    return a, b


def as_tuples(r: kernels.PairScores) -> list[tuple[int, int, float]]:
    assert r.i.dtype == np.int64 and r.j.dtype == np.int64 and r.score.dtype == np.float64
    return list(zip(r.i.tolist(), r.j.tolist(), r.score.tolist(), strict=True))


def draw_threshold(data, a, b, metric: str, self_join: bool = False) -> float:
    """Mostly an exact score value of the data (the >= boundary), sometimes anything."""
    scores = sorted({s for _, _, s in reference.threshold_pairs(a, b, -1.0, metric=metric,
                                                                 self_join=self_join)})
    choices = [st.floats(-0.5, 1.5, allow_nan=False), st.sampled_from([0.0, 1.0])]
    if scores:
        choices.insert(0, st.sampled_from(scores))
    return data.draw(st.one_of(*choices))


# --- property tests against the reference --------------------------------------------------


@PROPERTY
@given(ab=filter_sets(), data=st.data(), metric=st.sampled_from(["dice", "jaccard"]),
       threads=st.sampled_from([1, 2]), tiny=st.booleans())
def test_threshold_matches_reference(backend, ab, data, metric, threads, tiny):
    a, b = ab
    t = draw_threshold(data, a, b, metric)
    expected = reference.threshold_pairs(a, b, t, metric=metric)
    with small_tiles(tiny):
        got = kernels.dice_threshold(a, b, t, metric=metric, threads=threads)
    assert as_tuples(got) == expected


@PROPERTY
@given(ab=filter_sets(), data=st.data(), metric=st.sampled_from(["dice", "jaccard"]),
       k=st.integers(1, 6), threads=st.sampled_from([1, 2]), tiny=st.booleans())
def test_topk_matches_reference(backend, ab, data, metric, k, threads, tiny):
    a, b = ab
    kind = data.draw(st.sampled_from(["zero", "negative", "drawn"]))
    t = {"zero": 0.0, "negative": -1.0}.get(kind) if kind != "drawn" else \
        draw_threshold(data, a, b, metric)
    expected = reference.topk_pairs(a, b, k, threshold=t, metric=metric)
    with small_tiles(tiny):
        got = kernels.dice_topk(a, b, k, threshold=t, metric=metric, threads=threads)
    assert as_tuples(got) == expected


@PROPERTY
@given(ab=filter_sets(), data=st.data(), metric=st.sampled_from(["dice", "jaccard"]),
       k=st.integers(1, 4), threads=st.sampled_from([1, 2]), tiny=st.booleans())
def test_self_join_matches_reference(backend, ab, data, metric, k, threads, tiny):
    a, _ = ab
    t = draw_threshold(data, a, a, metric, self_join=True)
    with small_tiles(tiny):
        got = kernels.dice_threshold(a, a.copy(), t, metric=metric, threads=threads,
                                     self_join=True)
        top = kernels.dice_topk(a, a, k, threshold=t, metric=metric, threads=threads,
                                self_join=True)
    assert as_tuples(got) == reference.threshold_pairs(a, a, t, metric=metric, self_join=True)
    assert all(i < j for i, j, _ in as_tuples(got))
    assert as_tuples(top) == reference.topk_pairs(a, a, k, threshold=t, metric=metric,
                                                  self_join=True)


@PROPERTY
@given(ab=filter_sets(), data=st.data(), metric=st.sampled_from(["dice", "jaccard"]),
       threads=st.sampled_from([1, 2]), tiny=st.booleans())
def test_score_pairs_and_popcounts_match_reference(backend, ab, data, metric, threads, tiny):
    a, b = ab
    if len(a) and len(b):
        q = data.draw(st.integers(0, 60))
        ia = data.draw(st.lists(st.integers(0, len(a) - 1), min_size=q, max_size=q))
        ib = data.draw(st.lists(st.integers(0, len(b) - 1), min_size=q, max_size=q))
    else:
        ia, ib = [], []
    with small_tiles(tiny):
        got = kernels.score_pairs(a, b, np.array(ia, dtype=np.int64),
                                  np.array(ib, dtype=np.int64), metric=metric, threads=threads)
        pops = kernels.popcounts(a)
    assert got.dtype == np.float64
    assert got.tolist() == reference.score_pairs(a, b, ia, ib, metric=metric)
    assert pops.dtype == np.uint32
    assert pops.tolist() == [x.bit_count() for x in reference.filter_ints(a)]


# 130 words: more than 31 AVX2 chunks (byte counters flushed mid-row) plus a tail;
# 1023: over 255 chunks, where the AVX2 sums no longer fit the 16-bit packing
@pytest.mark.parametrize("w", [4, 8, 16, 32, 33, 47, 130, 1023])
def test_wide_and_specialised_widths(backend, w):
    rng = np.random.default_rng(w)
    a, b = random_filters(rng, 13, w, 0.3), random_filters(rng, 21, w, 0.3)
    b[3], b[17] = a[5], a[5]
    with small_tiles(True):
        for metric in ("dice", "jaccard"):
            assert as_tuples(kernels.dice_threshold(a, b, 0.2, metric=metric, threads=2)) == \
                reference.threshold_pairs(a, b, 0.2, metric=metric)
            assert as_tuples(kernels.dice_topk(a, b, 3, metric=metric)) == \
                reference.topk_pairs(a, b, 3, metric=metric)


# --- exact edge cases ---------------------------------------------------------------------------


@pytest.mark.parametrize("t", [-float("inf"), -1e30, 1.0, 2.0, 1e30, float("inf")])
def test_extreme_thresholds(backend, t):
    """Prefilter bounds far outside the count range (clamped before integer conversion)."""
    rng = np.random.default_rng(7)
    for w in (16, 5):
        a, b = random_filters(rng, 9, w, 0.3), random_filters(rng, 14, w, 0.3)
        b[2], b[3], a[4] = a[1], 0, 0
        for metric in ("dice", "jaccard"):
            assert as_tuples(kernels.dice_threshold(a, b, t, metric=metric)) == \
                reference.threshold_pairs(a, b, t, metric=metric)
            assert as_tuples(kernels.dice_topk(a, b, 2, threshold=t, metric=metric)) == \
                reference.topk_pairs(a, b, 2, threshold=t, metric=metric)


def test_threshold_is_inclusive_at_the_exact_score(backend):
    a = np.array([[0b1111]], dtype=np.uint64)
    b = np.array([[0b0111], [0b0011]], dtype=np.uint64)
    # dice: 2*3/7 and 2*2/6; jaccard: 3/4 and 2/4
    r = kernels.dice_threshold(a, b, 2.0 * 3 / 7)
    assert as_tuples(r) == [(0, 0, 2.0 * 3 / 7)]
    r = kernels.dice_threshold(a, b, 0.5, metric="jaccard")
    assert as_tuples(r) == [(0, 0, 0.75), (0, 1, 0.5)]
    r = kernels.dice_threshold(a, b, np.nextafter(0.5, 1.0), metric="jaccard")
    assert as_tuples(r) == [(0, 0, 0.75)]


def test_empty_filters_score_zero(backend):
    z = np.zeros((3, 2), dtype=np.uint64)
    assert kernels.score_pairs(z, z, [0, 1], [2, 0]).tolist() == [0.0, 0.0]
    assert len(kernels.dice_threshold(z, z, 0.0)) == 9
    assert len(kernels.dice_threshold(z, z, 1e-300)) == 0
    assert as_tuples(kernels.dice_topk(z, z, 1, metric="jaccard")) == [
        (0, 0, 0.0), (1, 0, 0.0), (2, 0, 0.0)]


def test_topk_ties_go_to_the_lower_j(backend):
    a = np.array([[0xFF]], dtype=np.uint64)
    b = np.array([[0x0F], [0xFF], [0xF0], [0xFF], [0x0F]], dtype=np.uint64)
    assert as_tuples(kernels.dice_topk(a, b, 3)) == [
        (0, 0, 2 * 4 / 12), (0, 1, 1.0), (0, 3, 1.0)]
    assert as_tuples(kernels.dice_topk(a, b, 10, threshold=0.9)) == [(0, 1, 1.0), (0, 3, 1.0)]


@pytest.mark.parametrize(("n", "m"), [(0, 0), (0, 5), (5, 0)])
def test_empty_inputs(backend, n, m):
    a, b = np.zeros((n, 3), np.uint64), np.zeros((m, 3), np.uint64)
    for r in (kernels.dice_threshold(a, b, 0.5), kernels.dice_topk(a, b, 2)):
        assert len(r) == 0 and r.i.dtype == np.int64 and r.score.dtype == np.float64
    assert kernels.score_pairs(a, b, [], []).shape == (0,)
    assert kernels.popcounts(a).shape == (n,)


def test_self_join_excludes_the_diagonal_and_duplicates(backend):
    rng = np.random.default_rng(7)
    a = random_filters(rng, 30, 16, 0.3)
    a[10] = a[3]
    r = kernels.dice_threshold(a, a, 0.99, self_join=True)
    assert as_tuples(r) == [(3, 10, 1.0)]
    plain = kernels.dice_threshold(a, a, 0.99)
    assert len(plain) == 30 + 2  # the diagonal and both orders of the copy
    top = kernels.dice_topk(a, a, 1, self_join=True)
    assert (top.i != top.j).all() and len(top) == 30


def test_big_endian_and_strided_input_give_the_same_result(backend):
    rng = np.random.default_rng(3)
    a, b = random_filters(rng, 9, 5, 0.4), random_filters(rng, 11, 5, 0.4)
    expected = as_tuples(kernels.dice_threshold(a, b, 0.3))
    assert as_tuples(kernels.dice_threshold(a.astype(">u8"), np.asfortranarray(b), 0.3)) == expected
    wide = np.zeros((9, 10), np.uint64)
    wide[:, ::2] = a
    assert as_tuples(kernels.dice_threshold(wide[:, ::2], b, 0.3)) == expected


def test_bit_layout_is_little_endian_words():
    # bit i lives in word i // 64 at position i % 64 (linkage.format)
    bits = np.zeros((1, 128), dtype=bool)
    bits[0, [0, 63, 64, 127]] = True
    f = np.packbits(bits, axis=1, bitorder="little").view("<u8")
    assert f.tolist() == [[1 | 1 << 63, 1 | 1 << 63]]
    assert reference.filter_ints(f) == [1 | 1 << 63 | 1 << 64 | 1 << 127]
    assert kernels.popcounts(f).tolist() == [4]


def test_reference_scores_follow_the_contract():
    assert reference.score(0, 0, 0, "dice") == 0.0
    assert reference.score(0, 0, 0, "jaccard") == 0.0
    assert reference.score(3, 5, 4, "dice") == 2.0 * 3 / 9
    assert reference.score(3, 5, 4, "jaccard") == 3 / 6
    with pytest.raises(ValueError):
        reference.score(1, 1, 1, "cosine")


def test_numpy_without_bitwise_count_uses_the_lookup_table(monkeypatch):
    # numpy < 2 has no np.bitwise_count (pyproject allows numpy >= 1.26)
    monkeypatch.setenv("LINKAGE_KERNEL", "numpy")
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert kernels.kernel_info().cpu_path == "lookup_table"
    rng = np.random.default_rng(5)
    a, b = random_filters(rng, 7, 3, 0.4), random_filters(rng, 9, 3, 0.4)
    assert kernels.popcounts(a).tolist() == [x.bit_count() for x in reference.filter_ints(a)]
    assert as_tuples(kernels.dice_threshold(a, b, 0.3)) == reference.threshold_pairs(a, b, 0.3)
    assert kernels.score_pairs(a, b, [0, 6], [8, 1]).tolist() == \
        reference.score_pairs(a, b, [0, 6], [8, 1])


def test_numpy_backend_never_builds_the_full_matrix(monkeypatch):
    monkeypatch.setenv("LINKAGE_KERNEL", "numpy")
    rng = np.random.default_rng(11)
    a, b = random_filters(rng, 1500, 16, 0.3), random_filters(rng, 1500, 16, 0.3)
    tracemalloc.start()
    try:
        kernels.dice_threshold(a, b, 0.9, threads=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1500 * 1500 * 8 / 4  # well under one float64 n x m matrix


def longest_python_gap_during(call) -> float:
    """Run call() in a worker thread while this thread keeps running Python; return the
    longest stretch of the call without a step of this thread, as a fraction of the call."""
    window: dict[str, float] = {}

    def work():
        window["start"] = time.perf_counter()
        call()
        window["end"] = time.perf_counter()

    worker = threading.Thread(target=work)
    stamps = []
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())
    worker.join()
    inside = [t for t in stamps if window["start"] <= t <= window["end"]]
    edges = [window["start"], *inside, window["end"]]
    return max(y - x for x, y in itertools.pairwise(edges)) / (window["end"] - window["start"])


def test_c_kernel_releases_the_gil(monkeypatch):
    # A kernel holding the GIL leaves one gap of ~95% of the call on every attempt; a
    # loaded machine can deschedule this thread for a while, hence the best of 3.
    _, err = _c_supported()
    if err is not None:
        pytest.skip(f"C kernel unavailable: {err}")
    monkeypatch.setenv("LINKAGE_KERNEL", "c")
    monkeypatch.delenv("LINKAGE_KERNEL_PATH", raising=False)
    a = random_filters(np.random.default_rng(13), 8000, 16, 0.3)
    be = kernels._resolve()
    problem = kernels._problem(be, a, a, 0.9, "dice", False)
    gaps = []
    for _ in range(3):  # the C call alone, for rows 0..n in one chunk
        gaps.append(longest_python_gap_during(
            lambda: kernels._c_call(be, "threshold", problem, 0, 0, len(a))))
        if gaps[-1] < 0.7:
            break
    assert min(gaps) < 0.7, gaps


# --- backend selection and input errors -----------------------------------------------------------


def test_kernel_info_follows_the_environment(monkeypatch):
    monkeypatch.setenv("LINKAGE_KERNEL", "numpy")
    info = kernels.kernel_info()
    assert info.backend == "numpy" and info.cpu_path in ("bitwise_count", "lookup_table")
    assert info.default_threads >= 1
    supported, err = _c_supported()
    if err is not None:
        pytest.skip(f"C kernel unavailable: {err}")
    monkeypatch.setenv("LINKAGE_KERNEL", "auto")
    monkeypatch.delenv("LINKAGE_KERNEL_PATH", raising=False)
    info = kernels.kernel_info()
    assert info.backend == "c" and info.cpu_path == supported[0]
    assert info.available_paths == supported and "portable" in supported
    monkeypatch.setenv("LINKAGE_KERNEL_PATH", "portable")
    assert kernels.kernel_info().cpu_path == "portable"


def test_bad_environment_is_refused(monkeypatch):
    monkeypatch.setenv("LINKAGE_KERNEL", "gpu")
    with pytest.raises(MatchingError, match="LINKAGE_KERNEL"):
        kernels.kernel_info()
    supported, err = _c_supported()
    if err is not None:
        pytest.skip(f"C kernel unavailable: {err}")
    monkeypatch.setenv("LINKAGE_KERNEL", "c")
    monkeypatch.setenv("LINKAGE_KERNEL_PATH", "sse9")
    with pytest.raises(MatchingError, match="LINKAGE_KERNEL_PATH"):
        kernels.popcounts(np.zeros((1, 1), np.uint64))
    missing = [p for p in _C_PATHS if p not in supported]
    if missing:
        monkeypatch.setenv("LINKAGE_KERNEL_PATH", missing[0])
        with pytest.raises(MatchingError, match="not supported"):
            kernels.popcounts(np.zeros((1, 1), np.uint64))


def test_bad_inputs_are_refused(backend):
    f = np.zeros((2, 2), np.uint64)
    with pytest.raises(MatchingError, match="uint64"):
        kernels.dice_threshold(f.astype(np.int64), f, 0.5)
    with pytest.raises(MatchingError, match="2-D"):
        kernels.popcounts(np.zeros(4, np.uint64))
    with pytest.raises(MatchingError, match="differ in length"):
        kernels.dice_threshold(f, np.zeros((2, 3), np.uint64), 0.5)
    with pytest.raises(MatchingError, match="metric"):
        kernels.dice_threshold(f, f, 0.5, metric="cosine")
    with pytest.raises(MatchingError, match="NaN"):
        kernels.dice_threshold(f, f, float("nan"))
    with pytest.raises(MatchingError, match="self_join"):
        kernels.dice_threshold(f, np.ones((2, 2), np.uint64), 0.5, self_join=True)
    with pytest.raises(MatchingError, match="k must"):
        kernels.dice_topk(f, f, -1)
    with pytest.raises(MatchingError, match="threads"):
        kernels.dice_threshold(f, f, 0.5, threads=0)
    with pytest.raises(MatchingError, match="out of range"):
        kernels.score_pairs(f, f, [0, 2], [0, 0])
    with pytest.raises(MatchingError, match="differ in length"):
        kernels.score_pairs(f, f, [0, 1], [0])
    assert len(kernels.dice_threshold(f, f, float("inf"))) == 0
