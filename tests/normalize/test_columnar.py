"""The columnar ASCII normalisers agree with the per-value normalisers, their reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.errors import NormalisationError
from linkage.normalize.columnar import fold_ascii, normalise_documents_ascii, normalise_names_ascii
from linkage.normalize.documents import MAX_DOCUMENT_LENGTH, normalise_document
from linkage.normalize.names import PARTICLES, TITLES, normalise_name
from linkage.normalize.text import fold

FAST = settings(max_examples=200, deadline=None)

ASCII_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=16)
WORDS = st.one_of(
    st.sampled_from(sorted(TITLES)),
    st.sampled_from(sorted(PARTICLES)),
    st.sampled_from(sorted(TITLES)).map(str.upper),
    st.sampled_from(sorted(PARTICLES)).map(str.title),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0129", min_size=1, max_size=8),
    st.sampled_from(["o'brien", "d`arc", "M'", "'", "`", "_", "a_b", "x", "-", "\x00", "\x7f", "d'"]),
)
SEPARATORS = st.sampled_from([" ", "  ", "   ", "\t", "\n", "\x0b", "\r", "\x1c", "\x1f", "-", ".", "'", "`",
                              "_", ",", "/", "\x00", "", "'s "])


@st.composite
def name_values(draw) -> str:
    out = draw(st.sampled_from(["", " ", "   ", "\t", "'"]))
    for word in draw(st.lists(WORDS, max_size=6)):
        out += word + draw(SEPARATORS)
    return out + draw(st.sampled_from(["", " ", "  ", "."]))


ASCII_VALUES = st.lists(st.one_of(ASCII_TEXT, name_values(), st.just("")), max_size=12)

DOC_CHARS = st.sampled_from(list("ABCXYZabcxyz0123456789 -./<\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f_,#'\x00\x7f+:"))
DOC_VALUES = st.lists(
    st.one_of(
        ASCII_TEXT,
        st.text(alphabet=DOC_CHARS, max_size=MAX_DOCUMENT_LENGTH + 6),
        st.text(alphabet="A1 -", min_size=MAX_DOCUMENT_LENGTH - 2, max_size=MAX_DOCUMENT_LENGTH + 3),
        st.just(""),
    ),
    max_size=12,
)
NON_ASCII = ["zoë", "Жанна", "王小明", "محمد", "Ø", "\u00a0", "\x80", "№ 12"]


def _document_reference(value: str) -> str | None:
    try:
        return normalise_document(value)
    except NormalisationError:
        return None


# -- names --------------------------------------------------------------------------------


@FAST
@given(ASCII_VALUES, st.booleans(), st.booleans(), st.booleans())
def test_normalise_names_ascii_equals_normalise_name(values, drop_titles, drop_particles, sort_parts):
    got = normalise_names_ascii(values, drop_titles=drop_titles, drop_particles=drop_particles,
                                sort_parts=sort_parts)
    assert len(got) == len(values)
    for value, fast in zip(values, got, strict=True):
        want = normalise_name(value, drop_titles=drop_titles, drop_particles=drop_particles,
                              sort_parts=sort_parts)
        assert fast == want, value


@FAST
@given(ASCII_VALUES)
def test_normalise_names_ascii_defaults_equal_normalise_name_defaults(values):
    assert normalise_names_ascii(values) == [normalise_name(v) for v in values]


@pytest.mark.parametrize("drop_titles", [True, False])
@pytest.mark.parametrize("drop_particles", [True, False])
@pytest.mark.parametrize("sort_parts", [True, False])
def test_names_drop_unless_all_examples(drop_titles, drop_particles, sort_parts):
    values = ["Mr", "Mr Dr", "Dr. John Smith", "van der Berg", "van der", "Mr van", "Mr. van der Berg",
              "de la Cruz, Maria", "  al-Rashid  ", "Mme de", "Sir", "", "   ", "O'Brien", "d`Arc",
              "Smith Mr", "ben al bin", "MRS. DA SILVA", "sheikh al", "b a c", "b a mr", "\x00mr\x1fde\x7f"]
    got = normalise_names_ascii(values, drop_titles=drop_titles, drop_particles=drop_particles,
                                sort_parts=sort_parts)
    want = [normalise_name(v, drop_titles=drop_titles, drop_particles=drop_particles, sort_parts=sort_parts)
            for v in values]
    assert got == want


def test_names_examples_have_expected_values():
    # a fixed point of reference as well, so that a shared bug cannot hide
    assert normalise_names_ascii(["Mr van der Berg", "Mr Dr", "van der", "Dr. O'Brien-Smith"]) == [
        "berg", "mr dr", "van der", "obrien smith"]
    assert normalise_names_ascii(["Smith John", "b a"], sort_parts=True) == ["john smith", "a b"]


# -- fold ---------------------------------------------------------------------------------


@FAST
@given(ASCII_VALUES)
def test_fold_ascii_equals_fold(values):
    assert fold_ascii(values) == [fold(v) for v in values]


def test_fold_ascii_every_ascii_character():
    values = [chr(c) for c in range(128)] + [f"a{chr(c)}b" for c in range(128)]
    values += [f" {chr(c)}{chr(c)} x " for c in range(128)]
    assert fold_ascii(values) == [fold(v) for v in values]


# -- documents ----------------------------------------------------------------------------


@FAST
@given(DOC_VALUES)
def test_normalise_documents_ascii_equals_normalise_document(values):
    got = normalise_documents_ascii(values)
    assert got == [_document_reference(v) for v in values]


def test_documents_every_ascii_character():
    values = [f"A{chr(c)}1" for c in range(128)] + [chr(c) for c in range(128)]
    values += ["", "  ", "N 1234-567", "ab.cd/ef<<12", "X" * MAX_DOCUMENT_LENGTH,
               "X" * (MAX_DOCUMENT_LENGTH + 1), "-" * 50 + "X" * MAX_DOCUMENT_LENGTH]
    got = normalise_documents_ascii(values)
    assert got == [_document_reference(v) for v in values]
    assert got[-2] is None and got[-1] == "X" * MAX_DOCUMENT_LENGTH


# -- non-ASCII input ----------------------------------------------------------------------


@pytest.mark.parametrize("function", [fold_ascii, normalise_names_ascii, normalise_documents_ascii])
@pytest.mark.parametrize("bad", NON_ASCII)
def test_non_ascii_is_refused(function, bad):
    with pytest.raises(ValueError):
        function(["smith", bad, "jones"])
    with pytest.raises(ValueError):
        function([bad])


@pytest.mark.parametrize("function", [fold_ascii, normalise_names_ascii, normalise_documents_ascii])
def test_empty_column(function):
    assert function([]) == []
