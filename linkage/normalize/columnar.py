"""Normalisers over many ASCII values at once (plaintext zone).

The per-value normalisers (``names``, ``text``, ``documents``) are the reference. Most
values agencies hold are plain ASCII, for which those functions reduce to a few string
operations: NFKC and transliteration change nothing, case folding is ``lower``. Here those
operations run over a whole column with Arrow's compute kernels, and titles, particles and
part order are handled with numpy, so a batch of names costs milliseconds instead of a
Python call per value. Hypothesis tests hold each function equal to its per-value reference
on arbitrary ASCII text. Non-ASCII values are not accepted here: callers send them to the
per-value functions.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkage.normalize.documents import MAX_DOCUMENT_LENGTH
from linkage.normalize.names import PARTICLES, TITLES

__all__ = ["fold_ascii", "normalise_documents_ascii", "normalise_names_ascii"]

# text.fold on ASCII: apostrophes deleted, runs of anything but [a-z0-9] become one space.
_ASCII_APOSTROPHES = "['`]"
_NON_ALNUM = "[^a-z0-9]+"
# documents._SEPARATORS on ASCII: Python's \s is [\t\n\v\f\r\x1c-\x1f ], RE2's is narrower.
_DOCUMENT_SEPARATORS = r"[\t\n\x0b\x0c\r\x1c-\x1f \-./<]+"


def _check_ascii(values: list[str]) -> pa.Array:
    arr = pa.array(values, type=pa.string())
    if pc.all(pc.string_is_ascii(arr)).as_py() is False:
        raise ValueError("columnar normalisers take ASCII values only")
    return arr


def _fold(arr: pa.Array) -> pa.Array:
    low = pc.ascii_lower(arr)
    spaced = pc.replace_substring_regex(pc.replace_substring_regex(low, _ASCII_APOSTROPHES, ""),
                                        _NON_ALNUM, " ")
    return pc.utf8_trim(spaced, " ")


def fold_ascii(values: list[str]) -> list[str]:
    """``text.fold`` of each ASCII value."""
    return _fold(_check_ascii(values)).to_pylist()


def normalise_names_ascii(values: list[str], *, drop_titles: bool = True,
                          drop_particles: bool = True, sort_parts: bool = False) -> list[str]:
    """``names.normalise_name`` of each ASCII value, with the same options."""
    parts = pc.split_pattern(_fold(_check_ascii(values)), " ")
    flat = parts.flatten()
    owner = pc.list_parent_indices(parts).to_numpy().astype(np.int64)
    keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)  # "" only from an empty value
    flat, owner = flat.filter(pa.array(keep)), owner[keep]
    for words, on in ((TITLES, drop_titles), (PARTICLES, drop_particles)):
        if on:
            flat, owner = _drop_unless_all(flat, owner, words, len(values))
    if sort_parts:
        coded = pc.dictionary_encode(flat)
        order_of_word = np.argsort(np.asarray(coded.dictionary.to_pylist(), dtype=object),
                                   kind="stable")  # Python's str order, as sorted() uses
        rank = np.empty(len(order_of_word), dtype=np.int64)
        rank[order_of_word] = np.arange(len(order_of_word))
        order = np.lexsort((rank[coded.indices.to_numpy()], owner))
        flat, owner = flat.take(pa.array(order)), owner[order]
    offsets = np.searchsorted(owner, np.arange(len(values) + 1)).astype(np.int32)
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), flat), " ").to_pylist()


def _drop_unless_all(flat: pa.Array, owner: np.ndarray, words: frozenset[str],
                     n: int) -> tuple[pa.Array, np.ndarray]:
    """Leave out the parts found in ``words``, unless that would leave a value with none."""
    listed = pc.is_in(flat, value_set=pa.array(sorted(words), type=pa.string()))
    listed = listed.to_numpy(zero_copy_only=False)
    total = np.bincount(owner, minlength=n)
    found = np.bincount(owner, weights=listed, minlength=n).astype(np.int64)
    keep = ~listed | (found == total)[owner]
    return flat.filter(pa.array(keep)), owner[keep]


def normalise_documents_ascii(values: list[str]) -> list[str | None]:
    """``documents.normalise_document`` of each ASCII value, or None where that function
    raises (a character it rejects, or too long), so that the caller gets its error."""
    arr = pc.replace_substring_regex(pc.ascii_upper(_check_ascii(values)),
                                     _DOCUMENT_SEPARATORS, "")
    valid = pc.and_(pc.match_substring_regex(arr, "^[A-Z0-9]*$"),
                    pc.less_equal(pc.utf8_length(arr), MAX_DOCUMENT_LENGTH))
    return pc.if_else(valid, arr, pa.scalar(None, pa.string())).to_pylist()
