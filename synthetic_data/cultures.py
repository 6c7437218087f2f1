"""Name cultures of the synthetic population.

A culture is where a person's names come from: which name pools, which script they are
written in natively, which romaniser turns them into Latin letters, and name conventions
(family name first, patronymics, double surnames). Each culture has a default weight in the
population mix and the countries its people are born in.

The pools of the Faker-backed cultures are frozen in ``names/name_pools.json`` (built by
``python -m synthetic_data.build_pools``); Arabic and Persian come from curated tables in
``synthetic_data.names.curated`` because Faker writes them without vowels, from which no
romanisation can be derived.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CULTURES", "SCRIPTS", "Culture", "culture", "culture_codes", "default_culture_weights"]

#: Scripts the generator writes, by the romaniser language that handles them.
SCRIPTS = ("latin", "cyrillic", "arabic", "devanagari", "thai", "han", "japanese", "hangul")


@dataclass(frozen=True)
class Culture:
    """Where a person's names come from and how they are written."""

    code: str
    label: str
    faker_locales: tuple[tuple[str, float], ...]
    script: str
    lang: str  # romaniser key: latin, ru, uk, bg, ar, fa, hi, ne, th, zh, ja, ko
    family_first: bool
    middle_rate: float  # share of people with a middle name (patronymic, second given name)
    double_surname: float  # share of people with two family names (paternal + maternal)
    birth_countries: tuple[tuple[str, float], ...]
    weight: float  # default weight in the population mix


CULTURES: tuple[Culture, ...] = (
    Culture("GB", "British", (("en_GB", 1.0),), "latin", "latin", False, 0.45, 0.0,
            (("GB", 1.0),), 7.0),
    Culture("US", "American", (("en_US", 1.0),), "latin", "latin", False, 0.55, 0.0,
            (("US", 1.0),), 4.0),
    Culture("FR", "French", (("fr_FR", 1.0),), "latin", "latin", False, 0.3, 0.0,
            (("FR", 1.0),), 5.0),
    Culture("DE", "German", (("de_DE", 1.0),), "latin", "latin", False, 0.3, 0.0,
            (("DE", 1.0),), 5.0),
    Culture("RO", "Romanian", (("ro_RO", 1.0),), "latin", "latin", False, 0.25, 0.0,
            (("RO", 1.0),), 7.0),
    Culture("BG", "Bulgarian", (("bg_BG", 1.0),), "cyrillic", "bg", False, 0.9, 0.0,
            (("BG", 1.0),), 4.0),
    Culture("RU", "Russian", (("ru_RU", 1.0),), "cyrillic", "ru", False, 0.95, 0.0,
            (("RU", 1.0),), 6.0),
    Culture("UA", "Ukrainian", (("uk_UA", 1.0),), "cyrillic", "uk", False, 0.95, 0.0,
            (("UA", 1.0),), 7.0),
    Culture("AR", "Arabic", (("ar_AA", 1.0),), "arabic", "ar", False, 0.55, 0.0,
            (("SY", 0.5), ("IQ", 0.3), ("EG", 0.2)), 8.0),
    Culture("FA", "Persian", (("fa_IR", 1.0),), "arabic", "fa", False, 0.1, 0.0,
            (("IR", 0.6), ("AF", 0.4)), 5.0),
    Culture("TR", "Turkish", (("tr_TR", 1.0),), "latin", "latin", False, 0.2, 0.0,
            (("TR", 1.0),), 5.0),
    Culture("IN", "Indian (Hindi)", (("hi_IN", 1.0),), "devanagari", "hi", False, 0.3, 0.0,
            (("IN", 1.0),), 5.0),
    Culture("NP", "Nepali", (("ne_NP", 1.0),), "devanagari", "ne", False, 0.5, 0.0,
            (("NP", 1.0),), 2.0),
    Culture("TH", "Thai", (("th_TH", 1.0),), "thai", "th", False, 0.0, 0.0,
            (("TH", 1.0),), 3.0),
    Culture("VN", "Vietnamese", (("vi_VN", 1.0),), "latin", "latin", True, 0.9, 0.0,
            (("VN", 1.0),), 4.0),
    Culture("CN", "Chinese", (("zh_CN", 1.0),), "han", "zh", True, 0.0, 0.0,
            (("CN", 1.0),), 5.0),
    Culture("JP", "Japanese", (("ja_JP", 1.0),), "japanese", "ja", True, 0.0, 0.0,
            (("JP", 1.0),), 2.0),
    Culture("KR", "Korean", (("ko_KR", 1.0),), "hangul", "ko", True, 0.0, 0.0,
            (("KR", 1.0),), 2.0),
    Culture("MX", "Mexican", (("es_MX", 1.0),), "latin", "latin", False, 0.25, 0.85,
            (("MX", 1.0),), 3.0),
    Culture("BR", "Brazilian", (("pt_BR", 1.0),), "latin", "latin", False, 0.2, 0.55,
            (("BR", 1.0),), 3.0),
    Culture("NG", "Nigerian", (("en_NG", 0.2), ("yo_NG", 0.35), ("ig_NG", 0.25), ("ha_NG", 0.2)),
            "latin", "latin", False, 0.5, 0.0, (("NG", 1.0),), 6.0),
)

_BY_CODE = {c.code: c for c in CULTURES}


def culture(code: str) -> Culture:
    """The culture with this code; ``KeyError`` names the unknown code."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown culture {code!r}; known: {', '.join(_BY_CODE)}") from None


def culture_codes() -> tuple[str, ...]:
    return tuple(c.code for c in CULTURES)


def default_culture_weights() -> dict[str, float]:
    """The default population mix (a European agencies' caseload): code -> weight."""
    return {c.code: c.weight for c in CULTURES}
