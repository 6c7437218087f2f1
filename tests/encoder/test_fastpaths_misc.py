"""Smaller fast paths held to their references: xor-fold hardening, column factorisation,
integer-array helpers and the columnar blocking-key parts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.arrays import ranges, unique_sorted
from linkage.bloom.columns import _as_text, factorise
from linkage.bloom.fieldvalues import blocking_part_column, blocking_part_values, phonetic_algorithm
from linkage.bloom.hardening import harden, pack_bits, unpack_bits
from linkage.schema import (
    BlockingKeyPart,
    DateNormaliser,
    DateTokeniser,
    FieldSpec,
    HardeningSpec,
    NameNormaliser,
    PhoneticTokeniser,
    QGramTokeniser,
)

FAST = settings(max_examples=150, deadline=None)
KEY = bytes(range(32))

# -- hardening: xor_fold alone ------------------------------------------------------------


def _dense_fold(filters: np.ndarray) -> np.ndarray:
    dense = unpack_bits(filters)
    half = dense.shape[1] // 2
    return pack_bits(np.ascontiguousarray(dense[:, :half] ^ dense[:, half:]))


@pytest.mark.parametrize("words", [2, 4, 16])
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 9))
def test_xor_fold_shortcut_equals_dense_fold(words, seed, rows):
    rng = np.random.default_rng(seed)
    filters = rng.integers(0, 2**64, size=(rows, words), dtype=np.uint64, endpoint=False)
    got = harden(filters, HardeningSpec(xor_fold=True), KEY)
    want = _dense_fold(filters)
    assert got.dtype == np.uint64 and got.shape == (rows, words // 2)
    np.testing.assert_array_equal(got, want)


def test_xor_fold_shortcut_on_known_bits():
    filters = np.array([[0xFFFF_0000_0000_0001, 0x0F0F, 1 << 63, 0]], dtype=np.uint64)
    got = harden(filters, HardeningSpec(xor_fold=True), KEY)
    np.testing.assert_array_equal(got, np.array([[0x7FFF_0000_0000_0001, 0x0F0F]], dtype=np.uint64))
    np.testing.assert_array_equal(got, _dense_fold(filters))


def test_xor_fold_shortcut_takes_non_contiguous_input():
    rng = np.random.default_rng(3)
    big = rng.integers(0, 2**64, size=(6, 8), dtype=np.uint64, endpoint=False)
    view = big[::2, 2:6]  # strided rows, 4 words
    np.testing.assert_array_equal(harden(view, HardeningSpec(xor_fold=True), KEY), _dense_fold(view))


# -- factorise ----------------------------------------------------------------------------

TEXTS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0", "\u3000", "a", " a ",
                     "Zoë", "Жанна", "王", "a\x00", "a"]),
)
SURROGATES = st.sampled_from(["\udcff", "a\udcff", "\ud800", " \udc80 "])
BAD_BYTES = st.sampled_from([b"\xff", b"a\xff", b"\xc3", b"\xed\xb3\xbf"])
GOOD_BYTES = st.sampled_from([b"", b" ", b"abc", "zoë".encode(), b"a"])
OTHERS = st.one_of(
    st.floats(allow_nan=False), st.booleans(), st.just(np.bool_(True)), st.just(b"\xff"),
    st.integers(-5, 5), st.just(None), st.just(float("nan")), st.just(3.5),
)


def _check_factorise(values: list[object]) -> None:
    col = factorise("c", pd.Series(values, dtype=object))
    assert len(col.codes) == len(values) and col.codes.dtype == np.int64
    assert set(col.bad) <= set(range(len(col.values)))
    for i, value in enumerate(values):
        code = int(col.codes[i])
        if value is None or (isinstance(value, float) and math.isnan(value)):
            assert code == -1, (i, value)
            continue
        text = _as_text(value)
        if isinstance(text, tuple):  # never turned into a blank, always reported
            assert code != -1, (i, value)
            assert col.bad.get(code) == text[0], (i, value)
        elif text.strip() == "":
            assert code == -1, (i, value)
        else:
            assert code != -1 and code not in col.bad, (i, value)
            assert col.values[code] == text, (i, value)
            assert isinstance(col.values[code], str)


@FAST
@given(st.lists(TEXTS, max_size=12))
def test_factorise_all_str_column(values):
    _check_factorise(values)


@FAST
@given(st.lists(st.one_of(TEXTS, SURROGATES), min_size=1, max_size=12))
def test_factorise_str_column_with_lone_surrogates(values):
    _check_factorise(values)


@FAST
@given(st.lists(st.one_of(TEXTS, SURROGATES, BAD_BYTES, GOOD_BYTES, OTHERS), max_size=12))
def test_factorise_mixed_column(values):
    _check_factorise(values)


def test_factorise_examples():
    col = factorise("c", pd.Series(["a", " ", "\udcff", "", "a", "b", None], dtype=object))
    assert col.codes[0] == col.codes[4] and col.values[col.codes[0]] == "a"
    assert col.codes[1] == col.codes[3] == col.codes[6] == -1
    assert col.bad == {int(col.codes[2]): "invalid UTF-8"}
    col = factorise("c", pd.Series([b"\xff", 1.5, True, "x", 7], dtype=object))
    assert [col.bad.get(int(c)) for c in col.codes] == [
        "invalid UTF-8", "wrong type (float), expected text", "wrong type (bool), expected text", None, None]
    assert col.values[col.codes[4]] == "7"


def test_factorise_does_not_merge_a_bool_with_an_equal_number():
    # pandas hashes True like 1 and False like 0 and 0.0: each cell must still get its own reason
    col = factorise("c", pd.Series([1, True, 0.0, False], dtype=object))
    reasons = [col.bad.get(int(c)) for c in col.codes]
    assert reasons == [None, "wrong type (bool), expected text", "wrong type (float), expected text",
                       "wrong type (bool), expected text"]
    assert col.values[col.codes[0]] == "1"


def test_factorise_keeps_values_that_differ_by_a_nul():
    col = factorise("c", pd.Series(["a", "a\x00"], dtype=object))
    assert [col.values[c] for c in col.codes] == ["a", "a\x00"]


# -- arrays -------------------------------------------------------------------------------

INTS = st.lists(st.integers(-(2**62), 2**62), max_size=40)
SMALL_INTS = st.lists(st.integers(-3, 3), max_size=40)


@FAST
@given(st.one_of(INTS, SMALL_INTS))
def test_unique_sorted_equals_np_unique(xs):
    x = np.asarray(xs, dtype=np.int64)
    got = unique_sorted(x)
    np.testing.assert_array_equal(got, np.unique(x))
    assert got.dtype == np.int64


@FAST
@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(0, 6)), max_size=20))
def test_ranges_equals_concatenated_aranges(pairs):
    starts = np.asarray([s for s, _ in pairs], dtype=np.int64)
    sizes = np.asarray([n for _, n in pairs], dtype=np.int64)
    want = np.concatenate([np.arange(s, s + n, dtype=np.int64) for s, n in pairs] or [np.zeros(0, np.int64)])
    got = ranges(starts, sizes)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


# -- blocking_part_column -----------------------------------------------------------------

NAME_SPEC = FieldSpec(name="name", columns=["name"], normaliser=NameNormaliser(),
                      tokeniser=QGramTokeniser(q=2), weight=10)
DATE_SPEC = FieldSpec(name="dob", columns=["dob"], normaliser=DateNormaliser(), tokeniser=DateTokeniser(),
                      weight=8)
VALUES = st.lists(
    st.one_of(
        st.text(max_size=7),
        st.text(alphabet="0123456789-", max_size=10),
        st.sampled_from(["", "1987-03-14", "1987", "198", "19x7-01", "١٩٨٧-01", "²³⁴⁵", "ab", "a", "  x"]),
    ),
    max_size=12,
)


@pytest.mark.parametrize("transform", ["whole", "prefix3", "year"])
@settings(max_examples=100, deadline=None)
@given(values=VALUES)
def test_blocking_part_column_equals_blocking_part_values(transform, values):
    for spec in (NAME_SPEC, DATE_SPEC):
        part = BlockingKeyPart(field=spec.name, transform=transform)
        got = blocking_part_column(part, values)
        assert got is not None and got.dtype == object and len(got) == len(values)
        for value, fast in zip(values, got.tolist(), strict=True):
            want = blocking_part_values(spec, part, value)
            assert len(want) <= 1
            assert fast == (want[0] if want else None), (transform, value)


@pytest.mark.parametrize("transform", ["phonetic_parts", "phonetic_pairs", "month_day"])
def test_blocking_part_column_declines_multi_value_transforms(transform):
    assert blocking_part_column(BlockingKeyPart(field="name", transform=transform), ["a b", ""]) is None


def test_blocking_part_column_examples():
    part = BlockingKeyPart(field="dob", transform="year")
    assert blocking_part_column(part, ["1987-03-14", "", "x987", "19"]).tolist() == ["1987", None, None, "19"]
    part = BlockingKeyPart(field="name", transform="prefix3")
    assert blocking_part_column(part, ["smith", "", "ab"]).tolist() == ["smi", None, "ab"]


def test_phonetic_algorithm():
    for algorithm in ("nysiis", "metaphone", "soundex", "match_rating"):
        spec = FieldSpec(name="name", columns=["name"], normaliser=NameNormaliser(),
                         tokeniser=PhoneticTokeniser(algorithm=algorithm), weight=10)
        assert phonetic_algorithm(spec) == algorithm
    assert phonetic_algorithm(NAME_SPEC) == "nysiis"
    assert phonetic_algorithm(DATE_SPEC) == "nysiis"
