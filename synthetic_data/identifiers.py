"""Document and phone numbers derived from a person's 64-bit keys.

A person carries random integer keys, not strings, so the population stays compact; the
numbers are spelled out only when a record is written. ``other_key`` gives the key of
another document or phone of the same person (a renewed passport, a new SIM card).
"""

from __future__ import annotations

from synthetic_data.countries import COUNTRIES

__all__ = ["document_number", "other_key", "phone_number"]

_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q: passports avoid them
_ALNUM = "0123456789" + _LETTERS
_MASK = (1 << 64) - 1


def document_number(alpha2: str, key: int) -> str:
    """The passport number of country ``alpha2`` for ``key`` (pattern D digit, L letter,
    X either)."""
    out = []
    for ch in COUNTRIES[alpha2].document_pattern:
        if ch == "D":
            key, r = divmod(key, 10)
            out.append(str(r))
        elif ch == "L":
            key, r = divmod(key, len(_LETTERS))
            out.append(_LETTERS[r])
        else:
            key, r = divmod(key, len(_ALNUM))
            out.append(_ALNUM[r])
    return "".join(out)


def phone_number(alpha2: str, key: int) -> str:
    """A mobile number of ``alpha2``: the national significant number (no trunk prefix)."""
    c = COUNTRIES[alpha2]
    key, r = divmod(key, len(c.mobile_prefixes))
    digits = c.mobile_prefixes[r]
    while len(digits) < c.mobile_length:
        key, r = divmod(key, 10)
        digits += str(r)
    return digits


def other_key(key: int, salt: int = 1) -> int:
    """A different key derived from ``key`` (splitmix64 step), stable across runs."""
    z = (key + 0x9E3779B97F4A7C15 * salt) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)
