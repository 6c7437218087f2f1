"""How agencies write dates, sex, countries, document and phone numbers (and reading dates back).

Each convention is a name used in ``AgencyConfig`` (see ``config.DATE_FORMATS`` and friends).
``parse_date`` reads a date written by ``format_date`` under the same convention; tests and
the dataset benchmark use it to compare records with the truth.
"""

from __future__ import annotations

import re

from synthetic_data.countries import COUNTRIES

__all__ = [
    "SEX_VALUES",
    "format_country",
    "format_date",
    "format_document",
    "format_phone",
    "format_sex",
    "parse_date",
]

#: convention -> (male, female, other)
SEX_VALUES: dict[str, tuple[str, str, str]] = {
    "MF": ("M", "F", "X"),
    "words_en": ("Male", "Female", "Other"),
    "words_de": ("männlich", "weiblich", "divers"),
    "words_fr": ("masculin", "féminin", "autre"),
    "words_es": ("hombre", "mujer", "otro"),
    "cyrillic": ("М", "Ж", "X"),
    "iso5218": ("1", "2", "9"),
}

_DATE_PATTERNS = {
    "iso": "{y:04d}-{m:02d}-{d:02d}",
    "dmy_slash": "{d:02d}/{m:02d}/{y:04d}",
    "dmy_dot": "{d:02d}.{m:02d}.{y:04d}",
    "dmy_dash": "{d:02d}-{m:02d}-{y:04d}",
    "mdy_slash": "{m:02d}/{d:02d}/{y:04d}",
    "ymd_compact": "{y:04d}{m:02d}{d:02d}",
}
_DATE_READERS = {
    "iso": (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), ("y", "m", "d")),
    "dmy_slash": (re.compile(r"^(\d{2})/(\d{2})/(\d{4})$"), ("d", "m", "y")),
    "dmy_dot": (re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$"), ("d", "m", "y")),
    "dmy_dash": (re.compile(r"^(\d{2})-(\d{2})-(\d{4})$"), ("d", "m", "y")),
    "mdy_slash": (re.compile(r"^(\d{2})/(\d{2})/(\d{4})$"), ("m", "d", "y")),
    "ymd_compact": (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
}
_YEAR = re.compile(r"^(\d{4})$")


def format_date(year: int, month: int, day: int, convention: str) -> str:
    return _DATE_PATTERNS[convention].format(y=year, m=month, d=day)


def parse_date(value: str, convention: str) -> tuple[int, int | None, int | None] | None:
    """(year, month, day) of a date written under ``convention``; a bare year gives
    (year, None, None); None when the value is empty or does not fit the convention."""
    value = value.strip()
    if not value:
        return None
    if (m := _YEAR.match(value)) and convention != "ymd_compact":
        return int(m.group(1)), None, None
    pattern, order = _DATE_READERS[convention]
    match = pattern.match(value)
    if match is None:
        return None
    parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
    return parts["y"], parts["m"], parts["d"]


def format_sex(sex: int, convention: str) -> str:
    """``sex``: 0 male, 1 female, 2 other."""
    return SEX_VALUES[convention][sex]


def format_country(alpha2: str, convention: str, language: str) -> str:
    c = COUNTRIES[alpha2]
    if convention == "alpha2":
        return c.alpha2
    if convention == "alpha3":
        return c.alpha3
    return c.names.get(language, c.names["en"])


def format_document(number: str, style: str) -> str:
    """plain (C01X00T47), spaced in groups of three, dashed after the letters prefix,
    lower (c01x00t47), nozeros (leading zeros lost, as a spreadsheet does)."""
    if style == "plain":
        return number
    if style == "spaced":
        return " ".join(number[i:i + 3] for i in range(0, len(number), 3))
    if style == "dashed":
        head = len(number) - len(number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) or 3
        return number[:head] + "-" + number[head:]
    if style == "lower":
        return number.lower()
    if style == "nozeros":
        return number.lstrip("0") or number
    raise ValueError(f"unknown document style {style!r}")


def _group(nsn: str) -> str:
    """Digits in groups of 3-4, as printed (7700 900123, 151 2345 6789)."""
    if len(nsn) <= 7:
        return nsn[:3] + " " + nsn[3:]
    head = len(nsn) - 6
    return nsn[:head] + " " + nsn[head:head + 3] + " " + nsn[head + 3:]


def format_phone(alpha2: str, nsn: str, style: str, agency_country: str) -> str:
    """A phone number of ``alpha2`` (national significant number ``nsn``) as written by an
    agency of ``agency_country`` in ``style``; national style only for domestic numbers."""
    c = COUNTRIES[alpha2]
    if style == "national" and alpha2 == agency_country:
        return (c.trunk_prefix + " " if c.trunk_prefix and len(c.trunk_prefix) > 1 else
                c.trunk_prefix) + _group(nsn)
    if style == "e164" or style == "national":
        return "+" + c.calling_code + nsn
    if style == "international":
        return "+" + c.calling_code + " " + _group(nsn)
    if style == "00":
        return "00" + c.calling_code + nsn
    if style == "digits":
        return c.calling_code + nsn
    raise ValueError(f"unknown phone style {style!r}")
