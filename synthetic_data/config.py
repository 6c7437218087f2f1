"""Generator configuration: population, agencies, overlap and corruption rates.

Every rate is a probability in [0, 1]. "Per record" rates apply independently to each
record an agency holds; a corruption that cannot apply to a record (a nickname when none is
known, a day/month swap when the day is above 12) is skipped, and rates are measured over the
records it can apply to. All defaults are documented in docs/synthetic_data.md.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthetic_data.cultures import culture_codes, default_culture_weights

__all__ = [
    "DATE_FORMATS",
    "DOCUMENT_FORMATS",
    "NATIONALITY_FORMATS",
    "PHONE_FORMATS",
    "ROLES",
    "ROLE_MISSING",
    "SEX_CODES",
    "TRANSLITERATIONS",
    "AgencyConfig",
    "CorruptionRates",
    "GeneratorConfig",
    "MissingRates",
    "config_from_dict",
    "config_to_dict",
]

DATE_FORMATS = ("iso", "dmy_slash", "dmy_dot", "dmy_dash", "mdy_slash", "ymd_compact")
SEX_CODES = ("MF", "words_en", "words_de", "words_fr", "words_es", "cyrillic", "iso5218")
NATIONALITY_FORMATS = ("name", "alpha2", "alpha3")
DOCUMENT_FORMATS = ("plain", "spaced", "dashed")
PHONE_FORMATS = ("e164", "international", "national", "00")
ROLES = ("police", "border", "victim_support")
TRANSLITERATIONS = ("icao", "en", "de", "fr")
ASCII_STYLES = ("strip", "mrz")
NAME_ORDERS = ("given_first", "family_first")


def _check_rates(obj: object) -> None:
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, float | int) and not 0.0 <= value <= 1.0:
            raise ValueError(f"{type(obj).__name__}.{f.name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class CorruptionRates:
    """Per-record probabilities of each kind of error real records show."""

    typo: float = 0.10  # one keyboard error in a name or place: neighbour key, insertion,
    #                     deletion or transposition
    ocr: float = 0.02  # one OCR confusion (rn/m, l/1, O/0, cl/d ...) in a name or document
    phonetic: float = 0.05  # a romanised name respelled by sound (ph/f, c/k, y/i, ll/l ...)
    nickname: float = 0.05  # given name replaced by a nickname or diminutive (Bill, Sasha)
    transliteration: float = 0.20  # a non-Latin name romanised by another system than the
    #                                agency's own (Mohamed for Mohammed, Iurii for Yuriy)
    equivalent_name: float = 0.03  # given name written in the agency language's form
    #                                (Oleksandr -> Alexander, Aleksandr in a Russian file)
    name_order_swap: float = 0.02  # given and family name swapped
    family_first_swap: float = 0.20  # ... when the culture's name order differs from the
    #     agency's (CN, JP, KR, VN names in a given-first agency, or the reverse) and the name
    #     is not in its native script
    missing_middle: float = 0.35  # middle name or patronymic not recorded
    particle_drop: float = 0.30  # name particle dropped (al-, el, van, de, da, bin ...)
    second_surname_drop: float = 0.30  # second of two family names dropped (MX, BR)
    alias_as_name: float = 0.02  # record made under one of the person's aliases
    alias_recorded: float = 0.50  # each known alias is listed in the aliases column
    day_month_swap: float = 0.03  # day and month swapped (when the day is 12 or less)
    year_only: float = 0.02  # only the year of birth recorded
    placeholder_date: float = 0.02  # unknown day and month recorded as 1 January
    date_digit: float = 0.01  # one wrong digit: year or day off by one
    document_format: float = 0.10  # document number in another format than the agency's
    document_other: float = 0.10  # another document recorded (renewed passport, ID card)
    phone_format: float = 0.10  # phone number in another format than the agency's
    phone_other: float = 0.15  # another phone number
    sex_error: float = 0.005  # the other sex recorded

    def __post_init__(self) -> None:
        _check_rates(self)

    def scaled(self, factor: float) -> CorruptionRates:
        """Error rates times ``factor`` (capped at 1); alias_recorded is not an error."""
        values = {f.name: min(1.0, getattr(self, f.name) * factor)
                  for f in dataclasses.fields(self) if f.name != "alias_recorded"}
        return dataclasses.replace(self, **values)


@dataclass(frozen=True)
class MissingRates:
    """Per-record probability that a field is left empty (police defaults)."""

    sex: float = 0.02
    date_of_birth: float = 0.03
    place_of_birth: float = 0.20
    country_of_birth: float = 0.15
    nationality: float = 0.05
    document_number: float = 0.30
    phone: float = 0.40

    def __post_init__(self) -> None:
        _check_rates(self)


#: Missing-value profiles by agency role: border agencies read passports, victim-support
#: services often have no document and an approximate date of birth.
ROLE_MISSING: dict[str, MissingRates] = {
    "police": MissingRates(),
    "border": MissingRates(sex=0.0, date_of_birth=0.005, place_of_birth=0.05,
                           country_of_birth=0.05, nationality=0.0, document_number=0.01,
                           phone=0.7),
    "victim_support": MissingRates(sex=0.02, date_of_birth=0.08, place_of_birth=0.5,
                                   country_of_birth=0.3, nationality=0.1,
                                   document_number=0.6, phone=0.15),
}


@dataclass(frozen=True)
class AgencyConfig:
    """One agency: where it is, how it writes records, and how much of the population it holds.

    ``share`` is relative: agency sizes are proportional to their shares (a person held by one
    agency is placed in agency a with probability share_a / sum of shares; a person held by
    several agencies is placed in k distinct agencies drawn with the same weights).
    """

    name: str
    country: str  # ISO 3166-1 alpha-2
    role: str = "police"
    language: str = "en"  # names of countries, exonyms, equivalent given names
    script: str = "latin"  # the agency's own script; names of that script stay native
    date_format: str = "dmy_slash"
    name_order: str = "given_first"
    sex_codes: str = "MF"
    nationality_format: str = "name"
    transliteration: str = "en"  # romanisation system: icao, en, de, fr
    document_format: str = "plain"
    phone_format: str = "international"
    keep_native: float = 0.02  # share of non-Latin names a Latin-script agency keeps native
    ascii_rate: float = 0.5  # share of records whose Latin diacritics are lost
    ascii_style: str = "strip"  # strip (Müller -> Muller) or mrz (Müller -> Mueller)
    share: float = 1.0
    error_scale: float = 1.0  # multiplies every corruption rate for this agency
    record_prefix: str = "A"
    missing: MissingRates | None = None  # None: the role's profile

    def __post_init__(self) -> None:
        choices = {
            "role": ROLES, "date_format": DATE_FORMATS, "sex_codes": SEX_CODES,
            "nationality_format": NATIONALITY_FORMATS, "document_format": DOCUMENT_FORMATS,
            "phone_format": PHONE_FORMATS, "transliteration": TRANSLITERATIONS,
            "ascii_style": ASCII_STYLES, "name_order": NAME_ORDERS,
        }
        for attr, allowed in choices.items():
            if getattr(self, attr) not in allowed:
                raise ValueError(f"agency {self.name!r}: {attr} must be one of {allowed}")
        for attr in ("keep_native", "ascii_rate"):
            if not 0.0 <= getattr(self, attr) <= 1.0:
                raise ValueError(f"agency {self.name!r}: {attr} must be in [0, 1]")
        if self.share <= 0 or self.error_scale < 0:
            raise ValueError(f"agency {self.name!r}: share must be > 0 and error_scale >= 0")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}", self.name) or self.name in (
                "truth", "corruptions", "manifest"):
            raise ValueError(f"agency name {self.name!r} must be a short file-safe slug "
                             "other than truth, corruptions, manifest")
        if not re.fullmatch(r"[A-Za-z0-9]{1,8}", self.record_prefix):
            raise ValueError(f"agency {self.name!r}: record_prefix must be 1-8 letters/digits")

    @property
    def missing_rates(self) -> MissingRates:
        return self.missing if self.missing is not None else ROLE_MISSING[self.role]


def _default_agencies() -> tuple[AgencyConfig, ...]:
    from synthetic_data.agencies import default_agencies

    return default_agencies(3)


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that shapes a generated data set (with the seed, it fixes the data)."""

    people: int = 10_000
    agencies: tuple[AgencyConfig, ...] = field(default_factory=_default_agencies)
    overlap: float = 0.2  # share of people held by two or more agencies
    multiplicity: tuple[float, ...] = (0.6, 0.25, 0.1, 0.05)  # weights of 2, 3, 4, 5+
    #     agencies for a shared person (weights beyond the number of agencies fold into it)
    duplicate_rate: float = 0.03  # share of (person, agency) memberships with an extra record
    cultures: Mapping[str, float] = field(default_factory=default_culture_weights)
    alias_counts: tuple[float, ...] = (0.6, 0.25, 0.1, 0.05)  # P(0, 1, 2, 3 aliases)
    migrant_nationality: float = 0.10  # share of people holding a host country's nationality
    corruption: CorruptionRates = field(default_factory=CorruptionRates)

    def __post_init__(self) -> None:
        if self.people < 1:
            raise ValueError("people must be at least 1")
        if not 1 <= len(self.agencies) <= 20:
            raise ValueError("between 1 and 20 agencies are supported")
        names = [a.name for a in self.agencies]
        prefixes = [a.record_prefix for a in self.agencies]
        if len(set(names)) != len(names) or len(set(prefixes)) != len(prefixes):
            raise ValueError("agency names and record prefixes must be unique")
        for attr in ("overlap", "duplicate_rate", "migrant_nationality"):
            if not 0.0 <= getattr(self, attr) <= 1.0:
                raise ValueError(f"{attr} must be in [0, 1]")
        known = set(culture_codes())
        unknown = [c for c in self.cultures if c not in known]
        if unknown:
            raise ValueError(f"unknown cultures {unknown}; known: {sorted(known)}")
        if not any(w > 0 for w in self.cultures.values()):
            raise ValueError("at least one culture must have a positive weight")
        for attr in ("multiplicity", "alias_counts"):
            weights = getattr(self, attr)
            if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(f"{attr} must be non-negative weights with a positive sum")
        if len(self.alias_counts) > 4:
            raise ValueError("at most 3 aliases per person (alias_counts has 4 entries)")


def config_to_dict(config: GeneratorConfig) -> dict[str, Any]:
    """A JSON-ready dict (the manifest of a written data set carries it)."""
    data = dataclasses.asdict(config)
    data["cultures"] = dict(config.cultures)
    return data


def config_from_dict(data: Mapping[str, Any]) -> GeneratorConfig:
    """The inverse of ``config_to_dict``; omitted keys take their defaults."""
    values = dict(data)
    if "agencies" in values:
        agencies = []
        for a in values["agencies"]:
            a = dict(a)
            if a.get("missing") is not None:
                a["missing"] = MissingRates(**a["missing"])
            agencies.append(AgencyConfig(**a))
        values["agencies"] = tuple(agencies)
    if "corruption" in values:
        values["corruption"] = CorruptionRates(**values["corruption"])
    for key in ("multiplicity", "alias_counts"):
        if key in values:
            values[key] = tuple(values[key])
    return GeneratorConfig(**values)
