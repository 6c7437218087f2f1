"""Tokenisers: normalised values -> the tokens that are hashed into Bloom filters.

Every function is pure and deterministic and returns a sorted list without repeats: a Bloom
filter is a set, so repeats would add nothing, and a fixed order makes encodings and test
vectors reproducible. Nothing is cached. The inputs are the outputs of
``linkage.normalize``; the tokenisers do not normalise again.

Token families never collide with each other inside one field: q-grams use ``_`` padding
that normalised text never contains, date tokens carry a ``y:``/``m:``/... prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jellyfish

from linkage.errors import NormalisationError, SchemaError
from linkage.normalize.dates import PartialDate

__all__ = ["PHONETIC_ALGORITHMS", "date_tokens", "part_qgrams", "phonetic_codes", "qgrams", "whole"]

PAD = "_"

#: Phonetic algorithms by schema name (``linkage.schema.PhoneticTokeniser.algorithm``);
#: ``match_rating_codex`` is accepted as jellyfish's own name for ``match_rating``.
PHONETIC_ALGORITHMS: dict[str, Callable[[str], str]] = {
    "nysiis": jellyfish.nysiis,
    "metaphone": jellyfish.metaphone,
    "soundex": jellyfish.soundex,
    "match_rating": jellyfish.match_rating_codex,
    "match_rating_codex": jellyfish.match_rating_codex,
}

_NOT_LETTER = re.compile(r"[^a-z]+")


def qgrams(s: str, q: int = 2, padding: bool = True) -> list[str]:
    """Sorted distinct substrings of length ``q`` of ``s``.

    With ``padding``, ``q - 1`` ``_`` are added on each side of the whole string (not of each
    word), so first and last characters get their own tokens: ``qgrams("ab")`` is
    ``["_a", "ab", "b_"]``. Spaces inside ``s`` are characters like any other, which keeps
    word boundaries in the tokens. Without padding a non-empty ``s`` shorter than ``q`` is a
    single token (``qgrams("ab", 3, False) == ["ab"]``), so that a short value still sets
    bits. ``""`` gives ``[]``. Raises ``SchemaError`` when ``q < 1``.
    """
    _check_text(s)
    _check_q(q)
    if not s:
        return []
    text = f"{PAD * (q - 1)}{s}{PAD * (q - 1)}" if padding else s
    if len(text) < q:
        return [text]
    return sorted({text[i : i + q] for i in range(len(text) - q + 1)})


def part_qgrams(s: str, q: int = 2, padding: bool = True) -> list[str]:
    """Sorted distinct q-grams of the space-separated parts of ``s``: the union of
    ``qgrams(part, q, padding)`` over its parts, in one pass."""
    _check_text(s)
    _check_q(q)
    pad = PAD * (q - 1) if padding else ""
    grams: set[str] = set()
    for part in s.split():
        text = f"{pad}{part}{pad}"
        if len(text) < q:
            grams.add(text)
        else:
            grams.update([text[i : i + q] for i in range(len(text) - q + 1)])
    return sorted(grams)


def phonetic_codes(s: str, algorithm: str) -> list[str]:
    """Sorted distinct phonetic codes, one per space-separated part of ``s``.

    Each part is reduced to its letters ``a-z`` first (digits would otherwise become codes
    such as soundex ``1000``, and ``match_rating`` rejects them); parts without letters and
    empty codes are skipped. ``algorithm`` is a key of ``PHONETIC_ALGORITHMS``; others raise
    ``SchemaError``.
    """
    _check_text(s)
    encode = PHONETIC_ALGORITHMS.get(algorithm)
    if encode is None:
        raise SchemaError("unknown phonetic algorithm")
    codes = set()
    for part in s.lower().split():
        # most parts are letters already; the regex costs more than the check
        letters = part if part.isascii() and part.isalpha() else _NOT_LETTER.sub("", part)
        if letters and (code := encode(letters)):
            codes.add(code)
    return sorted(codes)


def date_tokens(d: PartialDate) -> list[str]:
    """Tokens of a (partial) date, designed so that near misses still share tokens.

    ========  =====================  ==================================================
    token     example (1987-03-14)   shared by
    ========  =====================  ==================================================
    ``y:``    ``y:1987``             every date of the same year, including partial ones
    ``m:``    ``m:03``               dates with the same month
    ``ym:``   ``ym:1987-03``         year-month dates and full dates of that month
    ``d:``    ``d:14``               dates with the same day (month typo)
    ``md:``   ``md:03-14``           same day and month (year typo)
    ``dm:``   ``dm:03-14``           the same two numbers in either order
    ``ydm:``  ``ydm:1987-03-14``     the same year and two numbers in either order
    ``ymd:``  ``ymd:1987-03-14``     the exact date only
    ========  =====================  ==================================================

    ``dm:`` and ``ydm:`` hold the day and month as an unordered pair (smaller first), so a
    day/month swap (``1987-03-04`` against ``1987-04-03``) still shares ``y:``, ``dm:`` and
    ``ydm:``. A year-only date gives ``["y:1987"]`` and a year-month date ``y:``, ``m:`` and
    ``ym:``, all of which a full date of that year and month also has.
    """
    if not isinstance(d, PartialDate):
        raise NormalisationError("expected a PartialDate")
    y = f"{d.year:04d}"
    tokens = [f"y:{y}"]
    if d.month is not None:
        m = f"{d.month:02d}"
        tokens += [f"m:{m}", f"ym:{y}-{m}"]
        if d.day is not None:
            day = f"{d.day:02d}"
            low, high = sorted((m, day))
            tokens += [
                f"d:{day}",
                f"md:{m}-{day}",
                f"dm:{low}-{high}",
                f"ydm:{y}-{low}-{high}",
                f"ymd:{y}-{m}-{day}",
            ]
    return sorted(tokens)


def whole(s: str) -> list[str]:
    """The whole value as one token: ``[s]``, or ``[]`` for ``""``."""
    _check_text(s)
    return [s] if s else []


def _check_q(q: object) -> None:
    if isinstance(q, bool) or not isinstance(q, int) or q < 1:
        raise SchemaError("q-gram length must be a positive integer")


def _check_text(s: object) -> None:
    if not isinstance(s, str):
        raise NormalisationError("expected a string")
