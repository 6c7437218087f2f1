"""Writing one agency's records: its conventions applied, then the corruptions.

For a chunk of records (the people they are about, in record order), ``render_records``
decides per record, with one uniform per decision drawn up front, how the agency writes each
field, and which corruptions happen. Every applied corruption is logged by name, so rates can
be checked against the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from synthetic_data.config import AgencyConfig, CorruptionRates
from synthetic_data.conventions import (
    format_country,
    format_date,
    format_document,
    format_phone,
    format_sex,
)
from synthetic_data.corrupt import drop_particle, ocr_error, phonetic_respelling, typo
from synthetic_data.countries import COUNTRIES
from synthetic_data.cultures import CULTURES
from synthetic_data.identifiers import document_number, other_key, phone_number
from synthetic_data.names.cyrillic import romanise_cyrillic
from synthetic_data.names.equivalents import equivalent_in
from synthetic_data.names.latin import ascii_fold, mrz_fold
from synthetic_data.names.pools import load_pools
from synthetic_data.names.romanise import romanise
from synthetic_data.population import COUNTRY_CODES, MAX_ALIASES, People

__all__ = ["RECORD_COLUMNS", "RecordBatch", "is_latin", "render_records"]

RECORD_COLUMNS = (
    "record_id", "given_name", "middle_name", "family_name", "aliases", "sex",
    "date_of_birth", "place_of_birth", "country_of_birth", "nationality", "document_number",
    "phone",
)
ALIAS_SEPARATOR = "|"
_EXONYM_RATE = 0.8  # an agency writes a foreign city by its own-language name when it has one
_DOC_STYLES = ("plain", "spaced", "dashed", "lower", "nozeros")
_PHONE_STYLES = ("e164", "international", "national", "00", "digits")


class _U(IntEnum):
    """Columns of the per-record uniform matrix: one per decision."""

    SCRIPT = 0
    TRANSLIT = 1
    EQUIV = 2
    NICK = 3
    ORDER = 4
    MIDDLE = 5
    PARTICLE = 6
    SURNAME2 = 7
    ALIAS_AS_NAME = 8
    TYPO = 9
    OCR = 10
    PHONETIC = 11
    DATE_SWAP = 12
    YEAR_ONLY = 13
    PLACEHOLDER = 14
    DATE_DIGIT = 15
    DOC_FORMAT = 16
    DOC_OTHER = 17
    PHONE_FORMAT = 18
    PHONE_OTHER = 19
    SEX_ERROR = 20
    ASCII = 21
    EXONYM = 22
    MISSING_SEX = 23
    MISSING_DOB = 24
    MISSING_PLACE = 25
    MISSING_COB = 26
    MISSING_NAT = 27
    MISSING_DOC = 28
    MISSING_PHONE = 29
    ALIAS_RECORDED = 30  # MAX_ALIASES + 1 columns: each alias, then the true name


_N_UNIFORMS = _U.ALIAS_RECORDED + MAX_ALIASES + 1

# How a name is written: Latin-script culture as is, native script, or romanised.
_LATIN, _NATIVE, _ROMAN = 0, 1, 2


@dataclass(frozen=True)
class RecordBatch:
    """Records in column form (``RECORD_COLUMNS``) and the corruptions applied to each."""

    columns: dict[str, list[str]]
    log: list[str]  # per record: applied corruptions, ";"-separated


def is_latin(text: str) -> bool:
    """Latin script (ASCII or Latin letters with diacritics) throughout."""
    return all(ch.isascii() or "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff"
               for ch in text)


def _choose(options: list[str], weights: list[float], rng: np.random.Generator) -> str | None:
    total = sum(weights)
    if total <= 0:
        return None
    u = rng.random() * total
    for option, w in zip(options, weights, strict=True):
        u -= w
        if u < 0:
            return option
    return options[-1]


class _Writer:
    """Renders the records of one chunk for one agency."""

    def __init__(self, agency: AgencyConfig, rates: CorruptionRates,
                 rng: np.random.Generator) -> None:
        self.agency = agency
        self.rates = rates
        self.rng = rng
        self.pools = load_pools()
        self.missing = agency.missing_rates
        self.base_mode = [self._base_mode(c.script) for c in CULTURES]

    def _base_mode(self, script: str) -> int:
        if script == "latin":
            return _LATIN
        if script == self.agency.script:
            return _NATIVE
        return -1 if self.agency.script == "latin" else _ROMAN  # -1: native or not, by coin

    # -- names ------------------------------------------------------------------------

    def _text(self, ci: int, kind: str, female: bool, idx: int, mode: int,
              vary: bool) -> str:
        pool = self.pools[CULTURES[ci].code].pool(kind, female)
        if mode != _ROMAN:
            return pool.names[idx]
        if vary:
            forms = pool.variants()[idx]
            return forms[int(self.rng.integers(len(forms)))]
        return pool.forms(self.agency.transliteration)[idx]

    def _nickname(self, ci: int, female: bool, idx: int, mode: int) -> str | None:
        options = self.pools[CULTURES[ci].code].pool("given", female).nicknames()[idx]
        if not options:
            return None
        pick = options[int(self.rng.integers(len(options)))]
        if is_latin(pick):
            return pick if mode != _NATIVE or CULTURES[ci].script == "latin" else None
        if mode == _ROMAN:
            return romanise(pick, CULTURES[ci].lang, self.agency.transliteration)
        return pick

    def _fold(self, text: str) -> str:
        return mrz_fold(text) if self.agency.ascii_style == "mrz" else ascii_fold(text)

    def _full_alias(self, given: str, family: str) -> str:
        parts = [family, given] if self.agency.name_order == "family_first" else [given, family]
        return " ".join(p for p in parts if p)

    def _alias_parts(self, p: _Person, slot: int, mode_of: dict[int, int]) -> tuple[str, str]:
        """(given, family) of alias ``slot``, written as the agency writes that culture."""
        kind, ci = p.alias_kind[slot], p.alias_culture[slot]
        mode = mode_of.setdefault(ci, self._mode(ci, p.u[_U.SCRIPT]))
        given = self._text(ci, "given", p.female, p.alias_given[slot], mode, False)
        family = self._text(ci, "family", p.female, p.alias_family[slot], mode, False)
        if kind == 3:
            given = self._nickname(ci, p.female, p.alias_given[slot], mode) or given
        return (family, given) if kind == 5 else (given, family)

    def _mode(self, ci: int, u: float) -> int:
        base = self.base_mode[ci]
        if base == -1:
            return _NATIVE if u < self.agency.keep_native else _ROMAN
        return base

    def _written(self, p: _Person, mode: int, log: list[str]) -> tuple[str, str, str]:
        """(given, middle, family) in the script and romanisation the agency uses."""
        r, u, ci = self.rates, p.u, p.culture
        vary = mode == _ROMAN and u[_U.TRANSLIT] < r.transliteration
        given = self._text(ci, "given", p.female, p.given, mode, vary)
        family = self._text(ci, "family", p.female, p.family, mode, vary)
        if vary:
            standard = (self._text(ci, "given", p.female, p.given, mode, False),
                        self._text(ci, "family", p.female, p.family, mode, False))
            if tuple(map(ascii_fold, (given, family))) != tuple(map(ascii_fold, standard)):
                log.append("transliteration")  # not for Satō/Sato: a diacritic, not a spelling
        if p.family2 >= 0:
            if u[_U.SURNAME2] < r.second_surname_drop:
                log.append("second_surname_drop")
            else:
                family += " " + self._text(ci, "family", p.female, p.family2, mode, vary)
        middle = ""
        if p.middle >= 0:
            if u[_U.MIDDLE] < r.missing_middle:
                log.append("missing_middle")
            else:
                middle = self._text(ci, "middle", p.female, p.middle, mode, vary)
        return given, middle, family

    def names(self, p: _Person, log: list[str]) -> tuple[str, str, str, str]:
        """(given, middle, family, aliases) as the agency records them, errors included."""
        r, u, ci = self.rates, p.u, p.culture
        mode = self._mode(ci, u[_U.SCRIPT])
        if mode == _NATIVE and self.base_mode[ci] == -1:
            log.append("native_script")
        given, middle, family = self._written(p, mode, log)
        given = self._given_form(p, mode, given, log)
        with_particle = drop_particle(family)
        if with_particle != family and u[_U.PARTICLE] < r.particle_drop:
            family = with_particle
            log.append("particle_drop")
        aliases = self._aliases(p, log)
        if aliases.primary is not None:
            given, family, middle = aliases.primary[0], aliases.primary[1], ""
        if mode != _NATIVE and u[_U.ASCII] < self.agency.ascii_rate:
            folded = tuple(self._fold(t) for t in (given, middle, family))
            if folded != (given, middle, family):
                given, middle, family = folded
                log.append("diacritics")
        # A culture whose name order differs from the agency's gets swapped more often.
        foreign_order = CULTURES[ci].family_first != (self.agency.name_order == "family_first")
        swap_rate = r.family_first_swap if foreign_order and mode != _NATIVE else (
            r.name_order_swap)
        if u[_U.ORDER] < swap_rate:
            given, family = family, given
            log.append("name_order_swap")
        return given, middle, family, aliases.text

    def _given_form(self, p: _Person, mode: int, given: str, log: list[str]) -> str:
        """Equivalent-language form or nickname of the given name, when one applies."""
        r, u, ci = self.rates, p.u, p.culture
        native = self.pools[CULTURES[ci].code].pool("given", p.female).names[p.given]
        if u[_U.EQUIV] < r.equivalent_name:
            eq = equivalent_in(native, self.agency.language)
            if eq is not None and (is_latin(eq) != (mode == _NATIVE and not is_latin(native))):
                log.append("equivalent_name")
                return eq
        if u[_U.NICK] < r.nickname:
            nick = self._nickname(ci, p.female, p.given, mode)
            if nick is not None and nick != given:
                log.append("nickname")
                return nick
        return given

    def _aliases(self, p: _Person, log: list[str]) -> _Aliases:
        active = [s for s in range(MAX_ALIASES) if p.alias_kind[s]]
        mode_of: dict[int, int] = {}
        primary = None
        used = -1
        if active and p.u[_U.ALIAS_AS_NAME] < self.rates.alias_as_name:
            used = active[int(self.rng.integers(len(active)))]
            primary = self._alias_parts(p, used, mode_of)
            log.append("alias_as_name")
        listed = []
        for s in active:
            if s != used and p.u[_U.ALIAS_RECORDED + s] < self.rates.alias_recorded:
                listed.append(self._full_alias(*self._alias_parts(p, s, mode_of)))
        if primary is not None and p.u[_U.ALIAS_RECORDED + MAX_ALIASES] < (
                self.rates.alias_recorded):
            mode = self._mode(p.culture, p.u[_U.SCRIPT])
            listed.append(self._full_alias(
                self._text(p.culture, "given", p.female, p.given, mode, False),
                self._text(p.culture, "family", p.female, p.family, mode, False)))
        return _Aliases(primary, ALIAS_SEPARATOR.join(dict.fromkeys(listed)))

    # -- other fields -----------------------------------------------------------------

    def sex(self, p: _Person, log: list[str]) -> str:
        if p.u[_U.MISSING_SEX] < self.missing.sex:
            log.append("missing:sex")
            return ""
        sex = p.sex
        if sex < 2 and p.u[_U.SEX_ERROR] < self.rates.sex_error:
            sex = 1 - sex
            log.append("sex_error")
        return format_sex(sex, self.agency.sex_codes)

    def date(self, p: _Person, log: list[str]) -> str:
        u, r, fmt = p.u, self.rates, self.agency.date_format
        if u[_U.MISSING_DOB] < self.missing.date_of_birth:
            log.append("missing:date_of_birth")
            return ""
        y, m, d = p.ymd
        if u[_U.YEAR_ONLY] < r.year_only:
            log.append("year_only")
            return f"{y:04d}"
        if u[_U.PLACEHOLDER] < r.placeholder_date:
            log.append("placeholder_date")
            return format_date(y, 1, 1, fmt)
        if u[_U.DATE_SWAP] < r.day_month_swap and d <= 12 and d != m:
            m, d = d, m
            log.append("day_month_swap")
        if u[_U.DATE_DIGIT] < r.date_digit:
            if self.rng.random() < 0.5:
                y += 1 if self.rng.random() < 0.5 else -1
            else:
                d = d + 1 if d < 28 else d - 1
            log.append("date_digit")
        return format_date(y, m, d, fmt)

    def place(self, p: _Person, log: list[str]) -> str:
        if p.u[_U.MISSING_PLACE] < self.missing.place_of_birth:
            log.append("missing:place_of_birth")
            return ""
        cities = COUNTRIES[COUNTRY_CODES[p.birth_country]].cities
        if not cities:
            return ""
        city = cities[p.city]
        exonym = city.exonyms.get(self.agency.language)
        if exonym and p.u[_U.EXONYM] < _EXONYM_RATE:
            return exonym
        mode = self._mode(p.culture, p.u[_U.SCRIPT])
        if mode != _ROMAN:
            text = city.native if (mode == _NATIVE or is_latin(city.native)) else city.latin
        elif CULTURES[p.culture].lang in ("ru", "uk", "bg"):
            text = romanise_cyrillic(city.native, CULTURES[p.culture].lang,
                                     self.agency.transliteration)
        else:
            text = city.latin
        if mode != _NATIVE and p.u[_U.ASCII] < self.agency.ascii_rate:
            text = self._fold(text)
        return text

    def country(self, index: int, missing_rate: float, u: float, field: str,
                log: list[str]) -> str:
        if u < missing_rate:
            log.append(f"missing:{field}")
            return ""
        return format_country(COUNTRY_CODES[index], self.agency.nationality_format,
                              self.agency.language)

    def document(self, p: _Person, log: list[str]) -> str:
        u, r = p.u, self.rates
        if u[_U.MISSING_DOC] < self.missing.document_number:
            log.append("missing:document_number")
            return ""
        key = p.doc_key
        if u[_U.DOC_OTHER] < r.document_other:
            key = other_key(key)
            log.append("document_other")
        number = document_number(COUNTRY_CODES[p.nationality], key)
        style = self.agency.document_format
        if u[_U.DOC_FORMAT] < r.document_format:
            others = [s for s in _DOC_STYLES if s != style]
            changed = format_document(number, others[int(self.rng.integers(len(others)))])
            if changed != format_document(number, style):
                log.append("document_format")
                return changed
        return format_document(number, style)

    def phone(self, p: _Person, log: list[str]) -> str:
        u, r = p.u, self.rates
        if u[_U.MISSING_PHONE] < self.missing.phone:
            log.append("missing:phone")
            return ""
        key = p.phone_key
        if u[_U.PHONE_OTHER] < r.phone_other:
            key = other_key(key, 2)
            log.append("phone_other")
        country = COUNTRY_CODES[p.phone_country]
        nsn = phone_number(country, key)
        style = self.agency.phone_format
        if u[_U.PHONE_FORMAT] < r.phone_format:
            others = [s for s in _PHONE_STYLES if s != style]
            changed = format_phone(country, nsn, others[int(self.rng.integers(len(others)))],
                                   self.agency.country)
            if changed != format_phone(country, nsn, style, self.agency.country):
                log.append("phone_format")
                return changed
        return format_phone(country, nsn, style, self.agency.country)

    # -- string corruptions -----------------------------------------------------------

    def corrupt(self, p: _Person, row: dict[str, str], log: list[str]) -> None:
        u, r, rng = p.u, self.rates, self.rng
        fields = ("given_name", "family_name", "middle_name", "place_of_birth")
        if u[_U.TYPO] < r.typo:
            target = _choose(list(fields), [0.4 * bool(row[f]) if i < 2 else
                                            0.1 * bool(row[f]) for i, f in enumerate(fields)],
                             rng)
            if target and (changed := typo(row[target], rng)) != row[target]:
                row[target] = changed
                log.append(f"typo:{target}")
        if u[_U.OCR] < r.ocr:
            names = ("given_name", "family_name", "document_number")
            target = _choose(list(names), [0.4 * bool(row[f]) if i < 2 else 0.2 * bool(row[f])
                                           for i, f in enumerate(names)], rng)
            if target and (changed := ocr_error(row[target], rng)) != row[target]:
                row[target] = changed
                log.append(f"ocr:{target}")
        if u[_U.PHONETIC] < r.phonetic:
            names = ("given_name", "family_name")
            target = _choose(list(names), [float(row[f].isascii() and bool(row[f]))
                                           for f in names], rng)
            if target and (changed := phonetic_respelling(row[target], rng)) != row[target]:
                row[target] = changed
                log.append(f"phonetic:{target}")


@dataclass(frozen=True)
class _Aliases:
    primary: tuple[str, str] | None  # (given, family) when the record uses an alias
    text: str


@dataclass
class _Person:
    """One record's person, as plain Python values (fast to read in the loop)."""

    culture: int
    female: bool
    sex: int
    given: int
    middle: int
    family: int
    family2: int
    ymd: tuple[int, int, int]
    birth_country: int
    city: int
    nationality: int
    doc_key: int
    phone_country: int
    phone_key: int
    alias_kind: list[int]
    alias_culture: list[int]
    alias_given: list[int]
    alias_family: list[int]
    u: list[float]


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    years = d.astype("datetime64[Y]")
    months = d.astype("datetime64[M]")
    return (years.astype(np.int64) + 1970,
            (months - years.astype("datetime64[M]")).astype(np.int64) + 1,
            (d - months.astype("datetime64[D]")).astype(np.int64) + 1)


def _persons(people: People, u: np.ndarray) -> list[_Person]:
    y, m, d = (a.tolist() for a in _ymd(people.dob))
    cols = {name: getattr(people, name).tolist() for name in (
        "culture", "name_sex", "sex", "given", "middle", "family", "family2", "birth_country",
        "city", "nationality", "doc_key", "phone_country", "phone_key", "alias_kind",
        "alias_culture", "alias_given", "alias_family")}
    rows = u.tolist()
    return [
        _Person(cols["culture"][i], bool(cols["name_sex"][i]), cols["sex"][i], cols["given"][i],
                cols["middle"][i], cols["family"][i], cols["family2"][i], (y[i], m[i], d[i]),
                cols["birth_country"][i], cols["city"][i], cols["nationality"][i],
                cols["doc_key"][i], cols["phone_country"][i], cols["phone_key"][i],
                cols["alias_kind"][i], cols["alias_culture"][i], cols["alias_given"][i],
                cols["alias_family"][i], rows[i])
        for i in range(len(people))
    ]


def render_records(people: People, agency: AgencyConfig, rates: CorruptionRates,
                   record_ids: list[str], rng: np.random.Generator) -> RecordBatch:
    """The records of ``people`` (one per entry, in order) as ``agency`` writes them."""
    writer = _Writer(agency, rates, rng)
    u = rng.random((len(people), _N_UNIFORMS))
    columns: dict[str, list[str]] = {c: [] for c in RECORD_COLUMNS}
    logs: list[str] = []
    missing = agency.missing_rates
    for record_id, p in zip(record_ids, _persons(people, u), strict=True):
        log: list[str] = []
        given, middle, family, aliases = writer.names(p, log)
        row = {
            "record_id": record_id, "given_name": given, "middle_name": middle,
            "family_name": family, "aliases": aliases, "sex": writer.sex(p, log),
            "date_of_birth": writer.date(p, log), "place_of_birth": writer.place(p, log),
            "country_of_birth": writer.country(p.birth_country, missing.country_of_birth,
                                               p.u[_U.MISSING_COB], "country_of_birth", log),
            "nationality": writer.country(p.nationality, missing.nationality,
                                          p.u[_U.MISSING_NAT], "nationality", log),
            "document_number": writer.document(p, log), "phone": writer.phone(p, log),
        }
        writer.corrupt(p, row, log)
        for c in RECORD_COLUMNS:
            columns[c].append(row[c])
        logs.append(";".join(log))
    return RecordBatch(columns, logs)
