"""One entry point for turning a native name into Latin letters, by agency system.

``romanise`` gives the form an agency using ``system`` writes by default; ``variants`` every
distinct form seen in records, the passport form first. Systems: ``icao`` (the passport of the
person's country), ``en``, ``de``, ``fr`` (how agencies of that language romanise). Only
Cyrillic and the curated Arabic/Persian names differ by system; for the other scripts the
passport spelling is what every agency copies, and the system-free variants are the
transliteration errors.
"""

from __future__ import annotations

from functools import cache

from anyascii import anyascii

from synthetic_data.names.cjk import (
    romanise_han,
    romanise_hangul,
    romanise_kana,
    variants_han,
    variants_hangul,
    variants_kana,
)
from synthetic_data.names.curated import ARABIC, PERSIAN
from synthetic_data.names.cyrillic import romanise_cyrillic, variants_cyrillic
from synthetic_data.names.indic import romanise_devanagari, variants_devanagari
from synthetic_data.names.latin import variants_latin
from synthetic_data.names.thai import romanise_thai, variants_thai

__all__ = ["SYSTEMS", "romanise", "variants"]

SYSTEMS = ("icao", "en", "de", "fr")


@cache
def _curated(lang: str) -> dict[str, tuple[str, ...]]:
    """native -> (english, french, *alternatives) for Arabic or Persian names."""
    table: dict[str, tuple[str, ...]] = {}
    for entries in (ARABIC if lang == "ar" else PERSIAN).values():
        for native, _weight, *forms in entries:
            table.setdefault(native, tuple(forms))
    return table


def _fallback(native: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in anyascii(native).split())


def romanise(native: str, lang: str, system: str = "icao", *, family: bool = False,
             kana: str | None = None) -> str:
    """The form an agency romanising by ``system`` writes for ``native``."""
    if lang == "latin" or not native:
        return native
    if lang in ("ru", "uk", "bg"):
        return romanise_cyrillic(native, lang, system)
    if lang in ("ar", "fa"):
        forms = _curated(lang).get(native)
        if forms is None:
            return _fallback(native)
        return forms[1] if system == "fr" else forms[0]
    if lang in ("hi", "ne"):
        return romanise_devanagari(native)
    if lang == "th":
        return romanise_thai(native)
    if lang == "zh":
        return romanise_han(native, surname=family)
    if lang == "ko":
        return romanise_hangul(native, surname=family)
    if lang == "ja":
        return romanise_kana(kana) if kana else _fallback(native)
    return _fallback(native)


def variants(native: str, lang: str, *, family: bool = False,
             kana: str | None = None) -> tuple[str, ...]:
    """Every distinct Latin form of ``native`` seen in records, the passport form first."""
    if not native:
        return ("",)
    if lang == "latin":
        return variants_latin(native)
    if lang in ("ru", "uk", "bg"):
        return variants_cyrillic(native, lang)
    if lang in ("ar", "fa"):
        forms = _curated(lang).get(native)
        return tuple(dict.fromkeys(forms)) if forms else (_fallback(native),)
    if lang in ("hi", "ne"):
        return variants_devanagari(native, lang)
    if lang == "th":
        return variants_thai(native)
    if lang == "zh":
        return variants_han(native, surname=family)
    if lang == "ko":
        return variants_hangul(native, surname=family)
    if lang == "ja" and kana:
        return variants_kana(kana)
    return (_fallback(native),)
