"""Which scripts a text is written in (by Unicode block), for tests and reports."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["script_of", "scripts_in"]

# (first, last, script) code point ranges; Latin includes the diacritic blocks.
_RANGES = (
    (0x0041, 0x024F, "latin"), (0x1E00, 0x1EFF, "latin"), (0x0400, 0x052F, "cyrillic"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"), (0x0900, 0x097F, "devanagari"), (0x0E00, 0x0E7F, "thai"),
    (0x3040, 0x30FF, "japanese"), (0x4E00, 0x9FFF, "han"), (0x3400, 0x4DBF, "han"),
    (0xAC00, 0xD7AF, "hangul"), (0x1100, 0x11FF, "hangul"),
)


def script_of(ch: str) -> str | None:
    """The script of one character, None for digits, punctuation, apostrophes and spaces."""
    if not ch.isalpha() or 0x02B0 <= ord(ch) <= 0x02FF:  # modifier letters (ʼ) are marks
        return None
    cp = ord(ch)
    for lo, hi, script in _RANGES:
        if lo <= cp <= hi:
            return script
    return "other"


def scripts_in(values: Iterable[str]) -> set[str]:
    """Every script used by the letters of ``values``."""
    found: set[str] = set()
    for value in values:
        for ch in value:
            s = script_of(ch)
            if s is not None:
                found.add(s)
    return found
