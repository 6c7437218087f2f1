"""Properties every normaliser keeps on arbitrary text in any script.

* it returns or raises ``NormalisationError``, never anything else;
* it is idempotent (on success, for those that can fail);
* error messages are one of a few fixed reasons, so they cannot contain the input.
"""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.errors import NormalisationError
from linkage.normalize.country import to_alpha3
from linkage.normalize.dates import parse_date
from linkage.normalize.documents import normalise_document
from linkage.normalize.names import normalise_name
from linkage.normalize.sex import normalise_sex
from linkage.normalize.text import fold

# Characters from the scripts agencies meet, plus the separators and marks that matter.
SCRIPT_SAMPLES = (
    "John O'Brien-Smith Ææßﬁ İı Şğ Ţș Nguyễn "
    "Иван Петров Олександр Ґїє Ъглев Ђорђе "
    "Ευάγγελος Παπαδόπουλος Αύγουστος "
    "أحمد الرشيد إبراهيم عبد الله فاطمة مُحَمَّد رضایی "
    "דוד כהן राम शर्मा नेपाल สมชาย ใจดี "
    "王小明 欧阳修 北京 張偉 买买提·艾力 やまだ ヤマダ・タロウ 김민준 남궁 "
    "０１２３４５６７８９ ٠١٢٣٤٥٦٧٨٩ ۱۲ १४ ๑๒ "
    "-/.,;:<>()[]_#№'’ʼ`´\u200b\u200c\u00ad\t\n 🙂€©"
)
any_text = st.text(max_size=40) | st.text(alphabet=SCRIPT_SAMPLES, max_size=40)


@st.composite
def date_like(draw):
    """Numbers that look like dates, valid or not, in every layout parse_date knows."""
    part = st.integers(0, 35).map(str) | st.sampled_from(["00", "03", "12", "13", "xx", "X"])
    year = str(draw(st.integers(1880, 2120) | st.integers(0, 99)))
    a, b = draw(part), draw(part)
    sep = draw(st.sampled_from(["-", "/", ".", " ", " / "]))
    layouts = [
        f"{year}{sep}{a}{sep}{b}", f"{a}{sep}{b}{sep}{year}", f"{a}{sep}{year}", year,
        f"{year}{a.zfill(2)}{b.zfill(2)}", f"{a.zfill(2)}{b.zfill(2)}{year}",
        f"{year}-{a}-{b}T00:00:00", f"{a}{sep}{b}{sep}{year} 12:30",
    ]  # fmt: skip
    return draw(st.sampled_from(layouts))


FOLDED = re.compile(r"\A(?:[a-z0-9]+(?: [a-z0-9]+)*)?\Z")

REASONS = {
    "dates": {
        "empty date",
        "two-digit year",
        "unrecognised date format",
        "day without month",
        "year out of range",
        "invalid month",
        "invalid day",
        "ambiguous day/month",
    },
    "sex": {"unrecognised sex code"},
    "country": {"empty country", "unknown country"},
    "documents": {"invalid character in document number", "document number too long"},
}
SETTINGS = settings(max_examples=200, deadline=None)


@SETTINGS
@given(value=any_text)
def test_fold_is_idempotent_and_ascii(value):
    out = fold(value)
    assert FOLDED.match(out)
    assert fold(out) == out


@SETTINGS
@given(
    value=any_text,
    drop_titles=st.booleans(),
    drop_particles=st.booleans(),
    sort_parts=st.booleans(),
)
def test_normalise_name_is_idempotent(value, drop_titles, drop_particles, sort_parts):
    options = {
        "drop_titles": drop_titles,
        "drop_particles": drop_particles,
        "sort_parts": sort_parts,
    }
    out = normalise_name(value, **options)
    assert FOLDED.match(out)
    assert normalise_name(out, **options) == out
    assert bool(out) == bool(fold(value))  # never drops every part


@SETTINGS
@given(value=any_text)
def test_names_without_han_or_hangul_keep_the_folded_words(value):
    if re.search(r"[\u3400-\u9fff\uf900-\ufaff\uac00-\ud7a3\U00020000-\U0003134f]", value):
        value = fold(value)  # the family/given split is tested in test_names.py
    kept = normalise_name(value, drop_titles=False, drop_particles=False)
    assert kept == fold(value)
    assert normalise_name(value, drop_titles=False, drop_particles=False, sort_parts=True) == (
        " ".join(sorted(fold(value).split()))
    )


def test_no_normaliser_caches_values():
    import linkage.tokens as tokens

    functions = [fold, normalise_name, parse_date, normalise_sex, to_alpha3, normalise_document]
    functions += [tokens.qgrams, tokens.phonetic_codes, tokens.date_tokens, tokens.whole]
    for fn in functions:
        assert not hasattr(fn, "cache_info") and not hasattr(fn, "__wrapped__"), fn


@SETTINGS
@given(value=any_text | date_like(), rule=st.sampled_from(["day_first", "month_first", "error"]))
def test_parse_date_round_trips_or_gives_a_reason(value, rule):
    try:
        d = parse_date(value, ambiguous=rule)
    except NormalisationError as exc:
        assert str(exc) in REASONS["dates"]
        return
    assert parse_date(d.iso()) == d
    assert parse_date(d.iso(), ambiguous=rule) == d


@pytest.mark.parametrize(
    ("name", "fn"),
    [("sex", normalise_sex), ("country", to_alpha3), ("documents", normalise_document)],
)
@SETTINGS
@given(value=any_text)
def test_idempotent_on_success_and_fixed_reasons(name, fn, value):
    try:
        out = fn(value)
    except NormalisationError as exc:
        assert str(exc) in REASONS[name]
        return
    assert fn(out) == out


SENTINEL = "Zyxwq4711"


@pytest.mark.parametrize(
    "call",
    [
        lambda v: parse_date(v),
        lambda v: parse_date(f"{v} 31/02/1987"),
        normalise_sex,
        to_alpha3,
        lambda v: normalise_document(v + "#"),
        lambda v: normalise_document(v * 4),
    ],
)
def test_error_messages_never_contain_the_value(call):
    with pytest.raises(NormalisationError) as info:
        call(SENTINEL)
    message = str(info.value).lower()
    assert SENTINEL.lower() not in message
    assert "4711" not in message and "zyx" not in message
