"""Romanisation of Russian, Ukrainian and Bulgarian names by several systems.

Agencies romanise Cyrillic the way their language does, which is why one person is
Yuriy Shchukin (English, BGN/PCGN), Iurii Shchukin (ICAO passport), Juri Schtschukin
(German, Duden) and Iouri Chtchoukine (French). ``icao`` is the system of the country's own
passports (Russia: ICAO Doc 9303 since 2013, Ukraine: the 2010 national system, Bulgaria: the
2009 Streamlined System).
"""

from __future__ import annotations

__all__ = ["SYSTEMS", "romanise_cyrillic", "variants_cyrillic"]

SYSTEMS = ("icao", "en", "de", "fr")

_VOWELS = set("аеёиоуыэюяіїєъь")

_RU_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia",
}
_RU = {
    "icao": (_RU_ICAO, {}, (("ий", "ii"), ("ый", "y"))),
    "en": ({**_RU_ICAO, "ё": "yo", "й": "y", "ъ": "", "ю": "yu", "я": "ya"},
           {"е": "ye", "ё": "yo"}, (("ий", "iy"), ("ый", "yy"))),
    "de": ({**_RU_ICAO, "в": "w", "ж": "sch", "з": "s", "й": "j", "х": "ch", "ц": "z",
            "ч": "tsch", "ш": "sch", "щ": "schtsch", "ъ": "", "ю": "ju", "я": "ja",
            "ё": "jo"},
           {"е": "je"}, (("ий", "i"), ("ый", "y"))),
    "fr": ({**_RU_ICAO, "ж": "j", "у": "ou", "ч": "tch", "ш": "ch", "щ": "chtch", "ъ": "",
            "ю": "iou", "я": "ia", "ё": "io", "й": "i"},
           {}, (("ий", "i"), ("ый", "y"))),
}

_UK_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia", "'": "", "ʼ": "", "’": "",
}
_UK_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_UK = {
    "icao": (_UK_ICAO, _UK_INITIAL, (("ий", "yi"),)),
    "en": ({**_UK_ICAO, "є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"},
           _UK_INITIAL, (("ий", "yy"),)),
    "de": ({**_UK_ICAO, "в": "w", "ж": "sch", "з": "s", "й": "j", "х": "ch", "ц": "z",
            "ч": "tsch", "ш": "sch", "щ": "schtsch", "ю": "ju", "я": "ja", "є": "je",
            "ї": "ji"},
           {}, (("ий", "yj"),)),
    "fr": ({**_UK_ICAO, "ж": "j", "у": "ou", "ч": "tch", "ш": "ch", "щ": "chtch",
            "ю": "iou", "я": "ia", "є": "ie", "ї": "i"},
           {}, (("ий", "y"),)),
}

_BG_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "sht", "ъ": "a", "ь": "y", "ю": "yu", "я": "ya",
}
_BG = {
    "icao": (_BG_ICAO, {}, (("ия", "ia"),)),
    "en": ({**_BG_ICAO, "х": "kh", "ъ": "u"}, {}, (("ия", "iya"),)),
    "de": ({**_BG_ICAO, "в": "w", "ж": "sch", "з": "s", "й": "j", "х": "ch", "ц": "z",
            "ч": "tsch", "ш": "sch", "щ": "scht", "ю": "ju", "я": "ja"},
           {}, (("ия", "ija"),)),
    "fr": ({**_BG_ICAO, "ж": "j", "у": "ou", "х": "kh", "ч": "tch", "ш": "ch", "щ": "cht",
            "ю": "iou", "я": "ia", "й": "i"},
           {}, (("ия", "ia"),)),
}

_TABLES = {"ru": _RU, "uk": _UK, "bg": _BG}

# Spellings seen in records that follow no system: Alexandr, Dmitry, Yury, Olga for Ol'ga.
_POPULAR = (("ks", "x"), ("iy ", "y "), ("ii ", "y "), ("yy ", "y "), ("kh", "h"))


def _word(word: str, table: dict[str, str], initial: dict[str, str],
          endings: tuple[tuple[str, str], ...], after_vowel: bool) -> str:
    lower = word.lower()
    tail = ""
    for cyr, lat in endings:
        if len(lower) > len(cyr) + 1 and lower.endswith(cyr):
            lower, tail = lower[: -len(cyr)], lat
            break
    out = []
    prev = ""
    for ch in lower:
        if ch in initial and (not prev or (after_vowel and prev in _VOWELS)):
            out.append(initial[ch])
        else:
            out.append(table.get(ch, ch))
        prev = ch
    return "".join(out) + tail


def _case_like(latin: str) -> str:
    """Title-case each part (names arrive in title case; hyphenated parts stay apart)."""
    return "-".join(p[:1].upper() + p[1:] for p in latin.split("-"))


def romanise_cyrillic(text: str, lang: str, system: str) -> str:
    """Romanise ``text`` (a Russian, Ukrainian or Bulgarian name) by ``system``."""
    table, initial, endings = _TABLES[lang].get(system, _TABLES[lang]["icao"])
    # Russian iotated vowels are written ye/yo after vowels too; Ukrainian only word-initially.
    after_vowel = lang == "ru"
    words = [_case_like(_word(w, table, initial, endings, after_vowel)) for w in text.split()]
    return " ".join(words)


def variants_cyrillic(text: str, lang: str) -> tuple[str, ...]:
    """Distinct romanisations: every system, then the popular spellings of the English one."""
    seen: dict[str, None] = {}
    for system in SYSTEMS:
        seen[romanise_cyrillic(text, lang, system)] = None
    popular = romanise_cyrillic(text, lang, "en").lower() + " "
    for old, new in _POPULAR:
        popular = popular.replace(old, new)
    seen[" ".join(_case_like(w) for w in popular.split())] = None
    return tuple(seen)
