"""Romanisation of Hindi and Nepali (Devanagari) names.

Generic transliterators (anyascii) drop the inherent vowel everywhere (दयाराम -> "dyaram");
names are written the way they are said: the inherent "a" is kept, except at the end of a
word and in the middle where Hindi drops it (Ohala's rule: राजकर्णिकार -> Rajkarnikar).
Variants cover what records show: doubled long vowels (Leelavati), no medial deletion
(Lilavati), a kept final a (Sanjaya),
w for v, and b for word-initial v in Nepali (Bikram).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["romanise_devanagari", "variants_devanagari"]

_CONSONANTS = {
    "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "n", "च": "ch", "छ": "chh", "ज": "j",
    "झ": "jh", "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n", "त": "t",
    "थ": "th", "द": "d", "ध": "dh", "न": "n", "प": "p", "फ": "ph", "ब": "b", "भ": "bh",
    "म": "m", "य": "y", "र": "r", "ल": "l", "व": "v", "श": "sh", "ष": "sh", "स": "s",
    "ह": "h", "ळ": "l", "ऩ": "n", "ऱ": "r",
}
_NUKTA = {"क": "q", "ख": "kh", "ग": "gh", "ज": "z", "ड": "r", "ढ": "rh", "फ": "f"}
# (simple, doubled) forms of each vowel, independent letters and dependent signs.
_VOWELS = {
    "अ": ("a", "a"), "आ": ("a", "aa"), "इ": ("i", "i"), "ई": ("i", "ee"), "उ": ("u", "u"),
    "ऊ": ("u", "oo"), "ऋ": ("ri", "ri"), "ए": ("e", "e"), "ऐ": ("ai", "ai"), "ओ": ("o", "o"),
    "औ": ("au", "au"), "ऑ": ("o", "o"),
}
_SIGNS = {
    "ा": ("a", "aa"), "ि": ("i", "i"), "ी": ("i", "ee"), "ु": ("u", "u"), "ू": ("u", "oo"),
    "ृ": ("ri", "ri"), "े": ("e", "e"), "ै": ("ai", "ai"), "ो": ("o", "o"), "ौ": ("au", "au"),
    "ॅ": ("e", "e"), "ॉ": ("o", "o"),
}
_VIRAMA, _NUKTA_SIGN = "्", "़"
_NASALS = {"ं": "n", "ँ": "n"}
_VISARGA = "ः"
_IGNORED = {"\u200c", "\u200d", "।"}


@dataclass
class _Unit:
    """An orthographic syllable: a consonant cluster and its vowel."""

    cluster: str
    vowel: str
    inherent: bool
    coda: str = ""


def _units(word: str, doubled: bool) -> list[_Unit]:
    units: list[_Unit] = []
    chars = [c for c in word if c not in _IGNORED]
    i = 0
    pending = ""  # consonants joined by virama, waiting for a vowel
    while i < len(chars):
        ch = chars[i]
        if ch in _CONSONANTS:
            sound = _CONSONANTS[ch]
            if i + 1 < len(chars) and chars[i + 1] == _NUKTA_SIGN:
                sound = _NUKTA.get(ch, sound)
                i += 1
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if nxt == _VIRAMA:
                pending += sound
                i += 2
                continue
            if nxt in _SIGNS:
                units.append(_Unit(pending + sound, _SIGNS[nxt][doubled], False))
                i += 2
            else:
                units.append(_Unit(pending + sound, "a", True))
                i += 1
            pending = ""
            continue
        if ch in _VOWELS:
            units.append(_Unit(pending, _VOWELS[ch][doubled], False))
            pending = ""
        elif ch in _NASALS and units:
            units[-1].coda += _NASALS[ch]
        elif ch == _VISARGA and units:
            units[-1].coda += "h"
        elif ch not in _SIGNS and ch not in (_VIRAMA, _NUKTA_SIGN):
            units.append(_Unit(pending + ch, "", False))
            pending = ""
        i += 1
    if pending:
        units.append(_Unit(pending, "", False))
    return units


def _drop_schwas(units: list[_Unit], medial: bool) -> None:
    last = units[-1] if units else None
    # A final cluster keeps its vowel (Krishna, Rajendra); a single consonant loses it.
    if last and last.inherent and len(units) > 1 and not last.coda and not _is_cluster(last):
        last.vowel = ""
    if not medial:
        return
    # Right to left, as in Ohala's rule: Amarnath, not Amranath.
    for i in range(len(units) - 2, 0, -1):
        unit, before, after = units[i], units[i - 1], units[i + 1]
        if (unit.inherent and not unit.coda and before.vowel and after.vowel
                and not _is_cluster(after) and not _is_cluster(unit)):
            unit.vowel = ""


def _is_cluster(unit: _Unit) -> bool:
    return unit.cluster not in _SINGLE_SOUNDS


_SINGLE_SOUNDS = set(_CONSONANTS.values()) | set(_NUKTA.values()) | {""}


def _nasal(text: str) -> str:
    return re.sub(r"n(?=[pbm])", "m", text)


def _romanise_word(word: str, doubled: bool, medial: bool) -> str:
    # NFD splits precomposed nukta letters (ख़ U+0959 -> ख + ़); jña is said gya (Gyanendra).
    units = _units(unicodedata.normalize("NFD", word).replace("ज्ञ", "ग्य"), doubled)
    _drop_schwas(units, medial)
    text = _nasal("".join(u.cluster + u.vowel + u.coda for u in units))
    text = re.sub(r"nh$", "ngh", text)  # सिंह is written Singh
    return text[:1].upper() + text[1:]


def romanise_devanagari(text: str, *, doubled: bool = False, medial: bool = True) -> str:
    return " ".join(_romanise_word(w, doubled, medial) for w in text.split())


def variants_devanagari(text: str, lang: str) -> tuple[str, ...]:
    """Distinct romanisations, the usual passport spelling first."""
    standard = romanise_devanagari(text)
    forms = [
        standard,
        romanise_devanagari(text, doubled=True),
        romanise_devanagari(text, medial=False),
        re.sub(r"y\b", "ya", standard) if text.endswith("य") else standard,
        re.sub(r"v", "w", re.sub(r"^V", "W", standard)),
    ]
    if lang == "ne":
        forms.append(re.sub(r"(^|\s)V", r"\1B", standard))
    return tuple(dict.fromkeys(forms))
