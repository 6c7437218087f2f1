"""String corruptions that real records show: keyboard typos, OCR confusions, phonetic
respellings, dropped particles.

Each function takes the value and a numpy ``Generator`` and returns the corrupted value, or
the value unchanged when the corruption cannot apply (the caller logs only real changes).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

__all__ = ["drop_particle", "ocr_error", "phonetic_respelling", "typo"]

_QWERTY = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_JCUKEN = ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")


@cache
def _neighbours() -> dict[str, str]:
    """Keys next to each key on QWERTY and Russian JCUKEN keyboards."""
    table: dict[str, str] = {}
    for rows in (_QWERTY, _JCUKEN):
        for r, row in enumerate(rows):
            for i, ch in enumerate(row):
                near = []
                for rr in (r - 1, r, r + 1):
                    if 0 <= rr < len(rows):
                        for j in (i - 1, i, i + 1):
                            if 0 <= j < len(rows[rr]) and (rr, j) != (r, i):
                                near.append(rows[rr][j])
                table[ch] = "".join(near)
    return table


def _like_case(new: str, old: str) -> str:
    return new.upper() if old.isupper() else new


def typo(text: str, rng: np.random.Generator) -> str:
    """One keyboard error: neighbour-key substitution, insertion, deletion or transposition."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if not letters:
        return text
    pos = letters[int(rng.integers(len(letters)))]
    ch = text[pos]
    near = _neighbours().get(ch.lower(), "")
    op = int(rng.integers(4))
    if op == 3 and pos + 1 < len(text) and text[pos + 1].isalpha() and text[pos + 1] != ch:
        return text[:pos] + text[pos + 1] + ch + text[pos + 2:]
    if op == 2 and len(letters) > 2:
        return text[:pos] + text[pos + 1:]
    if op == 1:  # a neighbouring key pressed too, or the key pressed twice
        extra = near[int(rng.integers(len(near)))] if near and rng.random() < 0.5 else ch
        return text[:pos + 1] + _like_case(extra, ch) + text[pos + 1:]
    if near:
        return text[:pos] + _like_case(near[int(rng.integers(len(near)))], ch) + text[pos + 1:]
    if len(letters) > 2:
        return text[:pos] + text[pos + 1:]
    return text[:pos + 1] + ch + text[pos + 1:]


# Pairs a scanner confuses, both ways.
_OCR_PAIRS = (
    ("rn", "m"), ("cl", "d"), ("vv", "w"), ("li", "h"), ("l", "1"), ("I", "l"), ("O", "0"),
    ("o", "0"), ("S", "5"), ("B", "8"), ("Z", "2"), ("G", "6"), ("e", "c"), ("a", "o"),
    ("u", "v"), ("n", "h"), ("i", "l"), ("1", "7"), ("E", "F"), ("D", "0"), ("ш", "щ"),
    ("и", "н"), ("е", "с"), ("ii", "u"),
)


@cache
def _ocr_rules() -> tuple[tuple[str, str], ...]:
    return tuple(_OCR_PAIRS) + tuple((b, a) for a, b in _OCR_PAIRS)


def ocr_error(text: str, rng: np.random.Generator) -> str:
    """One OCR confusion (rn for m, 0 for O, 1 for l ...) at a random applicable place."""
    spots = [(m.start(), src, dst) for src, dst in _ocr_rules()
             for m in re.finditer(re.escape(src), text)]
    if not spots:
        return text
    start, src, dst = spots[int(rng.integers(len(spots)))]
    return text[:start] + dst + text[start + len(src):]


# Respellings by sound, on lower-case Latin text: (pattern, replacement).
_PHONETIC = tuple((re.compile(p), r) for p, r in (
    (r"ph", "f"), (r"(?<=\w)f", "ph"), (r"ck", "k"), (r"c(?=[aou])", "k"), (r"k(?=[aou])", "c"),
    (r"qu", "kw"), (r"x", "ks"), (r"ks", "x"), (r"z", "s"), (r"(?<=[aeiou])s(?=[aeiou])", "z"),
    (r"th", "t"), (r"y", "i"), (r"(?<=\w)i(?=[aeou])", "y"), (r"ie\b", "y"), (r"y\b", "ie"),
    (r"ey\b", "y"), (r"ou", "u"), (r"oo", "u"), (r"ee", "i"), (r"ai", "ei"), (r"ei", "ai"),
    (r"sh", "ch"), (r"(?<=\w)ch", "sh"), (r"w", "v"), (r"v", "w"), (r"dj", "j"), (r"kh", "h"),
    (r"gh", "g"), (r"([bcdfgklmnprstz])\1", r"\1"), (r"(?<=[aeiou])([lnrst])(?=[aeiou])", r"\1\1"),
    (r"son\b", "sen"), (r"sen\b", "son"), (r"ov\b", "off"), (r"ev\b", "eff"), (r"ski\b", "sky"),
    (r"sky\b", "ski"), (r"ich\b", "ic"), (r"ic\b", "ich"), (r"^mac", "mc"), (r"^mc", "mac"),
    (r"(?<=\w)e\b", ""), (r"ph", "p"), (r"dt\b", "t"),
))


def _recase(new: str, old: str) -> str:
    """Give ``new`` (lower case) the capitalisation of ``old``'s words."""
    if old.isupper():
        return new.upper()
    return re.sub(r"(^|[\s\-'])(\w)", lambda m: m.group(1) + m.group(2).upper(), new)


def phonetic_respelling(text: str, rng: np.random.Generator) -> str:
    """The name respelled as it sounds (Stephen -> Stefen, Mohammed -> Mohamed)."""
    if not text.isascii():
        return text
    low = text.lower()
    options = [(rule, repl) for rule, repl in _PHONETIC if rule.search(low)]
    if not options:
        return text
    rule, repl = options[int(rng.integers(len(options)))]
    matches = list(rule.finditer(low))
    m = matches[int(rng.integers(len(matches)))]
    changed = low[:m.start()] + m.expand(repl) + low[m.end():]
    return _recase(changed, text) if changed and changed != low else text


_PARTICLE = re.compile(
    r"^(?:al-|el-|en-|ad-|as-|ash-|ar-|az-|al |el |bin |ben |ibn |abu |abou |"
    r"van der |van den |van de |van |von der |von |de la |de los |de las |del |de |da |do |"
    r"dos |das |di |du |le |la |ال|بن )",
    re.IGNORECASE,
)


def drop_particle(text: str, rng: np.random.Generator | None = None) -> str:
    """The family name without its leading particle (al-Ahmad -> Ahmad, da Silva -> Silva)."""
    m = _PARTICLE.match(text)
    if not m or m.end() >= len(text):
        return text
    rest = text[m.end():]
    return rest[:1].upper() + rest[1:]
