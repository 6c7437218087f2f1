import subprocess
import sys

import pycountry
import pytest

from linkage.errors import NormalisationError
from linkage.normalize.country import COUNTRY_ALIASES, to_alpha3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # ISO codes, any case, numeric with or without zeros
        ("DE", "DEU"), ("deu", "DEU"), ("276", "DEU"), ("76", "BRA"), ("076", "BRA"),
        ("ＤＥ", "DEU"),  # full-width
        # ISO, official and common names (pycountry), exact after folding
        ("Germany", "DEU"), ("Russian Federation", "RUS"), ("South Korea", "KOR"),
        ("Korea, Republic of", "KOR"), ("Iran", "IRN"), ("Viet Nam", "VNM"), ("Vietnam", "VNM"),
        ("Côte d'Ivoire", "CIV"), ("Côte d’Ivoire", "CIV"), ("Türkiye", "TUR"),
        ("United States of America", "USA"), ("the Netherlands", "NLD"), ("The Gambia", "GMB"),
        ("Nigeria", "NGA"), ("NIGERIA", "NGA"), ("Syria", "SYR"), ("Czechia", "CZE"),
        # everyday names and non-ISO codes
        ("UK", "GBR"), ("U.K.", "GBR"), ("Great Britain", "GBR"), ("England", "GBR"),
        ("USA", "USA"), ("U.S.A.", "USA"), ("Russia", "RUS"), ("Turkey", "TUR"),
        ("Holland", "NLD"), ("Burma", "MMR"), ("Ivory Coast", "CIV"), ("DR Congo", "COD"),
        ("Congo", "COG"), ("Kosovo", "XKX"), ("XK", "XKX"), ("XKX", "XKX"), ("UAE", "ARE"),
        ("D", "DEU"), ("GBD", "GBR"), ("Stateless", "XXA"),
        # other languages and scripts
        ("Deutschland", "DEU"), ("Allemagne", "DEU"), ("Германия", "DEU"), ("ألمانيا", "DEU"),
        ("德国", "DEU"), ("ドイツ", "DEU"), ("독일", "DEU"),
        ("Россия", "RUS"), ("Rossiya", "RUS"), ("Україна", "UKR"), ("Украина", "UKR"),
        ("България", "BGR"), ("România", "ROU"), ("Türkei", "TUR"),
        ("مصر", "EGY"), ("Misr", "EGY"), ("سوريا", "SYR"), ("العراق", "IRQ"),
        ("ایران", "IRN"), ("پاکستان", "PAK"), ("افغانستان", "AFG"),
        ("Ελλάδα", "GRC"), ("ישראל", "ISR"),
        ("中国", "CHN"), ("中國", "CHN"), ("日本", "JPN"), ("대한민국", "KOR"), ("한국", "KOR"),
        ("조선", "PRK"), ("Việt Nam", "VNM"), ("ไทย", "THA"), ("Thailand", "THA"),
        ("नेपाल", "NPL"), ("Nepal", "NPL"), ("भारत", "IND"),
        ("Brasil", "BRA"), ("México", "MEX"), ("España", "ESP"),
    ],
)  # fmt: skip
def test_to_alpha3(value, expected):
    assert to_alpha3(value) == expected


def test_codes_are_looked_up_before_folding():
    # Arabic script folds to consonants: مصر (Egypt) folds to "msr", Montserrat's code.
    assert to_alpha3("MSR") == "MSR"
    assert to_alpha3("مصر") == "EGY"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Atlantis", "unknown country"),
        ("Germny", "unknown country"),  # no fuzzy matching
        ("German", "unknown country"),  # nationality adjectives are not mapped
        ("USSR", "unknown country"),
        ("Korea", "unknown country"),  # which one?
        ("999", "unknown country"),
        ("ZZ", "unknown country"),
        ("", "empty country"),
        (" - ", "empty country"),
    ],
)
def test_unknown_countries_raise_without_the_value(value, reason):
    with pytest.raises(NormalisationError) as info:
        to_alpha3(value)
    assert str(info.value) == reason


def test_every_iso_country_maps_to_itself_by_every_code_and_name():
    for c in pycountry.countries:
        for entry in (c.alpha_2, c.alpha_3, c.numeric, c.name):
            assert to_alpha3(entry) == c.alpha_3, entry


def test_aliases_map_to_their_code_and_results_are_fixed_points():
    for code, names in COUNTRY_ALIASES.items():
        assert to_alpha3(code) == code
        for name in names:
            assert to_alpha3(name) == code, name


def test_no_work_at_import_time():
    code = (
        "import sys, linkage.normalize.country as c\n"
        "assert 'pycountry' not in sys.modules\n"
        "assert c._lookup_tables.cache_info().currsize == 0\n"
        "assert c.to_alpha3('Deutschland') == 'DEU'\n"
        "assert c._lookup_tables.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("value", [None, 276, b"DE"])
def test_rejects_non_strings(value):
    with pytest.raises(NormalisationError, match="expected a string"):
        to_alpha3(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [("Thaïlande", "THA"), ("Tailandia", "THA"), ("Таиланд", "THA"), ("Corea del Sur", "KOR"),
     ("Émirats arabes unis", "ARE"), ("ОАЭ", "ARE"), ("Polonia", "POL"), ("Нидерланды", "NLD"),
     ("Ucrania", "UKR"), ("Afganistán", "AFG")],
)
def test_translated_country_names(value, code):
    """Names from the ISO 3166 translations (pycountry's catalogues) in agencies' languages."""
    assert to_alpha3(value) == code
