"""token_table and phonetic_code_table give, value by value, the tokens of tokenise_value."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.bloom.fieldvalues import tokenise_value
from linkage.bloom.token_table import TokenTable, phonetic_code_table, token_table
from linkage.normalize.dates import MAX_YEAR, MIN_YEAR
from linkage.normalize.names import PARTICLES, TITLES
from linkage.schema import (
    DateNormaliser,
    DateTokeniser,
    FieldSpec,
    NameNormaliser,
    PhoneticTokeniser,
    QGramTokeniser,
)
from linkage.tokens import PHONETIC_ALGORITHMS

FAST = settings(max_examples=150, deadline=None)

# -- strategies ---------------------------------------------------------------------------

ASCII_CHAR = st.characters(min_codepoint=0, max_codepoint=127)
ASCII_TEXT = st.text(alphabet=ASCII_CHAR, max_size=14)
NON_ASCII = ["é", "ñ", "Ø", "ß", "İ", "Жанна", "иван", "王", "小明", "محمد", "ع", "ﬁ",
             "²", "\u00a0", "\u2003"]
WORDS = st.one_of(
    st.sampled_from(sorted(TITLES)),
    st.sampled_from(sorted(PARTICLES)),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0129", min_size=1, max_size=9),
    st.sampled_from(["o'brien", "d`arc", "_", "__", "a_b", "x", "'", "`", "-", "\x1f", "\x00"]),
)
SEPARATORS = st.sampled_from([" ", "  ", "   ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e",
                              "\x1f", "-", "'", "`", "_", "", ",", "\x00"])


@st.composite
def word_values(draw, non_ascii: bool = False) -> str:
    pieces = draw(st.lists(st.one_of(WORDS, st.sampled_from(NON_ASCII)) if non_ascii else WORDS,
                           max_size=5))
    out = draw(st.sampled_from(["", " ", "  ", "\t"]))
    for p in pieces:
        out += p + draw(SEPARATORS)
    return out + draw(st.sampled_from(["", " ", "   "]))


ASCII_VALUES = st.one_of(ASCII_TEXT, word_values(), st.just(""))
ANY_VALUES = st.one_of(ASCII_VALUES, word_values(non_ascii=True), st.text(max_size=8))


def value_lists(values=ASCII_VALUES):
    return st.lists(values, max_size=12)


def _lists_with_some_non_ascii():
    return st.one_of(value_lists(), value_lists(ANY_VALUES))


# -- helpers ------------------------------------------------------------------------------


def qgram_spec(q: int, padding: bool, per_part: bool) -> FieldSpec:
    # QGramTokeniser validates q <= 5; the table also takes longer q-grams (q 8: fallback)
    tokeniser = QGramTokeniser.model_construct(q=q, padding=padding, per_part=per_part)
    return FieldSpec(name="name", columns=["name"], normaliser=NameNormaliser(), tokeniser=tokeniser,
                     weight=10)


def phonetic_spec(algorithm: str) -> FieldSpec:
    tokeniser = PhoneticTokeniser.model_construct(algorithm=algorithm)
    return FieldSpec(name="name", columns=["name"], normaliser=NameNormaliser(), tokeniser=tokeniser,
                     weight=10)


DATE_SPEC = FieldSpec(name="dob", columns=["dob"], normaliser=DateNormaliser(), tokeniser=DateTokeniser(),
                      weight=8)


def per_value(table: TokenTable, n: int) -> list[list[str]]:
    """The tokens of each value in the table, checking the table's invariants."""
    starts = table.starts
    assert starts.dtype.kind == "i" and table.ids.dtype.kind == "i"
    assert len(starts) == n + 1 and starts[0] == 0 and starts[-1] == len(table.ids)
    assert np.all(np.diff(starts) >= 0)
    assert len(set(table.texts)) == len(table.texts), "texts must be distinct"
    assert all(isinstance(t, str) for t in table.texts)
    if len(table.ids):
        assert table.ids.min() >= 0 and table.ids.max() < len(table.texts)
    out = []
    for i in range(n):
        ids = table.ids[starts[i]:starts[i + 1]].tolist()
        assert len(set(ids)) == len(ids), f"value {i}: repeated token id"
        out.append(sorted(table.texts[k] for k in ids))
    return out


def assert_matches_reference(spec: FieldSpec, values: list[str]) -> TokenTable:
    table = token_table(spec, values)
    got = per_value(table, len(values))
    for value, tokens in zip(values, got, strict=True):
        assert tokens == tokenise_value(spec, value), (value, spec.tokeniser)
    return table


# -- q-grams ------------------------------------------------------------------------------


@FAST
@given(value_lists(), st.integers(1, 8), st.booleans(), st.booleans())
def test_qgram_table_equals_tokenise_value_on_ascii(values, q, padding, per_part):
    assert_matches_reference(qgram_spec(q, padding, per_part), values)


@FAST
@given(_lists_with_some_non_ascii(), st.integers(1, 8), st.booleans(), st.booleans())
def test_qgram_table_equals_tokenise_value_with_fallback_values(values, q, padding, per_part):
    assert_matches_reference(qgram_spec(q, padding, per_part), values)


@pytest.mark.parametrize("q", range(1, 9))
@pytest.mark.parametrize("padding", [True, False])
@pytest.mark.parametrize("per_part", [True, False])
def test_qgram_table_awkward_examples(q, padding, per_part):
    values = ["", " ", "a", "ab", "  ab  cd ", "abcdefghijklmnop", "a\tb\x1cc\x1fd", "o'brien d`arc",
              "__", "_a_", "x" * 9, "mr de la", "\x7f\x01", "a  b", "ab", "", "ba ab", "1 2 3"]
    assert_matches_reference(qgram_spec(q, padding, per_part), values)
    assert_matches_reference(qgram_spec(q, padding, per_part), [*values, "zoë"])  # fallback


@pytest.mark.parametrize("values", [["a\x00b"], ["a a\x00"], ["al", "al\x00"], ["\x00\x00"]])
def test_qgram_fallback_keeps_tokens_that_differ_by_a_nul(values):
    # NUL sends the values to the per-value fallback; "a" and "a\x00" are different tokens
    for q in (1, 2, 3, 8):
        for padding in (True, False):
            for per_part in (True, False):
                assert_matches_reference(qgram_spec(q, padding, per_part), values)


@pytest.mark.parametrize("values", [[], [""], ["", "", ""], [" "], ["\t \x1c"]])
def test_qgram_table_of_nothing(values):
    table = assert_matches_reference(qgram_spec(2, True, True), values)
    assert len(table.ids) == 0  # no parts
    assert_matches_reference(qgram_spec(2, True, False), values)  # whitespace is a character here


# -- phonetic codes -----------------------------------------------------------------------


@FAST
@given(_lists_with_some_non_ascii(), st.sampled_from(sorted(PHONETIC_ALGORITHMS)))
def test_phonetic_code_table_equals_phonetic_codes(values, algorithm):
    table = phonetic_code_table(values, algorithm)
    assert table.texts == sorted(table.texts), "texts must be in string order"
    got = per_value(table, len(values))
    spec = phonetic_spec(algorithm)
    for value, tokens in zip(values, got, strict=True):
        assert tokens == tokenise_value(spec, value), (value, algorithm)


@pytest.mark.parametrize("algorithm", ["nysiis", "metaphone", "soundex", "match_rating"])
@settings(max_examples=40, deadline=None)
@given(values=_lists_with_some_non_ascii())
def test_phonetic_token_table_through_spec(algorithm, values):
    spec = FieldSpec(name="name", columns=["name"], normaliser=NameNormaliser(),
                     tokeniser=PhoneticTokeniser(algorithm=algorithm), weight=10)
    assert_matches_reference(spec, values)


def test_phonetic_code_table_examples():
    values = ["", "Smith Smyth", "smith", "o'brien  van der berg", "123", "a1b2", "Жанна smith", "  ",
              "ßmith", "İlker", "de la cruz"]
    for algorithm in PHONETIC_ALGORITHMS:
        assert_matches_reference(phonetic_spec(algorithm), values)


# -- dates --------------------------------------------------------------------------------


@st.composite
def iso_dates(draw) -> str:
    y = draw(st.integers(MIN_YEAR, MAX_YEAR))
    shape = draw(st.sampled_from(["y", "ym", "ymd"]))
    if shape == "y":
        return f"{y:04d}"
    m = draw(st.integers(1, 12))
    if shape == "ym":
        return f"{y:04d}-{m:02d}"
    return draw(st.dates(dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31))).isoformat()


INVALID_DATES = st.sampled_from(["1987-02-30", "1987-13", "0999", "1899", "2101", "1987-00", "1987-04-31",
                                 "1987-02-29", "1900-02-29", "1987-01-00", "1987-1-5", "abcd", "19870314",
                                 " 1987", "1987-03-14 ", "1987-", "87", "1987-03-1x", "१९८७"])


def _first_error(values: list[str]) -> type[BaseException] | None:
    for v in values:
        try:
            tokenise_value(DATE_SPEC, v)
        except Exception as exc:  # the type is what the table must raise too
            return type(exc)
    return None


@FAST
@given(st.lists(st.one_of(iso_dates(), st.just("")), max_size=15))
def test_date_table_equals_date_tokens(values):
    assert_matches_reference(DATE_SPEC, values)


@FAST
@given(st.lists(st.one_of(iso_dates(), st.just(""), INVALID_DATES), max_size=10))
def test_date_table_raises_like_the_per_value_path(values):
    expected = _first_error(values)
    if expected is None:
        assert_matches_reference(DATE_SPEC, values)
    else:
        with pytest.raises(expected):
            token_table(DATE_SPEC, values)


@pytest.mark.parametrize("bad", ["1987-02-30", "1987-13", "0999", "1987-04-31", "2101-01-01"])
def test_invalid_date_raises_same_type_as_tokenise_value(bad):
    with pytest.raises(Exception) as reference:
        tokenise_value(DATE_SPEC, bad)
    with pytest.raises(reference.type):
        token_table(DATE_SPEC, ["1987-03-14", "", bad])


def test_date_table_examples():
    values = ["1987-03-14", "1987-03", "1987", "", "2000-02-29", "1987-03-04", "1987-04-03", "1900",
              "2100-12-31"]
    assert_matches_reference(DATE_SPEC, values)


# -- rows ---------------------------------------------------------------------------------


@FAST
@given(value_lists(), st.integers(1, 8), st.booleans(), st.data())
def test_rows_selects_values_in_order(values, q, per_part, data):
    table = token_table(qgram_spec(q, True, per_part), values)
    full = per_value(table, len(values))
    idx = data.draw(st.lists(st.integers(0, max(len(values) - 1, 0)), max_size=10)) if values else []
    sub = table.rows(np.asarray(idx, dtype=np.int64))
    assert sub.texts is table.texts
    assert per_value(sub, len(idx)) == [full[i] for i in idx]


@pytest.mark.parametrize("algorithm", sorted(PHONETIC_ALGORITHMS))
def test_phonetic_code_table_keeps_words_that_differ_after_a_nul(algorithm):
    # "a\x00b" is the word "ab" for phonetic_codes, not the word "a"
    values = ["a\x00b a", "smith\x00jones smith"]
    got = per_value(phonetic_code_table(values, algorithm), len(values))
    assert got == [tokenise_value(phonetic_spec(algorithm), v) for v in values]
