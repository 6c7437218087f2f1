"""Clean views of people: the truth table of a data set and the attacker's public list.

``clean_frame`` writes people without any corruption, romanised by their passports' system
(ICAO), dates in ISO, countries as ISO alpha-3, so it is what a voter roll or a sanctions
list would hold. ``reference_population`` draws a fresh population from the same name
distributions (a separate random stream, so different people) for privacy-attack
simulations: the attacker knows name frequencies, not the agencies' records.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from synthetic_data.countries import COUNTRIES
from synthetic_data.cultures import CULTURES, default_culture_weights
from synthetic_data.identifiers import document_number, phone_number
from synthetic_data.names.pools import load_pools
from synthetic_data.population import COUNTRY_CODES, MAX_ALIASES, People, build_people
from synthetic_data.seeds import Stream

__all__ = ["PERSON_COLUMNS", "clean_frame", "reference_population"]

PERSON_COLUMNS = (
    "given_name", "middle_name", "family_name", "aliases", "sex", "date_of_birth",
    "place_of_birth", "country_of_birth", "nationality", "document_number", "phone",
)
_SEX = ("M", "F", "X")


def _name(pools: dict, ci: int, kind: str, female: bool, idx: int, native: bool) -> str:
    if idx < 0:
        return ""
    pool = pools[CULTURES[ci].code].pool(kind, female)
    return pool.names[idx] if native else pool.forms("icao")[idx]


def _aliases(pools: dict, people: People, i: int, female: bool) -> str:
    out = []
    for s in range(MAX_ALIASES):
        kind = int(people.alias_kind[i, s])
        if not kind:
            continue
        ci = int(people.alias_culture[i, s])
        given = _name(pools, ci, "given", female, int(people.alias_given[i, s]), False)
        family = _name(pools, ci, "family", female, int(people.alias_family[i, s]), False)
        if kind == 3:
            nicks = pools[CULTURES[ci].code].pool("given", female).nicknames()[
                int(people.alias_given[i, s])]
            given = next((n for n in nicks if n.isascii()), given)
        out.append(f"{family} {given}" if kind == 5 else f"{given} {family}")
    return "|".join(dict.fromkeys(out))


def clean_frame(people: People, *, native: bool = False) -> pd.DataFrame:
    """One clean row per person (``PERSON_COLUMNS``, plus ``culture``; with ``native``, also
    the names in their own script as given_name_native, middle_name_native,
    family_name_native)."""
    pools = load_pools()
    rows: dict[str, list[str]] = {c: [] for c in (*PERSON_COLUMNS, "culture")}
    if native:
        for c in ("given_name_native", "middle_name_native", "family_name_native"):
            rows[c] = []
    dob = people.dob.astype("datetime64[D]").astype(str)
    for i in range(len(people)):
        ci, female = int(people.culture[i]), bool(people.name_sex[i])
        family = _name(pools, ci, "family", female, int(people.family[i]), False)
        family2 = _name(pools, ci, "family", female, int(people.family2[i]), False)
        birth = COUNTRIES[COUNTRY_CODES[people.birth_country[i]]]
        city = birth.cities[int(people.city[i])] if birth.cities else None
        nationality = COUNTRY_CODES[people.nationality[i]]
        phone_country = COUNTRY_CODES[people.phone_country[i]]
        rows["given_name"].append(_name(pools, ci, "given", female, int(people.given[i]), False))
        rows["middle_name"].append(
            _name(pools, ci, "middle", female, int(people.middle[i]), False))
        rows["family_name"].append(f"{family} {family2}" if family2 else family)
        rows["aliases"].append(_aliases(pools, people, i, female))
        rows["sex"].append(_SEX[people.sex[i]])
        rows["date_of_birth"].append(str(dob[i]))
        rows["place_of_birth"].append(city.exonyms.get("en", city.latin) if city else "")
        rows["country_of_birth"].append(birth.alpha3)
        rows["nationality"].append(COUNTRIES[nationality].alpha3)
        rows["document_number"].append(document_number(nationality, int(people.doc_key[i])))
        rows["phone"].append("+" + COUNTRIES[phone_country].calling_code
                             + phone_number(phone_country, int(people.phone_key[i])))
        rows["culture"].append(CULTURES[ci].code)
        if native:
            for col, kind, idx in (("given_name_native", "given", people.given[i]),
                                   ("middle_name_native", "middle", people.middle[i]),
                                   ("family_name_native", "family", people.family[i])):
                rows[col].append(_name(pools, ci, kind, female, int(idx), True))
    return pd.DataFrame(rows)


def reference_population(n: int, seed: int,
                         cultures: Mapping[str, float] | None = None) -> pd.DataFrame:
    """A clean, romanised public list of ``n`` people (a voter roll, a sanctions list) drawn
    from the same name distributions as ``generate`` but from its own random stream.

    Columns: record_id ("R-0000001" ...) and ``PERSON_COLUMNS``. Same ``n``, ``seed`` and
    ``cultures`` give the same list on any machine.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    weights = default_culture_weights() if cultures is None else dict(cultures)
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in ("record_id", *PERSON_COLUMNS)})
    people = build_people(n, seed, weights, kind=Stream.REFERENCE)
    frame = clean_frame(people)[list(PERSON_COLUMNS)]
    frame.insert(0, "record_id", [f"R-{i:07d}" for i in np.arange(1, n + 1)])
    return frame
