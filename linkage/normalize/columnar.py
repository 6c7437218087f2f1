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
import pandas as pd
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
    folded = _fold(_check_ascii(values))
    parts = pc.split_pattern(folded, " ")
    flat = parts.flatten().to_numpy(zero_copy_only=False)
    owner = pc.list_parent_indices(parts).to_numpy().astype(np.int64)
    keep = flat != ""  # "" only from an empty value: it has no parts
    flat, owner = flat[keep], owner[keep]
    for words, on in ((TITLES, drop_titles), (PARTICLES, drop_particles)):
        if on:
            flat, owner = _drop_unless_all(flat, owner, words, len(values))
    if sort_parts:
        rank, _ = pd.factorize(flat, sort=True)  # codes in string order
        order = np.lexsort((rank, owner))
        flat, owner = flat[order], owner[order]
    offsets = np.searchsorted(owner, np.arange(len(values) + 1)).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, type=pa.string()))
    return pc.binary_join(lists, " ").to_pylist()


def _drop_unless_all(flat: np.ndarray, owner: np.ndarray, words: frozenset[str],
                     n: int) -> tuple[np.ndarray, np.ndarray]:
    """Leave out the parts found in ``words``, unless that would leave a value with none."""
    listed = pd.Series(flat, dtype=object).isin(words).to_numpy()
    total = np.bincount(owner, minlength=n)
    found = np.bincount(owner, weights=listed, minlength=n).astype(np.int64)
    keep = ~listed | (found == total)[owner]
    return flat[keep], owner[keep]


def normalise_documents_ascii(values: list[str]) -> list[str | None]:
    """``documents.normalise_document`` of each ASCII value, or None where that function
    raises (a character it rejects, or too long), so that the caller gets its error."""
    arr = pc.replace_substring_regex(pc.ascii_upper(_check_ascii(values)),
                                     _DOCUMENT_SEPARATORS, "")
    valid = pc.and_(pc.match_substring_regex(arr, "^[A-Z0-9]*$"),
                    pc.less_equal(pc.utf8_length(arr), MAX_DOCUMENT_LENGTH))
    return pc.if_else(valid, arr, pa.scalar(None, pa.string())).to_pylist()
