"""Input columns of one batch, factorised: each distinct cell value is handled once.

Records repeat values (given names, family names, dates, places, countries), so the encoder
normalises, tokenises and hashes distinct values, then gathers per record with numpy. The
distinct values live only as long as the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.arrays import factorize_exact

__all__ = ["Column", "factorise"]


@dataclass
class Column:
    """One input column: ``codes[i]`` indexes ``values`` (-1: missing or blank)."""

    name: str
    codes: np.ndarray
    values: list[str]
    bad: dict[int, str]  # code -> reason (wrong type, invalid UTF-8)

    def first_row_of(self, code: int) -> int:
        return int(np.flatnonzero(self.codes == code)[0])


def _as_text(value: object) -> str | tuple[str]:
    """A cell as text, or a 1-tuple holding the reason it cannot be text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates left by surrogateescape decoding
            return ("invalid UTF-8",)
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return ("invalid UTF-8",)
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(value)
    return (f"wrong type ({type(value).__name__}), expected text",)


def factorise(name: str, series: pd.Series) -> Column:
    """Distinct values of a column with their codes; blanks and nulls become -1."""
    codes, raw = factorize_exact(series)
    codes = codes.astype(np.int64, copy=True)
    values, bad = _texts(raw)
    blank = np.flatnonzero(pd.Series(values, dtype=object).str.strip().to_numpy() == "")
    blank = blank[~np.isin(blank, list(bad))]  # a bad value stays, to be reported
    if len(blank):
        codes[np.isin(codes, blank)] = -1
    return Column(name=name, codes=codes, values=values, bad=bad)


def _texts(raw: list[object]) -> tuple[list[str], dict[int, str]]:
    """The values as text ("" where they cannot be) and the reason for each that cannot."""
    if all(type(v) is str for v in raw):
        try:  # one check for the whole column; lone surrogates make it fail
            "".join(raw).encode("utf-8")
            return raw, {}  # type: ignore[return-value]
        except UnicodeEncodeError:
            pass
    values: list[str] = []
    bad: dict[int, str] = {}
    for i, value in enumerate(raw):
        text = _as_text(value)
        if isinstance(text, tuple):
            bad[i] = text[0]
            values.append("")
        else:
            values.append(text)
    return values, bad
