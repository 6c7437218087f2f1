import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.errors import NormalisationError, SchemaError
from linkage.normalize.dates import PartialDate, parse_date
from linkage.tokens import (
    PHONETIC_ALGORITHMS,
    date_tokens,
    part_qgrams,
    phonetic_codes,
    qgrams,
    whole,
)


@pytest.mark.parametrize(
    ("s", "q", "padding", "expected"),
    [
        ("ab", 2, True, ["_a", "ab", "b_"]),
        ("anna", 2, True, ["_a", "a_", "an", "na", "nn"]),  # repeats removed, sorted
        ("jo li", 2, True, [" l", "_j", "i_", "li", "o ", "jo"]),
        ("abc", 3, True, ["__a", "_ab", "abc", "bc_", "c__"]),
        ("abcd", 3, False, ["abc", "bcd"]),
        ("ab", 3, False, ["ab"]),  # shorter than q: one token
        ("a", 1, True, ["a"]),
        ("a", 2, True, ["_a", "a_"]),
        ("AB123", 3, False, ["123", "AB1", "B12"]),
        ("", 2, True, []),
        ("", 3, False, []),
    ],
)
def test_qgrams(s, q, padding, expected):
    assert qgrams(s, q, padding) == sorted(expected)


@pytest.mark.parametrize("q", [0, -1, True, 2.0])
def test_qgrams_rejects_bad_q(q):
    with pytest.raises(SchemaError):
        qgrams("abc", q)


@pytest.mark.parametrize(
    ("s", "algorithm", "expected"),
    [
        ("wang xiaoming", "nysiis", ["WANG", "XANANG"]),
        ("john smith", "soundex", ["J500", "S530"]),
        ("john smith", "metaphone", ["JN", "SM0"]),
        ("john smith", "match_rating", ["JHN", "SMTH"]),
        ("john smith", "match_rating_codex", ["JHN", "SMTH"]),
        ("smith smyth", "soundex", ["S530"]),  # same code once
        ("mohammed muhammad", "nysiis", ["MAHANAD"]),  # spelling variants share a code
        ("john 2nd", "soundex", ["J500", "N300"]),  # digits are not phonetic
        ("john 123", "match_rating", ["JHN"]),  # a part without letters is skipped
        ("", "nysiis", []),
        ("   ", "metaphone", []),
    ],
)
def test_phonetic_codes(s, algorithm, expected):
    assert phonetic_codes(s, algorithm) == expected


def test_phonetic_algorithms_match_the_schema():
    from typing import get_args

    from linkage.schema import PhoneticTokeniser

    schema_names = get_args(PhoneticTokeniser.model_fields["algorithm"].annotation)
    assert set(schema_names) <= set(PHONETIC_ALGORITHMS)
    with pytest.raises(SchemaError):
        phonetic_codes("john", "double_metaphone")


def test_date_tokens_full_partial_and_swapped():
    full = date_tokens(PartialDate(1987, 3, 14))
    assert full == sorted(
        ["y:1987", "m:03", "ym:1987-03", "d:14", "md:03-14", "dm:03-14", "ydm:1987-03-14",
         "ymd:1987-03-14"]
    )  # fmt: skip
    assert date_tokens(PartialDate(1987)) == ["y:1987"]
    assert date_tokens(PartialDate(1987, 3)) == ["m:03", "y:1987", "ym:1987-03"]
    assert set(date_tokens(PartialDate(1987, 3))) < set(full)

    a, b = date_tokens(PartialDate(1987, 3, 4)), date_tokens(PartialDate(1987, 4, 3))
    assert set(a) & set(b) == {"y:1987", "dm:03-04", "ydm:1987-03-04"}
    year_typo = date_tokens(PartialDate(1978, 3, 14))
    assert set(full) & set(year_typo) == {"m:03", "d:14", "md:03-14", "dm:03-14"}
    assert set(full).isdisjoint(date_tokens(PartialDate(1988)))


def test_date_tokens_of_parsed_dates_agree_across_formats():
    forms = ["1987-03-14", "14.03.1987", "03/14/1987", "19870314", "١٤/٠٣/١٩٨٧"]
    assert len({tuple(date_tokens(parse_date(f))) for f in forms}) == 1


def test_whole():
    assert whole("DEU") == ["DEU"]
    assert whole("") == []


@pytest.mark.parametrize("fn", [whole, qgrams, lambda s: phonetic_codes(s, "nysiis")])
def test_tokenisers_reject_non_strings(fn):
    with pytest.raises(NormalisationError):
        fn(None)
    with pytest.raises(NormalisationError):
        date_tokens("1987-03-14")  # type: ignore[arg-type]


folded = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", max_size=30)


@settings(max_examples=200, deadline=None)
@given(s=folded, q=st.integers(1, 5), padding=st.booleans())
def test_qgram_properties(s, q, padding):
    grams = qgrams(s, q, padding)
    assert grams == sorted(set(grams)) == qgrams(s, q, padding)
    padded = "_" * (q - 1) + s + "_" * (q - 1) if padding and s else s
    if len(padded) >= q:
        assert all(len(g) == q and g in padded for g in grams)
        assert len(grams) <= len(padded) - q + 1
    else:
        assert grams == ([s] if s else [])


@settings(max_examples=200, deadline=None)
@given(s=folded | st.text(max_size=20), algorithm=st.sampled_from(sorted(PHONETIC_ALGORITHMS)))
def test_phonetic_properties(s, algorithm):
    codes = phonetic_codes(s, algorithm)
    assert codes == sorted(set(codes)) == phonetic_codes(s, algorithm)
    assert len(codes) <= len(s.split())
    assert all(codes)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab c_\u00e9\t", max_size=12), st.integers(1, 4), st.booleans())
def test_part_qgrams_is_the_union_of_per_part_qgrams(s: str, q: int, padding: bool) -> None:
    want = sorted({g for part in s.split() for g in qgrams(part, q=q, padding=padding)})
    assert part_qgrams(s, q, padding) == want
