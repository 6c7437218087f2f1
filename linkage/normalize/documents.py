"""Passport, identity-card and other document numbers.

``normalise_document`` returns upper-case ``[A-Z0-9]`` with the separators agencies type
removed (spaces, dashes of every kind, dots, slashes, ``№`` and the ``<`` filler of
machine-readable zones): ``"ab 12-34.56/7"`` -> ``"AB1234567"``.

Document numbers are copied by sight, so Cyrillic and Greek letters that look like Latin
ones become the Latin letter they look like, not their transliteration: a Ukrainian
series typed on a Cyrillic keyboard as ``АВ 123456`` gives ``AB123456``, like the same
number typed in Latin (``anyascii`` would give ``AV123456``). Other letters and digits of
any script are transliterated with ``anyascii`` (``Д`` -> ``D``, Arabic-Indic digits ->
``0-9``).

Empty, blank or separator-only values give ``""``. A value with any other character, or
longer than ``MAX_DOCUMENT_LENGTH`` once normalised, raises ``NormalisationError``. The
result only contains ``[A-Z0-9]``, so the function is idempotent. The letter ``O`` and the
digit ``0`` are kept apart: they are different document numbers.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

from linkage.errors import NormalisationError

__all__ = ["MAX_DOCUMENT_LENGTH", "normalise_document"]

MAX_DOCUMENT_LENGTH = 30

# Cyrillic and Greek letters (both cases) that look like a Latin capital.
_LOOKALIKES = str.maketrans(
    {
        **dict.fromkeys("АаΑα", "A"), **dict.fromkeys("ВвΒβ", "B"), **dict.fromkeys("Сс", "C"),
        **dict.fromkeys("ЕеЁёΕε", "E"), **dict.fromkeys("НнΗη", "H"),
        **dict.fromkeys("ІіΙι", "I"), **dict.fromkeys("Јј", "J"), **dict.fromkeys("КкΚκ", "K"),
        **dict.fromkeys("МмΜμ", "M"), **dict.fromkeys("Νν", "N"), **dict.fromkeys("ОоΟο", "O"),
        **dict.fromkeys("РрΡρ", "P"), **dict.fromkeys("Ѕѕ", "S"), **dict.fromkeys("ТтΤτ", "T"),
        **dict.fromkeys("ХхΧχ", "X"), **dict.fromkeys("УуΥυ", "Y"), **dict.fromkeys("Ζζ", "Z"),
    }
)  # fmt: skip
_SEPARATORS = re.compile(r"[\s\-./<]+")
_VALID = re.compile(r"[A-Z0-9]*", re.ASCII)


def normalise_document(value: str) -> str:
    """Normalise a document number; see the module docstring."""
    if not isinstance(value, str):
        raise NormalisationError("expected a string")
    # "№" first: NFKC would turn it into the letters "No".
    text = unicodedata.normalize("NFKC", value.replace("№", " "))
    if not text.isascii():
        text = anyascii(_strip_format_characters(text.translate(_LOOKALIKES)))
    text = _SEPARATORS.sub("", text.upper())
    if not _VALID.fullmatch(text):
        raise NormalisationError("invalid character in document number")
    if len(text) > MAX_DOCUMENT_LENGTH:
        raise NormalisationError("document number too long")
    return text


def _strip_format_characters(text: str) -> str:
    """Zero-width and other format characters (category Cf) are invisible: drop them."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
