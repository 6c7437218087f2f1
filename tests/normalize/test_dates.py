import dataclasses
import datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from linkage.errors import NormalisationError, SchemaError
from linkage.normalize.dates import MAX_YEAR, MIN_YEAR, PartialDate, parse_date

RULES = ("day_first", "month_first", "error")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # year first: never ambiguous
        ("1987-03-14", "1987-03-14"),
        ("1987/03/14", "1987-03-14"),
        ("1987.03.14", "1987-03-14"),
        ("1987 3 4", "1987-03-04"),
        ("1987-3-4", "1987-03-04"),
        ("19870314", "1987-03-14"),
        ("1987-03", "1987-03"),
        ("1987/3", "1987-03"),
        ("1987", "1987"),
        # day or month above 12: unambiguous under every rule
        ("14/03/1987", "1987-03-14"),
        ("14.03.1987", "1987-03-14"),
        ("14-03-1987", "1987-03-14"),
        ("14 03 1987", "1987-03-14"),
        ("03/14/1987", "1987-03-14"),  # US order
        ("14031987", "1987-03-14"),
        ("31/12/2000", "2000-12-31"),
        # day equal to month: no ambiguity either
        ("05/05/1990", "1990-05-05"),
        # month and year
        ("03/1987", "1987-03"),
        ("3.1987", "1987-03"),
        ("12-1987", "1987-12"),
        # unknown parts
        ("00/03/1987", "1987-03"),
        ("03/00/1987", "1987-03"),  # one unknown part is always the day
        ("XX/03/1987", "1987-03"),
        ("xx/xx/1987", "1987"),
        ("00.00.1987", "1987"),
        ("1987-03-00", "1987-03"),
        ("1987-00-00", "1987"),
        ("1987-XX-XX", "1987"),
        ("19870300", "1987-03"),
        ("XX/1987", "1987"),
        # time of day from exports, white space, full-width and other digits
        ("1987-03-14T00:00:00", "1987-03-14"),
        ("1987-03-14 00:00:00.000+02:00", "1987-03-14"),
        ("1987-03-14T10:30Z", "1987-03-14"),
        ("14/03/1987 00:00", "1987-03-14"),
        ("  14 / 03 / 1987  ", "1987-03-14"),
        ("１９８７－０３－１４", "1987-03-14"),  # full-width (Japanese, Chinese input)
        ("١٤/٠٣/١٩٨٧", "1987-03-14"),  # Arabic-Indic digits
        ("۱۹۸۷/۰۳/۱۴", "1987-03-14"),  # Persian digits, Gregorian
        ("१४.०३.१९८७", "1987-03-14"),  # Devanagari digits
        ("๑๔/๐๓/๑๙๘๗", "1987-03-14"),  # Thai digits, Gregorian
        # calendar edges
        ("29/02/2000", "2000-02-29"),
        ("29/02/1988", "1988-02-29"),
        ("1900-01-01", "1900-01-01"),
        ("2100-12-31", "2100-12-31"),
    ],
)
def test_unambiguous_dates_under_every_rule(value, expected):
    for rule in RULES:
        assert parse_date(value, ambiguous=rule).iso() == expected


@pytest.mark.parametrize(
    ("value", "day_first", "month_first"),
    [
        ("03/04/1987", "1987-04-03", "1987-03-04"),
        ("04.03.1987", "1987-03-04", "1987-04-03"),
        ("1-2-1990", "1990-02-01", "1990-01-02"),
        ("12 11 1975", "1975-11-12", "1975-12-11"),
        ("01021990", "1990-02-01", "1990-01-02"),
    ],
)
def test_ambiguous_dates_follow_the_rule(value, day_first, month_first):
    assert parse_date(value).iso() == day_first  # default rule
    assert parse_date(value, ambiguous="day_first").iso() == day_first
    assert parse_date(value, ambiguous="month_first").iso() == month_first
    with pytest.raises(NormalisationError, match=r"^ambiguous day/month$"):
        parse_date(value, ambiguous="error")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("30/02/1987", "invalid day"),
        ("29/02/1900", "invalid day"),  # 1900 is not a leap year
        ("31/04/1987", "invalid day"),
        ("32/01/1987", "invalid day"),
        ("1987-02-30", "invalid day"),
        ("13/13/1987", "invalid month"),
        ("1987-13", "invalid month"),
        ("13/1987", "invalid month"),
        ("1987-00-14", "day without month"),
        ("1899-12-31", "year out of range"),
        ("2101", "year out of range"),
        ("۱۳۶۵/۱۲/۲۵", "year out of range"),  # Solar Hijri (Iran)
        ("1407/05/01", "year out of range"),  # lunar Hijri
        ("14/03/2530", "year out of range"),  # Thai Buddhist era
        ("14/03/87", "two-digit year"),
        ("3.4.87", "two-digit year"),
        ("870314", "two-digit year"),  # YYMMDD of passport machine-readable zones
        ("14/03-1987", "unrecognised date format"),  # mixed separators
        ("14 March 1987", "unrecognised date format"),
        ("1987-03-14-01", "unrecognised date format"),
        ("yesterday", "unrecognised date format"),
        ("1/2/3/4", "unrecognised date format"),
        ("", "empty date"),
        ("   ", "empty date"),
    ],
)
def test_rejected_dates_name_the_reason_only(value, reason):
    with pytest.raises(NormalisationError) as info:
        parse_date(value)
    assert str(info.value) == reason == info.value.reason
    assert not any(ch.isdigit() for ch in str(info.value))


def test_partial_date_iso_and_validation():
    assert PartialDate(1987).iso() == "1987"
    assert PartialDate(1987, 3).iso() == "1987-03"
    assert PartialDate(1987, 3, 4).iso() == "1987-03-04"
    with pytest.raises(dataclasses.FrozenInstanceError):
        PartialDate(1987).year = 1988  # type: ignore[misc]
    for bad in [(1987, None, 4), (1987, 2, 30), (1899,), (1987, 0), (True,), (1987.0,), ("1987",)]:
        with pytest.raises(NormalisationError):
            PartialDate(*bad)


def test_unknown_rule_is_a_schema_error():
    with pytest.raises(SchemaError):
        parse_date("1987-03-14", ambiguous="year_first")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, 19870314, datetime.date(1987, 3, 14)])
def test_rejects_non_strings(value):
    with pytest.raises(NormalisationError, match="expected a string"):
        parse_date(value)


dates = st.dates(min_value=datetime.date(MIN_YEAR, 1, 1), max_value=datetime.date(MAX_YEAR, 12, 31))


@settings(max_examples=200, deadline=None)
@given(d=dates, sep=st.sampled_from("-/. "), pad=st.booleans())
def test_every_written_form_parses_back(d, sep, pad):
    day, month = (f"{d.day:02d}", f"{d.month:02d}") if pad else (str(d.day), str(d.month))
    expected = PartialDate(d.year, d.month, d.day)
    assert parse_date(f"{d.year}{sep}{month}{sep}{day}") == expected
    assert parse_date(d.strftime("%Y%m%d")) == expected
    assert parse_date(f"{day}{sep}{month}{sep}{d.year}", ambiguous="day_first") == expected
    assert parse_date(f"{month}{sep}{day}{sep}{d.year}", ambiguous="month_first") == expected
    assert parse_date(f"{month}{sep}{d.year}") == PartialDate(d.year, d.month)
    assert parse_date(str(d.year)) == PartialDate(d.year)


@settings(max_examples=200, deadline=None)
@given(d=dates)
def test_a_part_above_twelve_decides_whatever_the_rule(d):
    assume(d.day > 12)
    for value in (f"{d.day}/{d.month}/{d.year}", f"{d.month}/{d.day}/{d.year}"):
        assert {parse_date(value, ambiguous=r) for r in RULES} == {PartialDate(d.year, d.month, d.day)}


@settings(max_examples=200, deadline=None)
@given(
    year=st.integers(MIN_YEAR, MAX_YEAR),
    month=st.none() | st.integers(1, 12),
    day=st.integers(1, 31),
)
def test_iso_round_trip(year, month, day):
    try:
        d = PartialDate(year, month, None if month is None else day)
    except NormalisationError:
        return  # e.g. 31 April
    assert parse_date(d.iso()) == d
    for rule in RULES:
        assert parse_date(d.iso(), ambiguous=rule) == d
