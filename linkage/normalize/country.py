"""Country codes and names to ISO 3166-1 alpha-3.

``to_alpha3`` accepts, compared after ``fold`` (so case, accents, script and punctuation do
not matter, and a leading "the" is ignored):

* ISO 3166-1 alpha-2, alpha-3 and numeric codes (``de``, ``DEU``, ``276``, ``76``);
* the ISO names, official names and common names that ``pycountry`` ships (``Russian
  Federation``, ``Republic of Türkiye``, ``South Korea``), looked up exactly: there is no
  fuzzy matching, because a wrong nationality is worse than none;
* ``COUNTRY_ALIASES``: names in other languages and scripts that agencies use (endonyms
  such as ``Deutschland``, ``Россия``, ``Україна``, ``مصر``, ``中国``, ``대한민국``,
  ``नेपाल``, ``ไทย``, exonyms such as ``Allemagne``, and everyday names such as ``UK``,
  ``Russia``, ``Turkey``, ``Holland``, ``Burma``, ``Ivory Coast``);
* codes outside ISO 3166 that agencies meet on travel documents: ``XKX``/``XK`` (Kosovo,
  used by the EU and ICAO), ``XXA`` (ICAO 9303: stateless person), ``D`` (ICAO code of
  Germany in passports) and the ICAO British-nationality codes ``GBD``, ``GBN``, ``GBO``,
  ``GBP`` and ``GBS`` (all ``GBR``).

Former countries (USSR, Yugoslavia, Czechoslovakia) and nationality adjectives (``German``)
are not mapped. Anything else raises ``NormalisationError("unknown country")``.

The lookup table is built on first use, not at import time, and then kept: it holds public
reference data only. Every result is an alpha-3 code, which maps to itself, so the function
is idempotent.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from linkage.errors import NormalisationError
from linkage.normalize.text import fold

__all__ = ["COUNTRY_ALIASES", "to_alpha3"]

#: Further names per alpha-3 code, written as sources write them; matched after ``fold``.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "AFG": ("افغانستان", "Afghanestan"),
    "ALB": ("Shqipëria", "Shqipëri", "Albanien", "Albanie"),
    "ARE": ("UAE", "ОАЭ", "Emirates", "الإمارات", "الإمارات العربية المتحدة"),
    "ARM": ("Հայաստան", "Armenien", "Армения"),
    "AUT": ("Österreich", "Autriche"),
    "AZE": ("Azərbaycan", "Азербайджан"),
    "BGD": ("বাংলাদেশ",),
    "BGR": ("България", "Bulgarien", "Bulgarie", "Болгария"),
    "BIH": ("Bosnia", "Bosna i Hercegovina", "Босна и Херцеговина"),
    "BLR": ("Беларусь", "Белоруссия", "Weißrussland", "Biélorussie", "Byelorussia"),
    "BRA": ("Brasil", "Brasilien", "Brésil"),
    "BRN": ("Brunei",),
    "CHE": ("Schweiz", "Suisse", "Svizzera", "Suiza"),
    "CHN": (
        "中国",
        "中國",
        "中华人民共和国",
        "Zhongguo",
        "PRC",
        "People's Republic of China",
        "Chine",
        "Китай",
        "الصين",
    ),
    "CIV": ("Ivory Coast", "Cote d Ivoire", "Elfenbeinküste"),
    "COD": (
        "DR Congo",
        "DRC",
        "RDC",
        "Democratic Republic of the Congo",
        "Congo Kinshasa",
        "République démocratique du Congo",
    ),
    "COG": ("Congo Brazzaville",),
    "CPV": ("Cape Verde",),
    "CYP": ("Κύπρος", "Kıbrıs", "Zypern"),
    "CZE": ("Česko", "Česká republika"),
    "DEU": (
        "D",
        "Deutschland",
        "Allemagne",
        "Alemania",
        "Germania",
        "Германия",
        "Niemcy",
        "Almanya",
        "ألمانيا",
        "德国",
        "德國",
        "ドイツ",
        "독일",
        "Německo",
    ),
    "DZA": ("الجزائر", "Algérie", "Algerien"),
    "EGY": ("Misr", "مصر", "Ägypten", "Égypte", "Egipto", "Египет"),
    "ERI": ("ኤርትራ", "Ertra", "إرتريا"),
    "ESP": ("España", "Spanien", "Espagne", "Spagna", "Испания"),
    "ETH": ("ኢትዮጵያ", "Äthiopien", "Éthiopie"),
    "FRA": ("Frankreich", "Francia", "Франция"),
    "GBR": (
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
        "Royaume-Uni",
        "Vereinigtes Königreich",
        "Reino Unido",
        "Великобритания",
        "GBD",
        "GBN",
        "GBO",
        "GBP",
        "GBS",
    ),
    "GEO": ("საქართველო", "Грузия", "Sakartvelo"),
    "GRC": ("Ελλάδα", "Ελλάς", "Hellas", "Ellada", "Griechenland", "Grèce", "Grecia", "Греция"),
    "HKG": ("香港",),
    "HRV": ("Hrvatska", "Kroatien", "Croatie"),
    "HUN": ("Magyarország", "Ungarn", "Hongrie"),
    "IND": ("भारत", "Bharat", "印度", "Indien", "Inde"),
    "IRN": ("ایران", "Irán"),
    "IRQ": ("العراق", "Irak"),
    "ISR": ("ישראל", "إسرائيل"),
    "ITA": ("Italia", "Italien", "Italie", "Италия"),
    "JOR": ("الأردن", "Jordanien", "Jordanie"),
    "JPN": ("日本", "Nihon", "Nippon", "にほん", "にっぽん", "Japon", "Giappone", "Япония"),
    "KAZ": ("Қазақстан",),
    "KHM": ("កម្ពុជា", "Kampuchea"),
    "KOR": (
        "대한민국",
        "한국",
        "韩国",
        "韓國",
        "Republic of Korea",
        "Korea South",
        "Südkorea",
        "Corée du Sud",
        "Южная Корея",
    ),
    "LAO": ("ລາວ",),
    "LBN": ("لبنان", "Liban", "Libanon"),
    "LBY": ("ليبيا", "Libyen", "Libye"),
    "LKA": ("ශ්‍රී ලංකාව", "இலங்கை"),
    "MAR": ("المغرب", "Maroc", "Marokko", "Marruecos"),
    "MDA": ("Молдова",),
    "MEX": ("México", "Mexiko", "Mexique"),
    "MKD": ("Macedonia", "Македонија", "Северна Македонија"),
    "MMR": ("Burma", "မြန်မာ"),
    "MNE": ("Crna Gora", "Црна Гора"),
    "NLD": ("Holland", "Nederland", "Niederlande", "Pays-Bas", "Países Bajos"),
    "NPL": ("नेपाल",),
    "PAK": ("پاکستان",),
    "PHL": ("Pilipinas",),
    "POL": ("Polska", "Polen", "Pologne", "Польша"),
    "PRK": ("조선", "朝鲜", "北朝鮮", "DPRK", "Korea North", "Nordkorea", "Северная Корея"),
    "PSE": ("Palestine", "فلسطين"),
    "ROU": ("Rumänien", "Roumanie", "Rumania", "Румыния"),
    "RUS": (
        "Russia",
        "Rossiya",
        "Россия",
        "Российская Федерация",
        "Russland",
        "Russie",
        "Rusia",
        "Rosja",
        "Rusya",
        "روسيا",
        "俄罗斯",
        "Росія",
    ),
    "SAU": ("السعودية", "المملكة العربية السعودية", "Saudi"),
    "SDN": ("السودان",),
    "SOM": ("Soomaaliya", "الصومال", "Somalie"),
    "SRB": ("Србија", "Srbija", "Serbien", "Serbie"),
    "SWE": ("Sverige", "Schweden", "Suède"),
    "SWZ": ("Swaziland",),
    "SYR": ("سوريا", "سورية", "Syrien", "Syrie", "Siria", "Сирия"),
    "THA": ("ไทย", "ประเทศไทย", "Prathet Thai", "泰国"),
    "TJK": ("Тоҷикистон",),
    "TLS": ("East Timor",),
    "TUN": ("تونس", "Tunesien", "Tunisie"),
    "TUR": ("Turkey", "Türkei", "Turquie", "Turquía", "Турция", "تركيا"),
    "TWN": ("台灣", "臺灣", "台湾"),
    "UKR": ("Україна", "Украина", "Ukraina", "Ukraine"),
    "USA": (
        "U.S.A.",
        "U.S.",
        "America",
        "United States of America",
        "États-Unis",
        "Estados Unidos",
        "Vereinigte Staaten",
        "США",
    ),
    "UZB": ("Oʻzbekiston", "Ўзбекистон"),
    "VAT": ("Vatican", "Vatican City", "Holy See"),
    "VNM": ("Việt Nam", "越南"),
    "XKX": ("XK", "XKX", "Kosovo", "Kosova", "Kosovë", "Косово", "Republika e Kosovës"),
    "XXA": ("XXA", "Stateless", "Staatenlos", "Apatride", "Apátrida", "Без гражданства", "عديم الجنسية"),
    "YEM": ("اليمن", "Jemen"),
}


def to_alpha3(value: str) -> str:
    """Return the ISO 3166-1 alpha-3 code of a country code or name; see the module docstring.

    Raises ``NormalisationError`` ("empty country" or "unknown country"), never naming the
    value.
    """
    if not isinstance(value, str):
        raise NormalisationError("expected a string")
    codes, names = _lookup_tables()
    raw = unicodedata.normalize("NFKC", value).strip()
    if _is_code(raw) and (code := codes.get(_code_key(raw))):
        return code
    key = _name_key(raw)
    if not key:
        raise NormalisationError("empty country")
    code = names.get(key)
    if code is None:
        raise NormalisationError("unknown country")
    return code


def _is_code(text: str) -> bool:
    """Codes (``DE``, ``DEU``, ``276``, ``UK``) are up to three ASCII letters or digits.

    They are looked up in a table of their own, before folding: Arabic script folds to
    consonants only, so ``مصر`` (Egypt) folds to ``msr``, the alpha-3 code of Montserrat.
    """
    return len(text) <= 3 and text.isascii() and text.isalnum()


def _code_key(text: str) -> str:
    return text.zfill(3) if text.isdigit() else text.upper()


def _name_key(text: str) -> str:
    key = fold(text)
    return key[4:] if key.startswith("the ") else key


@functools.cache
def _lookup_tables() -> tuple[dict[str, str], dict[str, str]]:
    """(codes, folded names) -> alpha-3. Public reference data, so caching it is fine."""
    import pycountry  # here, not at module level: importing it reads package metadata

    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    for country in pycountry.countries:
        optional = (getattr(country, a, None) for a in ("common_name", "official_name"))
        entries = (country.alpha_2, country.alpha_3, country.numeric, country.name, *optional)
        _add(codes, names, country.alpha_3, (e for e in entries if e))
    for code, aliases in COUNTRY_ALIASES.items():
        _add(codes, names, code, (code, *aliases))
    _add_translations(names, pycountry)
    return codes, names


#: Languages whose ISO 3166 country names (pycountry's gettext catalogues, from Debian's
#: iso-codes) are accepted, chosen for the agencies this system serves.
TRANSLATION_LANGUAGES: tuple[str, ...] = (
    "fr", "de", "es", "it", "pt", "pt_BR", "nl", "pl", "ro", "bg", "ru", "uk", "el", "tr",
    "ar", "fa", "he", "hi", "ne", "th", "vi", "zh_CN", "ja", "ko", "sq", "sr", "hr", "hu", "cs",
)  # fmt: skip


def _add_translations(names: dict[str, str], pycountry) -> None:
    """Country names in other languages. They never override an English name or an alias:
    where two languages give one folded name to different countries, the first one wins."""
    import gettext

    for lang in TRANSLATION_LANGUAGES:
        try:
            catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        for country in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                english = getattr(country, attr, None)
                if english:
                    translated = catalogue.gettext(english)
                    if translated != english and (key := _name_key(translated)):
                        names.setdefault(key, country.alpha_3)


def _add(codes: dict[str, str], names: dict[str, str], code: str, entries: Iterable[str]) -> None:
    for entry in entries:
        table, key = (codes, _code_key(entry)) if _is_code(entry) else (names, _name_key(entry))
        if table.setdefault(key, code) != code:
            raise RuntimeError(f"country table: {entry!r} is the key of two countries")
