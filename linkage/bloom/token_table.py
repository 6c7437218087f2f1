"""Tokens of many distinct values at once, as one flat table (plaintext zone).

The batch encoder tokenises each distinct normalised value of a batch. Done value by value
in Python (``linkage.bloom.fieldvalues.tokenise_value``) that was the largest cost of
encoding: a Python list of strings per value, then a factorisation of all of them. Here
q-grams are cut with numpy over the values' bytes, each q-gram travelling as one integer,
and only the distinct q-grams of the batch become strings (to be hashed). Phonetic codes are
computed once per distinct word of the batch instead of once per word occurrence.

The result is the same set of tokens per value as ``tokenise_value`` (a hypothesis test
holds the two together); values the fast paths do not cover (non-ASCII text, q > 7, other
tokenisers) go through ``tokenise_value``. Nothing outlives the call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage import tokens as tok
from linkage.arrays import factorize_exact, ranges, unique_sorted
from linkage.bloom.fieldvalues import tokenise_value
from linkage.normalize.dates import MAX_YEAR, MIN_YEAR
from linkage.schema import DateTokeniser, FieldSpec, PhoneticTokeniser, QGramTokeniser

__all__ = ["TokenTable", "phonetic_code_table", "token_table"]

_MAX_PACKED_Q = 7  # q bytes packed little-endian into a uint64, the top byte left zero
# What str.split() splits ASCII text on: \t \n \v \f \r, the separators \x1c-\x1f, space.
_ASCII_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_SPLIT_BYTES = np.zeros(256, dtype=bool)
_SPLIT_BYTES[[ord(c) for c in _ASCII_WHITESPACE]] = True
_OTHER_WHITESPACE = re.compile("[" + re.escape(_ASCII_WHITESPACE.replace(" ", "")) + "]")
_PAD = ord(tok.PAD)


@dataclass
class TokenTable:
    """Tokens of values ``0..n-1``: value i has ``ids[starts[i]:starts[i+1]]``, distinct,
    each an index into ``texts`` (the distinct tokens)."""

    ids: np.ndarray
    starts: np.ndarray
    texts: list[str]

    def rows(self, values: np.ndarray) -> TokenTable:
        """The table of the given values only (in that order), with the same texts."""
        sizes = np.diff(self.starts)[values]
        starts = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        return TokenTable(self.ids[ranges(self.starts[:-1][values], sizes)], starts, self.texts)


def token_table(spec: FieldSpec, values: list[str]) -> TokenTable:
    """The tokens ``tokenise_value(spec, v)`` of each value, as one table."""
    t = spec.tokeniser
    if isinstance(t, QGramTokeniser) and t.q <= _MAX_PACKED_Q and _all_plain_ascii(values):
        return _qgram_table(values, t.q, t.padding, t.per_part)
    if isinstance(t, PhoneticTokeniser):
        return phonetic_code_table(values, t.algorithm)
    if isinstance(t, DateTokeniser) and (table := _date_table(values)) is not None:
        return table
    return _python_table(spec, values)


def _all_plain_ascii(values: list[str]) -> bool:
    """ASCII without NUL (the byte that separates values below)."""
    joined = "".join(values)
    return joined.isascii() and "\x00" not in joined


def _python_table(spec: FieldSpec, values: list[str]) -> TokenTable:
    lists = [tokenise_value(spec, v) for v in values]
    return _from_lists(lists)


def _from_lists(lists: list[list[str]]) -> TokenTable:
    starts = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in lists], out=starts[1:])
    flat = np.empty(int(starts[-1]), dtype=object)
    flat[:] = list(chain.from_iterable(lists))
    codes, texts = factorize_exact(flat)
    return TokenTable(codes, starts, [str(x) for x in texts])


# -- q-grams ------------------------------------------------------------------------------


def _qgram_table(values: list[str], q: int, padding: bool, per_part: bool) -> TokenTable:
    """``qgrams``/``part_qgrams`` of every value: cut each unit (a value, or with
    ``per_part`` each of its space-separated parts), padded with ``q - 1`` ``_`` on each
    side, into windows of q bytes; a unit shorter than q (only possible without padding) is
    one token."""
    data = np.frombuffer("\x00".join(values).encode("ascii"), dtype=np.uint8)
    unit_start, unit_len, unit_value = _units(data, len(values), per_part)
    pad = q - 1 if padding else 0
    padded = _padded_units(data, unit_start, unit_len, pad)
    padded_len = unit_len + 2 * pad
    padded_start = np.cumsum(padded_len) - padded_len
    windows = np.maximum(padded_len - q + 1, 1)  # a short unit is one (short) window
    first = np.repeat(padded_start, windows)
    offset = ranges(np.zeros(len(windows), dtype=np.int64), windows)
    length = np.minimum(np.repeat(padded_len, windows), q)
    codes = _pack(padded, first + offset, length, q)
    return _table(codes, np.repeat(unit_value, windows), len(values))


def _units(data: np.ndarray, n_values: int, per_part: bool):
    """Start, length and value index of each unit: maximal runs of bytes that are neither
    the value separator (NUL) nor, with ``per_part``, whitespace."""
    is_sep = data == 0
    cut = _SPLIT_BYTES[data] | is_sep if per_part else is_sep
    inside = np.concatenate([[False], ~cut, [False]])
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    start, end = edges[0::2], edges[1::2]
    value = np.cumsum(is_sep)[start] if len(start) else np.zeros(0, dtype=np.int64)
    if not per_part:  # a whole value is one unit even when empty: qgrams("") is [] anyway
        keep = end > start
        start, end, value = start[keep], end[keep], value[keep]
    assert len(value) == 0 or value[-1] < n_values
    return start.astype(np.int64), (end - start).astype(np.int64), value.astype(np.int64)


def _padded_units(data: np.ndarray, start: np.ndarray, length: np.ndarray, pad: int) -> np.ndarray:
    """The units back to back, each with ``pad`` pad bytes on both sides."""
    padded_len = length + 2 * pad
    out = np.full(int(padded_len.sum()), _PAD, dtype=np.uint8)
    dest = np.cumsum(padded_len) - padded_len + pad
    out[ranges(dest, length)] = data[ranges(start, length)]
    return out


def _pack(buf: np.ndarray, first: np.ndarray, length: np.ndarray, q: int) -> np.ndarray:
    """Each window's bytes as one little-endian integer (bytes past its length are 0).

    Bytes are never 0 inside a window, so windows of different lengths never collide."""
    codes = np.zeros(len(first), dtype=np.uint64)
    ext = np.concatenate([buf, np.zeros(q, dtype=np.uint8)])  # windows may read past the end
    for j in range(q):
        byte = ext[first + j].astype(np.uint64)
        byte[length <= j] = 0
        codes |= byte << np.uint64(8 * j)
    return codes


def _table(codes: np.ndarray, value: np.ndarray, n_values: int) -> TokenTable:
    """Per value, its distinct codes; the distinct codes as strings."""
    distinct, code_id = np.unique(codes, return_inverse=True)
    n_codes = max(len(distinct), 1)
    pairs = unique_sorted(value * n_codes + code_id.reshape(-1))  # sorted by value, then token
    owner = pairs // n_codes
    starts = np.searchsorted(owner, np.arange(n_values + 1)).astype(np.int64)
    texts = [b.decode("ascii") for b in distinct.astype("<u8").view("S8").tolist()]
    return TokenTable((pairs % n_codes).astype(np.int64), starts, texts)


# -- dates --------------------------------------------------------------------------------

_ISO = r"^(?:[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?)?$"  # or "" (no date)
# date_tokens' token kinds, each an integer code kind * 10^8 + value until made text
_KINDS = ("y", "m", "ym", "d", "md", "dm", "ydm", "ymd")
_KIND = 10**8
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _date_table(values: list[str]) -> TokenTable | None:
    """``date_tokens`` of ISO dates (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, or "" for none),
    computed on integers (only the batch's distinct tokens become text); None when a value
    is not a valid ISO date, so that the per-value path raises its own error."""
    arr = pa.array(values, type=pa.string())
    if pc.all(pc.match_substring_regex(arr, _ISO)).as_py() is False:
        return None
    length = pc.utf8_length(arr).to_numpy(zero_copy_only=False)
    digits = np.zeros((len(values), 10), dtype=np.int64)
    if len(values):
        wide = np.asarray(values, dtype="U10").view(np.uint32).reshape(len(values), -1)
        digits[:, : wide.shape[1]] = wide.astype(np.int64) - ord("0")
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month, day = digits[:, 5] * 10 + digits[:, 6], digits[:, 8] * 10 + digits[:, 9]
    present, has_month, full = length > 0, length >= 7, length == 10
    if not _valid_parts(year, month, day, present, has_month, full):
        return None
    low, high = np.minimum(month, day), np.maximum(month, day)
    columns = [(present, year), (has_month, month), (has_month, year * 100 + month),
               (full, day), (full, month * 100 + day), (full, low * 100 + high),
               (full, year * 10**4 + low * 100 + high), (full, year * 10**4 + month * 100 + day)]
    owner = np.concatenate([np.flatnonzero(mask) for mask, _ in columns])
    codes = np.concatenate([kind * _KIND + value[mask]
                            for kind, (mask, value) in enumerate(columns)])
    order = np.argsort(owner, kind="stable")
    distinct, ids = np.unique(codes[order], return_inverse=True)
    starts = np.searchsorted(owner[order], np.arange(len(values) + 1)).astype(np.int64)
    return TokenTable(ids.reshape(-1).astype(np.int64), starts,
                      [_date_token_text(int(c)) for c in distinct.tolist()])


def _valid_parts(year: np.ndarray, month: np.ndarray, day: np.ndarray, present: np.ndarray,
                 has_month: np.ndarray, full: np.ndarray) -> bool:
    """Every year in range, month 1-12 and day within its month (what PartialDate checks)."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok = ~present | ((year >= MIN_YEAR) & (year <= MAX_YEAR))
    ok &= ~has_month | ((month >= 1) & (month <= 12))
    ok &= ~full | ((day >= 1) & (day <= days))
    return bool(ok.all())


def _date_token_text(code: int) -> str:
    kind, v = divmod(code, _KIND)
    name = _KINDS[kind]
    if name in ("y",):
        return f"y:{v:04d}"
    if name in ("m", "d"):
        return f"{name}:{v:02d}"
    if name in ("md", "dm"):
        return f"{name}:{v // 100:02d}-{v % 100:02d}"
    if name == "ym":
        return f"ym:{v // 100:04d}-{v % 100:02d}"
    return f"{name}:{v // 10**4:04d}-{v // 100 % 100:02d}-{v % 100:02d}"


# -- phonetic codes -----------------------------------------------------------------------


def phonetic_code_table(values: list[str], algorithm: str) -> TokenTable:
    """``phonetic_codes(v, algorithm)`` of every value, encoding each distinct word once;
    ``texts`` are in string order (so ids compare as the codes do).

    ``phonetic_codes`` lower-cases the value and encodes each space-separated part on its
    own, so the codes of a value are the sorted union of its distinct words' codes."""
    owner, word_id, distinct = _words(values)
    per_word = _word_codes(distinct, algorithm)
    texts = sorted(set(chain.from_iterable(per_word)))
    index = {c: k for k, c in enumerate(texts)}
    sizes = np.asarray([len(x) for x in per_word], dtype=np.int64)
    word_codes = np.fromiter((index[c] for x in per_word for c in x), dtype=np.int64,
                             count=int(sizes.sum()))
    owner = np.repeat(owner, sizes[word_id])
    code = word_codes[ranges((np.cumsum(sizes) - sizes)[word_id], sizes[word_id])]
    n_codes = max(len(texts), 1)
    pairs = unique_sorted(owner * n_codes + code)
    starts = np.searchsorted(pairs // n_codes, np.arange(len(values) + 1)).astype(np.int64)
    return TokenTable((pairs % n_codes).astype(np.int64), starts, texts)


def _words(values: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The words of ``v.lower().split()`` for every value: owning value and distinct-word id
    of each word, and the distinct words. Plain ASCII (single spaces the only whitespace) is
    split with Arrow kernels; anything else with Python's own lower() and split()."""
    if _all_plain_ascii(values) and not _OTHER_WHITESPACE.search("".join(values)):
        parts = pc.split_pattern(pc.ascii_lower(pa.array(values, type=pa.string())), " ")
        flat, owner = parts.flatten(), pc.list_parent_indices(parts)
        present = pc.not_equal(flat, "")
        coded = pc.dictionary_encode(flat.filter(present))
        return (owner.filter(present).to_numpy().astype(np.int64),
                coded.indices.to_numpy().astype(np.int64), coded.dictionary.to_pylist())
    words = pd.Series(values, dtype=object).str.lower().str.split().explode()
    words = words[words.notna()]
    word_id, distinct = factorize_exact(words)
    return words.index.to_numpy(np.int64), word_id, distinct


def _word_codes(words: list[str], algorithm: str) -> list[list[str]]:
    """``phonetic_codes(w, algorithm)`` of each single lower-case word, calling the encoder
    directly for the common all-letters word (0 or 1 code each)."""
    encode = tok.PHONETIC_ALGORITHMS.get(algorithm)
    out: list[list[str]] = []
    for w in words:
        if encode is not None and w.isascii() and w.isalpha() and w.islower():
            code = encode(w)
            out.append([code] if code else [])
        else:
            out.append(tok.phonetic_codes(w, algorithm))
    return out
