"""The catalogue of agency profiles (up to 20), each with its country's conventions.

``default_agencies(n)`` gives the first ``n`` profiles named agency_a, agency_b, ... The first
three are the default: a British police force, a German border police and a French
victim-support service. They differ in every convention: date format, sex codes, nationality
as a name or a code, romanisation system, diacritics, document and phone formats, and how many
names they keep in the person's own script.
"""

from __future__ import annotations

import dataclasses
import string

from synthetic_data.config import AgencyConfig

__all__ = ["AGENCY_PROFILES", "default_agencies"]

_A = AgencyConfig

#: Profiles in catalogue order; names and prefixes are assigned by ``default_agencies``.
AGENCY_PROFILES: tuple[AgencyConfig, ...] = (
    _A("gb_police", "GB", "police", "en", "latin", "dmy_slash", "given_first", "MF", "name",
       "en", "plain", "national", keep_native=0.02, ascii_rate=0.8, ascii_style="strip"),
    _A("de_border", "DE", "border", "de", "latin", "dmy_dot", "given_first", "words_de",
       "alpha3", "icao", "plain", "e164", keep_native=0.0, ascii_rate=0.4, ascii_style="mrz"),
    _A("fr_victims", "FR", "victim_support", "fr", "latin", "dmy_slash", "given_first",
       "words_fr", "name", "fr", "spaced", "national", keep_native=0.35, ascii_rate=0.15),
    _A("us_police", "US", "police", "en", "latin", "mdy_slash", "given_first", "words_en",
       "alpha2", "en", "plain", "national", keep_native=0.0, ascii_rate=0.9),
    _A("ru_police", "RU", "police", "ru", "cyrillic", "dmy_dot", "given_first", "cyrillic",
       "name", "icao", "plain", "national", ascii_rate=0.3),
    _A("ua_border", "UA", "border", "uk", "cyrillic", "dmy_dot", "given_first", "cyrillic",
       "alpha3", "icao", "plain", "e164", ascii_rate=0.5, ascii_style="mrz"),
    _A("tr_police", "TR", "police", "tr", "latin", "dmy_dot", "given_first", "MF", "alpha3",
       "en", "plain", "national", keep_native=0.0, ascii_rate=0.3),
    _A("es_victims", "ES", "victim_support", "es", "latin", "dmy_slash", "given_first",
       "words_es", "name", "en", "dashed", "national", keep_native=0.25, ascii_rate=0.2),
    _A("it_police", "IT", "police", "it", "latin", "dmy_slash", "given_first", "MF", "alpha3",
       "en", "plain", "international", keep_native=0.0, ascii_rate=0.5),
    _A("ro_border", "RO", "border", "ro", "latin", "dmy_dot", "given_first", "MF", "alpha3",
       "icao", "plain", "e164", keep_native=0.0, ascii_rate=0.5, ascii_style="mrz"),
    _A("bg_police", "BG", "police", "bg", "cyrillic", "dmy_dot", "given_first", "cyrillic",
       "alpha3", "icao", "plain", "national", ascii_rate=0.5),
    _A("nl_police", "NL", "police", "nl", "latin", "dmy_dash", "given_first", "MF", "alpha2",
       "en", "plain", "international", keep_native=0.0, ascii_rate=0.6),
    _A("ae_border", "AE", "border", "ar", "arabic", "iso", "given_first", "MF", "alpha3",
       "icao", "plain", "e164", ascii_rate=0.6, ascii_style="mrz"),
    _A("in_police", "IN", "police", "hi", "devanagari", "dmy_slash", "given_first", "MF",
       "alpha3", "icao", "plain", "national", ascii_rate=0.6),
    _A("th_police", "TH", "police", "th", "thai", "dmy_slash", "given_first", "MF", "alpha3",
       "icao", "plain", "national", ascii_rate=0.6),
    _A("jp_immigration", "JP", "border", "ja", "japanese", "iso", "family_first", "MF",
       "alpha3", "icao", "plain", "e164", ascii_rate=0.6, ascii_style="mrz"),
    _A("cn_police", "CN", "police", "zh", "han", "ymd_compact", "family_first", "MF",
       "alpha3", "icao", "plain", "national", ascii_rate=0.6),
    _A("kr_police", "KR", "police", "ko", "hangul", "iso", "family_first", "MF", "alpha3",
       "icao", "plain", "national", ascii_rate=0.6),
    _A("mx_police", "MX", "police", "es", "latin", "dmy_slash", "given_first", "words_es",
       "name", "en", "plain", "national", keep_native=0.0, ascii_rate=0.3),
    _A("br_border", "BR", "border", "pt", "latin", "dmy_slash", "given_first", "MF",
       "alpha3", "icao", "plain", "e164", keep_native=0.0, ascii_rate=0.5, ascii_style="mrz"),
)


def default_agencies(n: int = 3) -> tuple[AgencyConfig, ...]:
    """The first ``n`` catalogue profiles, named agency_a, agency_b, ... (prefixes A, B, ...)."""
    if not 1 <= n <= len(AGENCY_PROFILES):
        raise ValueError(f"between 1 and {len(AGENCY_PROFILES)} agencies are supported")
    letters = string.ascii_lowercase
    return tuple(
        dataclasses.replace(p, name=f"agency_{letters[i]}", record_prefix=letters[i].upper())
        for i, p in enumerate(AGENCY_PROFILES[:n])
    )
