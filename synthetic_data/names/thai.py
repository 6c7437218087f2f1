"""Romanisation of Thai names (a simplified RTGS with the spellings Thais choose).

Thai writes some vowels before the consonant they follow in speech, leaves many vowels
implicit (o or a) and pronounces final consonants differently from initial ones (ร is r at
the start of a syllable and n at the end). This heuristic syllabifier handles those three
rules, which is enough to give names their familiar shape (สมชาย -> Somchai,
เจษฎากร -> Chetdakon). Thais choose their own spelling for passports, so records of one
person vary: j for ch (Jetsada), -orn for -on (Jetsadakorn), ph/th/kh without h, ee and oo.
"""

from __future__ import annotations

import re

__all__ = ["romanise_thai", "variants_thai"]

# consonant -> (initial, final)
_CONS = {
    "ก": ("k", "k"), "ข": ("kh", "k"), "ฃ": ("kh", "k"), "ค": ("kh", "k"), "ฅ": ("kh", "k"),
    "ฆ": ("kh", "k"), "ง": ("ng", "ng"), "จ": ("ch", "t"), "ฉ": ("ch", "t"),
    "ช": ("ch", "t"), "ซ": ("s", "t"), "ฌ": ("ch", "t"), "ญ": ("y", "n"), "ฎ": ("d", "t"),
    "ฏ": ("t", "t"), "ฐ": ("th", "t"), "ฑ": ("th", "t"), "ฒ": ("th", "t"), "ณ": ("n", "n"),
    "ด": ("d", "t"), "ต": ("t", "t"), "ถ": ("th", "t"), "ท": ("th", "t"), "ธ": ("th", "t"),
    "น": ("n", "n"), "บ": ("b", "p"), "ป": ("p", "p"), "ผ": ("ph", "p"), "ฝ": ("f", "p"),
    "พ": ("ph", "p"), "ฟ": ("f", "p"), "ภ": ("ph", "p"), "ม": ("m", "m"), "ย": ("y", "i"),
    "ร": ("r", "n"), "ล": ("l", "n"), "ว": ("w", "o"), "ศ": ("s", "t"), "ษ": ("s", "t"),
    "ส": ("s", "t"), "ห": ("h", ""), "ฬ": ("l", "n"), "อ": ("", ""), "ฮ": ("h", ""),
    "ฤ": ("rue", "rue"),
}
_LEADING = {"เ": "e", "แ": "ae", "โ": "o", "ใ": "ai", "ไ": "ai"}
_FOLLOWING = {
    "ะ": "a", "ั": "a", "า": "a", "ำ": "am", "ิ": "i", "ี": "i", "ึ": "ue", "ื": "ue",
    "ุ": "u", "ู": "u", "ๅ": "",
}
_SILENT = "์"
_TONES = set("่้๊๋็")
_CLUSTER_SECOND = set("รลว")


def _clean(word: str) -> list[str]:
    chars = [c for c in word if c not in _TONES]
    out: list[str] = []
    for c in chars:
        if c == _SILENT:
            # The letter under the thanthakhat is not pronounced, nor its vowel sign.
            while out and out[-1] in _FOLLOWING:
                out.pop()
            if out:
                out.pop()
            continue
        out.append(c)
    return out


def _vowel_after(chars: list[str], i: int) -> tuple[str, int]:
    """Following vowel signs at ``chars[i:]``: (romanised vowel, characters used)."""
    vowel, n = "", 0
    while i + n < len(chars) and chars[i + n] in _FOLLOWING:
        vowel += _FOLLOWING[chars[i + n]]
        n += 1
    return vowel, n


def _syllable(chars: list[str], i: int) -> tuple[str, int]:
    lead = ""
    if chars[i] in _LEADING:
        lead, i = _LEADING[chars[i]], i + 1
    start = i
    if i >= len(chars) or chars[i] not in _CONS:
        return lead, i + 1 - start + (1 if lead else 0) if i < len(chars) else 1
    # Silent h before a sonorant, and อ before ย, only mark the tone.
    if i + 1 < len(chars) and (
            (chars[i] == "ห" and chars[i + 1] in "งญนมยรลว")
            or (chars[i] == "อ" and chars[i + 1] == "ย")):
        i += 1
    onset = _CONS[chars[i]][0]
    i += 1
    has_vowel_next = i + 1 < len(chars) and chars[i + 1] in _FOLLOWING
    if i < len(chars) and chars[i] in _CLUSTER_SECOND and (lead or has_vowel_next):
        onset += _CONS[chars[i]][0]
        i += 1
    vowel, n = _vowel_after(chars, i)
    i += n
    if lead:
        if lead == "e" and vowel == "a":
            vowel = "ao"
        elif lead == "e" and vowel in ("i", "ue") and i < len(chars) and chars[i] in "ยอ":
            vowel, i = ("ia" if vowel == "i" else "uea"), i + 1
        elif lead == "e" and vowel == "i":
            vowel = "oe"
        else:
            vowel = lead + vowel
    if not vowel and i < len(chars) and chars[i] in "วอ" and (
            i + 1 >= len(chars) or chars[i + 1] in _CONS):
        vowel = "ua" if chars[i] == "ว" else "o"
        i += 1
    coda = ""
    if i < len(chars) and chars[i] in _CONS and chars[i] != "อ":
        after = chars[i + 1] if i + 1 < len(chars) else ""
        after2 = chars[i + 2] if i + 2 < len(chars) else ""
        if vowel:  # explicit vowel: the next consonant closes it unless it has its own vowel
            take = after not in _FOLLOWING and not (after in _CONS and not after2)
        else:  # implicit vowel: closed only before a syllable that has a written vowel
            take = not after or after in _LEADING or (after in _CONS and after2 in _FOLLOWING)
        if take:
            coda = _CONS[chars[i]][1]
            i += 1
    if not vowel:
        vowel = "o" if coda else "a"
    if coda == "i" and vowel.endswith("i"):
        coda = ""
    return onset + vowel + coda, i - start + (1 if lead else 0)


def _romanise_word(word: str) -> str:
    chars = _clean(word)
    out, i = [], 0
    while i < len(chars):
        part, used = _syllable(chars, i)
        out.append(part)
        i += max(used, 1)
    text = "".join(out)
    return text[:1].upper() + text[1:]


def romanise_thai(text: str) -> str:
    return " ".join(_romanise_word(w) for w in text.split())


_VARIANT_RULES = (
    (r"^Ch", "J"), (r"on\b", "orn"), (r"(?<=[ptk])h", ""), (r"(?<![aeiou])i(?=[^aeiou]|\b)", "ee"),
    (r"(?<![aeiou])u(?=[^aeiou]|\b)", "oo"), (r"^W", "V"), (r"t\b", "d"),
)


def variants_thai(text: str) -> tuple[str, ...]:
    standard = romanise_thai(text)
    forms = [standard]
    words = standard.split()
    for pattern, repl in _VARIANT_RULES:
        changed = " ".join(re.sub(pattern, repl, w) for w in words)
        forms.append(changed)
    return tuple(dict.fromkeys(forms))
