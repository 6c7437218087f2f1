"""The population: who exists, in compact numeric form (about 90 bytes a person).

A person is a row of small integers: culture, sex, indices into the name pools, date of
birth in days, birth country and city, nationality, and 64-bit keys from which document and
phone numbers are spelled out when a record is written. Generated in fixed chunks of
``PEOPLE_CHUNK`` people with one random stream per chunk, vectorised with numpy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from synthetic_data.countries import COUNTRIES, HOST_COUNTRIES
from synthetic_data.cultures import CULTURES
from synthetic_data.names.pools import load_pools
from synthetic_data.seeds import PEOPLE_CHUNK, Stream, stream

__all__ = [
    "ALIAS_KINDS",
    "COUNTRY_CODES",
    "MAX_ALIASES",
    "REFERENCE_DATE",
    "People",
    "build_people",
]

COUNTRY_CODES: tuple[str, ...] = tuple(COUNTRIES)
_COUNTRY_INDEX = {c: i for i, c in enumerate(COUNTRY_CODES)}
_HOSTS = np.array([_COUNTRY_INDEX[c] for c in HOST_COUNTRIES], dtype=np.uint8)

#: Ages are counted back from a fixed date, not today, so a seed gives the same data any year.
REFERENCE_DATE = np.datetime64("2024-01-01", "D")
MAX_ALIASES = 3

#: Alias kinds: another given name, another family name (maiden/married), a nickname,
#: a wholly different identity, the name in the other order. 0 means no alias.
ALIAS_KINDS = {1: "other_given", 2: "other_family", 3: "nickname", 4: "other_identity",
               5: "reordered"}
_ALIAS_KIND_P = np.array([0.25, 0.2, 0.15, 0.3, 0.1])
_X_SEX_RATE = 0.002


@dataclass(frozen=True)
class People:
    """Column arrays of the population (one entry per person)."""

    culture: np.ndarray  # uint8 index into CULTURES
    sex: np.ndarray  # uint8: 0 male, 1 female, 2 other
    name_sex: np.ndarray  # uint8: pools the names come from (0 male, 1 female)
    given: np.ndarray  # int32 pool indices
    middle: np.ndarray  # int32, -1 for none
    family: np.ndarray
    family2: np.ndarray  # int32, -1 for none (second family name)
    dob: np.ndarray  # int32 days since 1970-01-01
    birth_country: np.ndarray  # uint8 index into COUNTRY_CODES
    city: np.ndarray  # int16 index into that country's cities
    nationality: np.ndarray  # uint8
    doc_key: np.ndarray  # uint64
    phone_country: np.ndarray  # uint8
    phone_key: np.ndarray  # uint64
    alias_kind: np.ndarray  # uint8 (n, MAX_ALIASES)
    alias_culture: np.ndarray  # uint8 (n, MAX_ALIASES)
    alias_given: np.ndarray  # int32 (n, MAX_ALIASES)
    alias_family: np.ndarray  # int32 (n, MAX_ALIASES)

    def __len__(self) -> int:
        return len(self.culture)

    def take(self, idx: np.ndarray) -> People:
        return People(**{f.name: getattr(self, f.name)[idx] for f in dataclasses.fields(self)})


def _culture_cdf(weights: Mapping[str, float]) -> np.ndarray:
    w = np.array([max(0.0, float(weights.get(c.code, 0.0))) for c in CULTURES])
    return np.cumsum(w) / w.sum()


def _pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def _birth_places(culture: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    country = np.zeros(len(culture), dtype=np.uint8)
    city = np.zeros(len(culture), dtype=np.int16)
    for ci, c in enumerate(CULTURES):
        mask = culture == ci
        if not mask.any():
            continue
        codes = [code for code, _ in c.birth_countries]
        cdf = np.cumsum([w for _, w in c.birth_countries])
        chosen = _pick(cdf / cdf[-1], u[mask])
        country[mask] = np.array([_COUNTRY_INDEX[code] for code in codes])[chosen]
    for code, ci in _COUNTRY_INDEX.items():
        mask = country == ci
        n_cities = len(COUNTRIES[code].cities)
        if mask.any() and n_cities:
            zipf = 1.0 / np.arange(1, n_cities + 1) ** 0.8  # capitals are birthplaces more often
            city[mask] = _pick(np.cumsum(zipf) / zipf.sum(), v[mask])
    return country, city


def _groups(culture: np.ndarray, name_sex: np.ndarray) -> list[tuple[int, bool, np.ndarray]]:
    """(culture index, female, row indices) for every culture/sex present."""
    keys = culture.astype(np.int64) * 2 + name_sex
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    out = []
    for key in np.unique(sorted_keys):
        lo, hi = np.searchsorted(sorted_keys, [key, key + 1])
        out.append((int(key) // 2, bool(key % 2), order[lo:hi]))
    return out


def _names(culture: np.ndarray, name_sex: np.ndarray, u: np.ndarray) -> dict[str, np.ndarray]:
    """Pool indices of given, middle and family names; u has 6 uniform columns."""
    n = len(culture)
    out = {k: np.full(n, -1, dtype=np.int32) for k in ("given", "middle", "family", "family2")}
    pools = load_pools()
    for ci, female, rows in _groups(culture, name_sex):
        c = CULTURES[ci]
        cp = pools[c.code]
        ur = u[rows]
        out["given"][rows] = cp.pool("given", female).sample(ur[:, 0])
        out["family"][rows] = cp.pool("family", female).sample(ur[:, 1])
        middle = rows[ur[:, 2] < c.middle_rate]
        out["middle"][middle] = cp.pool("middle", female).sample(u[middle, 3])
        double = rows[ur[:, 4] < c.double_surname]
        out["family2"][double] = cp.pool("family", female).sample(u[double, 5])
    return out


def _aliases(culture: np.ndarray, name_sex: np.ndarray, given: np.ndarray, family: np.ndarray,
             alias_counts: Sequence[float], culture_cdf: np.ndarray,
             rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(culture)
    u = rng.random((n, 1 + 5 * MAX_ALIASES))
    counts_cdf = np.cumsum(alias_counts) / np.sum(alias_counts)
    count = _pick(counts_cdf, u[:, 0])
    kind = np.zeros((n, MAX_ALIASES), dtype=np.uint8)
    a_culture = np.repeat(culture[:, None], MAX_ALIASES, axis=1).astype(np.uint8)
    a_given = np.repeat(given[:, None], MAX_ALIASES, axis=1).astype(np.int32)
    a_family = np.repeat(family[:, None], MAX_ALIASES, axis=1).astype(np.int32)
    kind_cdf = np.cumsum(_ALIAS_KIND_P)
    pools = load_pools()
    for s in range(MAX_ALIASES):
        col = 1 + 5 * s
        active = count > s
        k = (_pick(kind_cdf, u[:, col]) + 1).astype(np.uint8)
        k[~active] = 0
        other = k == 4
        a_culture[other, s] = _pick(culture_cdf, u[other, col + 1])
        for ci, female, rows in _groups(a_culture[:, s], name_sex):
            pool_g = pools[CULTURES[ci].code].pool("given", female)
            pool_f = pools[CULTURES[ci].code].pool("family", female)
            kr = k[rows]
            # A nickname alias needs a known nickname, else it is another given name.
            nick = kr == 3
            no_nick = np.zeros_like(nick)
            no_nick[nick] = ~pool_g.has_nickname[given[rows[nick]]]
            kr[no_nick] = 1
            k[rows] = kr
            new_given = rows[(kr == 1) | (kr == 4)]
            new_family = rows[(kr == 2) | (kr == 4)]
            a_given[new_given, s] = pool_g.sample(u[new_given, col + 2])
            a_family[new_family, s] = pool_f.sample(u[new_family, col + 3])
        kind[:, s] = k
    return {"alias_kind": kind, "alias_culture": a_culture, "alias_given": a_given,
            "alias_family": a_family}


def _people_chunk(n: int, culture_cdf: np.ndarray, alias_counts: Sequence[float],
                  migrant_nationality: float, rng: np.random.Generator) -> People:
    u = rng.random((n, 16))
    culture = _pick(culture_cdf, u[:, 0]).astype(np.uint8)
    female = u[:, 1] < 0.5
    sex = female.astype(np.uint8)
    sex[u[:, 2] < _X_SEX_RATE] = 2
    name_sex = np.where(sex == 2, u[:, 3] < 0.5, female).astype(np.uint8)
    names = _names(culture, name_sex, u[:, 4:10])
    age_years = 16.0 + 64.0 * rng.beta(2.0, 3.5, size=n)
    dob = (REFERENCE_DATE.astype(np.int64) - np.floor(age_years * 365.25)).astype(np.int32)
    birth_country, city = _birth_places(culture, u[:, 10], u[:, 11])
    hosts = _HOSTS[np.minimum((u[:, 13] * len(_HOSTS)).astype(int), len(_HOSTS) - 1)]
    nationality = np.where(u[:, 12] < migrant_nationality, hosts, birth_country)
    phone_country = np.where(u[:, 14] < 0.45, nationality, np.roll(hosts, 1))
    keys = rng.integers(0, np.iinfo(np.int64).max, size=(n, 2), dtype=np.int64)
    aliases = _aliases(culture, name_sex, names["given"], names["family"], alias_counts,
                       culture_cdf, rng)
    return People(
        culture=culture, sex=sex, name_sex=name_sex, given=names["given"],
        middle=names["middle"], family=names["family"], family2=names["family2"], dob=dob,
        birth_country=birth_country, city=city, nationality=nationality.astype(np.uint8),
        doc_key=keys[:, 0].astype(np.uint64), phone_country=phone_country.astype(np.uint8),
        phone_key=keys[:, 1].astype(np.uint64), **aliases,
    )


def build_people(n: int, seed: int, cultures: Mapping[str, float],
                 alias_counts: Sequence[float] = (0.6, 0.25, 0.1, 0.05),
                 migrant_nationality: float = 0.1, kind: Stream = Stream.PEOPLE) -> People:
    """``n`` people from the seeded stream ``kind`` (PEOPLE for data sets, REFERENCE for the
    attacker's public list), in chunks of ``PEOPLE_CHUNK``."""
    cdf = _culture_cdf(cultures)
    people: People | None = None
    for chunk, start in enumerate(range(0, n, PEOPLE_CHUNK)):
        size = min(PEOPLE_CHUNK, n - start)
        part = _people_chunk(size, cdf, alias_counts, migrant_nationality,
                             stream(seed, kind, chunk))
        if people is None:  # allocate once: no second copy of the population at the end
            people = People(**{
                f.name: np.empty((n, *getattr(part, f.name).shape[1:]),
                                 dtype=getattr(part, f.name).dtype)
                for f in dataclasses.fields(People)})
        for f in dataclasses.fields(People):
            getattr(people, f.name)[start:start + size] = getattr(part, f.name)
    if people is None:
        raise ValueError("a population needs at least one person")
    return people
