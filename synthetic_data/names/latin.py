"""Latin-script names: what happens to diacritics when a record is typed or scanned.

Agencies keep diacritics (Müller, Ştefan), drop them on ASCII-only systems (Muller, Stefan)
or write them the machine-readable-zone way of passports (Mueller: ICAO Doc 9303 writes Ä Ö Ü
as AE OE UE, ß as SS, Å as AA, Ø as OE).
"""

from __future__ import annotations

from anyascii import anyascii

__all__ = ["ascii_fold", "mrz_fold", "variants_latin"]

_MRZ = {"Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
        "Å": "Aa", "å": "aa", "Æ": "Ae", "æ": "ae", "Ø": "Oe", "ø": "oe"}


def ascii_fold(text: str) -> str:
    """Diacritics dropped (Müller -> Muller, Şekim -> Sekim)."""
    return text if text.isascii() else anyascii(text)


def mrz_fold(text: str) -> str:
    """Passport machine-readable-zone spelling (Müller -> Mueller), other marks dropped."""
    if text.isascii():
        return text
    return anyascii("".join(_MRZ.get(ch, ch) for ch in text))


def variants_latin(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((text, ascii_fold(text), mrz_fold(text))))
