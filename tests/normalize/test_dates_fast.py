"""The columnwise date fast path agrees with parse_date, the reference, on every value."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.errors import NormalisationError
from linkage.normalize.dates import fast_iso_dates, parse_date

RULES = st.sampled_from(["day_first", "month_first", "error"])
SEPS = st.sampled_from(["-", "/", ".", " "])
PART = st.one_of(st.integers(0, 99).map(str), st.integers(0, 99).map(lambda n: f"{n:02d}"),
                 st.sampled_from(["x", "xx", "XX"]))
YEAR = st.integers(1850, 2150).map(str)


@st.composite
def date_strings(draw) -> str:
    sep = draw(SEPS)
    shape = draw(st.sampled_from(["ymd", "ym", "y", "pair", "my", "eight", "two", "junk"]))
    y, a, b = draw(YEAR), draw(PART), draw(PART)
    text = {
        "ymd": f"{y}{sep}{a}{sep}{b}", "ym": f"{y}{sep}{a}", "y": y,
        "pair": f"{a}{sep}{b}{sep}{y}", "my": f"{a}{sep}{y}",
        "eight": draw(st.sampled_from([f"{y}{a:0>2}{b:0>2}", f"{a:0>2}{b:0>2}{y}"]))[:8],
        "two": f"{a}{sep}{b}{sep}{y[2:]}",
        "junk": draw(st.text(alphabet="0123456789-/. x:T٠١٢", max_size=12)),
    }[shape]
    if draw(st.booleans()):
        text = draw(st.sampled_from([" ", "", "\n"])) + text + draw(
            st.sampled_from(["", " ", "T00:00:00", " 12:30", "\n"]))
    return text


def _reference(value: str, rule: str) -> str | None:
    try:
        return parse_date(value, ambiguous=rule).iso()
    except NormalisationError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.lists(date_strings(), max_size=30), RULES)
def test_fast_path_equals_parse_date(values: list[str], rule: str) -> None:
    for value, fast in zip(values, fast_iso_dates(values, ambiguous=rule), strict=True):
        if fast is not None:
            assert fast == _reference(value, rule), (value, rule)


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), RULES)
def test_fast_path_handles_plain_full_dates(d: dt.date, rule: str) -> None:
    plain = [d.isoformat(), d.strftime("%Y%m%d"), f"{d.day:02d}/{d.month:02d}/{d.year}"]
    got = fast_iso_dates(plain, ambiguous=rule)
    assert got[:2] == [d.isoformat()] * 2
    assert got[2] == _reference(plain[2], rule) or got[2] is None
