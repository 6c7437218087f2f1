"""Dates of birth in the numeric formats agencies use, kept partial when they are partial.

Accepted forms (separators ``-``, ``/``, ``.`` or a space, the same one throughout; spaces
around a separator are ignored; digits of any script, e.g. Arabic-Indic ``١٤/٠٣/١٩٨٧``):

* ``1987-03-14``, ``1987/3/14``: year first, always year, month, day;
  ``1987-03`` and ``1987``: year and month, year only.
* ``19870314``: eight digits starting with a year in range are year, month, day; other
  eight-digit values (``14031987``) are read as ``14/03/1987``.
* ``14/03/1987``, ``14.03.1987``, ``14-03-1987``: day and month then year, see below.
* ``03/1987``, ``3.1987``: month and year.

A time of day after the date (``1987-03-14T00:00:00``, ``14/03/1987 00:00``, as
spreadsheet and database exports write dates) is ignored.

**Day and month order.** For ``nn/nn/yyyy`` a part greater than 12 can only be the day, so
``14/03/1987`` and ``03/14/1987`` are both 14 March whatever the rule. When both parts are
12 or less and differ, the ``ambiguous`` rule decides: ``"day_first"`` (default, the order
of most of the world), ``"month_first"`` (United States) or ``"error"``, which raises
``NormalisationError("ambiguous day/month")``. The rule applies to every separator, so the
reading depends only on the value and the configured rule.

**Unknown parts.** ``00`` or ``XX`` marks an unknown day or month, as many registries write
it: ``00/03/1987`` and ``1987-03-00`` give March 1987, ``XX/XX/1987`` gives 1987. In
``nn/nn/yyyy`` a single unknown part is always taken as the day (``03/00/1987`` is March
1987 under every rule). A known day with an unknown month (``1987-00-14``) is rejected.

**Rejected.** Two-digit years (``14/03/87``; also the six-digit ``YYMMDD`` of passport
machine-readable zones): the century cannot be known for people of all ages. Years
outside 1900..2100: no living person is older, and the range also rejects dates in other
calendars that would otherwise be read as Gregorian (Solar Hijri ``1365/12/25``, lunar
Hijri ``1407``, Thai Buddhist ``2530``). Impossible dates (``30/02/1987``). Month names
(``14 Mar 1987``) are not parsed. Error messages state the reason only, never the value.

``parse_date(d.iso()) == d`` for every ``PartialDate`` ``d``, which makes ``iso()`` the
idempotent normal form.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkage.errors import NormalisationError, SchemaError

__all__ = ["MAX_YEAR", "MIN_YEAR", "AmbiguityRule", "PartialDate", "fast_iso_dates", "parse_date"]

MIN_YEAR = 1900
MAX_YEAR = 2100

AmbiguityRule = Literal["day_first", "month_first", "error"]
_RULES = ("day_first", "month_first", "error")

_PART = r"(\d{1,2}|x{1,2})"
_SEP = r"([-/. ])"
_YEAR_FIRST = re.compile(rf"(\d{{4}})(?:{_SEP}{_PART}(?:\2{_PART})?)?", re.ASCII)
_EIGHT_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_PAIR_YEAR = re.compile(rf"{_PART}{_SEP}{_PART}\2(\d{{4}})", re.ASCII)
_MONTH_YEAR = re.compile(rf"{_PART}{_SEP}(\d{{4}})", re.ASCII)
_TWO_DIGIT_YEAR = re.compile(rf"{_PART}{_SEP}{_PART}\2\d{{2}}|\d{{6}}", re.ASCII)
_TIME_SUFFIX = re.compile(
    r"(?:t|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?\s*(?:z|[+-]\d{2}(?::?\d{2})?)?$",
    re.ASCII,
)
_SPACED_SEPARATOR = re.compile(r"\s*([-/.])\s*")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A Gregorian date of which the day, or the day and month, may be unknown."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        _check(self.year, self.month, self.day)

    def iso(self) -> str:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def parse_date(value: str, *, ambiguous: AmbiguityRule = "day_first") -> PartialDate:
    """Parse a (possibly partial) date; see the module docstring for the accepted forms.

    Raises ``NormalisationError`` with the reason (never the value) when ``value`` is not a
    date in an accepted form, and ``SchemaError`` for an unknown ``ambiguous`` rule.
    """
    if ambiguous not in _RULES:
        raise SchemaError("unknown day/month ambiguity rule")
    if not isinstance(value, str):
        raise NormalisationError("expected a string")
    text = _canonical_text(value)
    if not text:
        raise NormalisationError("empty date")
    if m := _EIGHT_DIGITS.fullmatch(text):
        if MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
            return _build(m.group(1), m.group(2), m.group(3))
        return _from_pair(text[:2], text[2:4], text[4:], ambiguous)
    if m := _YEAR_FIRST.fullmatch(text):
        return _build(m.group(1), m.group(3), m.group(4))
    if m := _PAIR_YEAR.fullmatch(text):
        return _from_pair(m.group(1), m.group(3), m.group(4), ambiguous)
    if m := _MONTH_YEAR.fullmatch(text):
        return _build(m.group(3), m.group(1), None)
    if _TWO_DIGIT_YEAR.fullmatch(text):
        raise NormalisationError("two-digit year")
    raise NormalisationError("unrecognised date format")


def _canonical_text(value: str) -> str:
    """NFKC, ASCII digits, lower case, no time of day, single spaces, no spaces at separators."""
    text = unicodedata.normalize("NFKC", value)
    if not text.isascii():
        text = "".join(_ascii_digit(ch) for ch in text)
    text = _SPACES.sub(" ", text.strip().lower())
    text = _TIME_SUFFIX.sub("", text)
    return _SPACED_SEPARATOR.sub(r"\1", text)


def _ascii_digit(ch: str) -> str:
    return str(unicodedata.digit(ch)) if unicodedata.category(ch) == "Nd" else ch


def _number(part: str | None) -> int | None:
    """``None`` for an absent or unknown (``0``, ``00``, ``x``, ``xx``) part."""
    if part is None or part.startswith("x"):
        return None
    return int(part) or None


def _build(year: str, month: str | None, day: str | None) -> PartialDate:
    m, d = _number(month), _number(day)
    if m is None and d is not None:
        raise NormalisationError("day without month")
    return PartialDate(int(year), m, d)


def _from_pair(first: str, second: str, year: str, rule: AmbiguityRule) -> PartialDate:
    a, b = _number(first), _number(second)
    if a is None or b is None:
        # A single unknown part is the day; the known one (if any) is the month.
        return PartialDate(int(year), a if b is None else b, None)
    if a > 12 >= b:
        day, month = a, b
    elif b > 12 >= a:
        month, day = a, b
    elif a == b or rule == "day_first":
        day, month = a, b
    elif rule == "month_first":
        month, day = a, b
    else:
        raise NormalisationError("ambiguous day/month")
    return PartialDate(int(year), month, day)


def _check(year: int, month: int | None, day: int | None) -> None:
    # The annotations are not enforced at run time; a bool or a float must not slip through.
    if not _is_int(year) or not all(p is None or _is_int(p) for p in (month, day)):
        raise NormalisationError("date parts must be integers")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise NormalisationError("year out of range")
    if month is None:
        if day is not None:
            raise NormalisationError("day without month")
        return
    if not 1 <= month <= 12:
        raise NormalisationError("invalid month")
    if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise NormalisationError("invalid day")


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


# --- fast path for a batch of values -------------------------------------------------------

# Each shape's two separators must be the same character; RE2 (Arrow's regex engine) has no
# back-references, so both are captured and compared afterwards.
_FAST_SHAPES = (
    r"(?P<y1>[0-9]{4})(?P<s1>[-/.])(?P<m1>[0-9]{1,2})(?P<t1>[-/.])(?P<d1>[0-9]{1,2})",
    r"(?P<a>[0-9]{1,2})(?P<s2>[-/. ])(?P<b>[0-9]{1,2})(?P<t2>[-/. ])(?P<y2>[0-9]{4})",
    r"(?P<y3>[0-9]{4})(?P<m3>[0-9]{2})(?P<d3>[0-9]{2})",
)
_FAST = r"^(?:" + "|".join(_FAST_SHAPES) + r")$"
_NUMBERS = ("y1", "m1", "d1", "a", "b", "y2", "y3", "m3", "d3")
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def fast_iso_dates(values: Sequence[str], *, ambiguous: AmbiguityRule = "day_first") -> list[str | None]:
    """``parse_date(v, ambiguous=...).iso()`` for each value in the common plain shapes
    (``1987-03-14``, ``14/03/1987``, ``19870314``) that are valid dates, computed columnwise;
    ``None`` where the value needs ``parse_date`` (other shapes, unknown parts, errors)."""
    if ambiguous not in _RULES:
        raise SchemaError("unknown day/month ambiguity rule")
    if not len(values):
        return []
    parts = _fast_parts(values)
    ymd = _year_first(parts)
    pair = _pair_year(parts, ambiguous)
    year, month, day = (np.where(ymd[0] > 0, ymd[i], pair[i]) for i in range(3))
    ok = _valid(year, month, day)
    return [f"{y:04d}-{m:02d}-{d:02d}" if good else None for y, m, d, good in
            zip(year.tolist(), month.tolist(), day.tolist(), ok.tolist(), strict=True)]


def _fast_parts(values: Sequence[str]) -> dict[str, np.ndarray]:
    """The numbers of each value's shape (-1 where absent or where the value has no plain
    shape, including mismatched separators), matched by Arrow's RE2 over the whole column."""
    matched = pc.extract_regex(pa.array(list(values), type=pa.string()), _FAST)
    same = pc.and_(pc.equal(pc.struct_field(matched, "s1"), pc.struct_field(matched, "t1")),
                   pc.equal(pc.struct_field(matched, "s2"), pc.struct_field(matched, "t2")))
    keep = pc.fill_null(same, False).to_numpy(zero_copy_only=False)
    out = {}
    for name in _NUMBERS:
        text = pc.struct_field(matched, name)
        number = pc.cast(pc.if_else(pc.equal(text, ""), None, text), pa.int64())
        out[name] = np.where(keep, pc.fill_null(number, -1).to_numpy(), -1)
    return out


def _year_first(parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y1, y3 = parts["y1"], parts["y3"]
    eight = (y3 >= MIN_YEAR) & (y3 <= MAX_YEAR)  # other eight digits read as ddmmyyyy
    year = np.where(y1 >= 0, y1, np.where(eight, y3, -1))
    month = np.where(y1 >= 0, parts["m1"], parts["m3"])
    day = np.where(y1 >= 0, parts["d1"], parts["d3"])
    return year, month, day


def _pair_year(parts: dict[str, np.ndarray], rule: AmbiguityRule):
    """Year, month, day of ``nn/nn/yyyy`` (and of ``ddmmyyyy``), as ``_from_pair`` reads them."""
    a, b, year = parts["a"], parts["b"], parts["y2"]
    y3, m3, d3 = parts["y3"], parts["m3"], parts["d3"]
    eight = (y3 >= 0) & (year < 0)  # digits "ddmm" "yy" "yy"
    a, b = np.where(eight, y3 // 100, a), np.where(eight, y3 % 100, b)
    year = np.where(eight, m3 * 100 + d3, year)
    month_first = (b > 12) & (a <= 12)
    if rule == "month_first":
        month_first = (a <= 12) & (a != b)
    elif rule == "error":  # ambiguous: left to parse_date, which gives the reason
        year = np.where((a <= 12) & (b <= 12) & (a != b), -1, year)
    return year, np.where(month_first, a, b), np.where(month_first, b, a)


def _valid(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    ok = (year >= MIN_YEAR) & (year <= MAX_YEAR) & (month >= 1) & (month <= 12) & (day >= 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    return ok & (day <= days)
