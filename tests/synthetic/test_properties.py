"""Property tests of the small pure functions (hypothesis)."""

from __future__ import annotations

import jellyfish
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic_data.config import DATE_FORMATS
from synthetic_data.conventions import format_date, format_document, parse_date
from synthetic_data.corrupt import ocr_error, typo
from synthetic_data.countries import COUNTRIES
from synthetic_data.identifiers import document_number, other_key, phone_number

names = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll")), min_size=2,
                max_size=20)


@settings(max_examples=300, deadline=None)
@given(names, st.integers(0, 2**32))
def test_typo_is_exactly_one_edit(name: str, seed: int) -> None:
    changed = typo(name, np.random.default_rng(seed))
    assert jellyfish.damerau_levenshtein_distance(changed, name) == 1


@settings(max_examples=300, deadline=None)
@given(names, st.integers(0, 2**32))
def test_ocr_changes_at_most_one_place(name: str, seed: int) -> None:
    changed = ocr_error(name, np.random.default_rng(seed))
    assert jellyfish.levenshtein_distance(changed, name) <= 2


@settings(max_examples=300, deadline=None)
@given(st.dates(), st.sampled_from(DATE_FORMATS))
def test_dates_round_trip(date, fmt: str) -> None:
    text = format_date(date.year, date.month, date.day, fmt)
    assert parse_date(text, fmt) == (date.year, date.month, date.day)
    if fmt != "ymd_compact" and date.year >= 1000:
        assert parse_date(f"{date.year:04d}", fmt) == (date.year, None, None)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(COUNTRIES)), st.integers(0, 2**63 - 1))
def test_identifiers_follow_the_country_formats(alpha2: str, key: int) -> None:
    country = COUNTRIES[alpha2]
    doc = document_number(alpha2, key)
    assert len(doc) == len(country.document_pattern)
    for ch, kind in zip(doc, country.document_pattern, strict=True):
        assert ch.isdigit() if kind == "D" else (ch.isalpha() if kind == "L" else ch.isalnum())
    for style in ("plain", "spaced", "dashed", "lower"):
        assert format_document(doc, style).replace(" ", "").replace("-", "").upper() == doc
    phone = phone_number(alpha2, key)
    assert len(phone) == country.mobile_length and phone.isdigit()
    assert phone.startswith(country.mobile_prefixes)
    assert other_key(key) != key
