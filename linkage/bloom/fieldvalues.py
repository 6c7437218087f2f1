"""From a raw field value to normalised values and tokens, as the schema says.

Pure functions over one value; the batch encoder calls them once per distinct value of a
batch and forgets the results with the batch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage import tokens as tok
from linkage.errors import NormalisationError
from linkage.normalize import country, dates, documents, names, sex, text
from linkage.schema import (
    BlockingKeyPart,
    CountryNormaliser,
    DateNormaliser,
    DocumentNormaliser,
    FieldSpec,
    NameNormaliser,
    PhoneticTokeniser,
    QGramTokeniser,
    SexNormaliser,
    TextNormaliser,
    WholeTokeniser,
)

__all__ = [
    "blocking_part_column",
    "blocking_part_values",
    "is_decomposable",
    "normalise_value",
    "phonetic_algorithm",
    "salt_of",
    "tokenise_value",
]


def is_decomposable(spec: FieldSpec) -> bool:
    """True when the tokens of a multi-column value are the union of its cells' tokens, so
    that cells can be normalised, tokenised and hashed once per distinct cell value."""
    if len(spec.columns) == 1:
        return True
    t, n = spec.tokeniser, spec.normaliser
    per_part = isinstance(t, PhoneticTokeniser) or (isinstance(t, QGramTokeniser) and t.per_part)
    return per_part and isinstance(n, (NameNormaliser, TextNormaliser))


def normalise_value(spec: FieldSpec, raw: str) -> str:
    """The normalised form of one value; "" means missing. Raises NormalisationError."""
    n = spec.normaliser
    if isinstance(n, NameNormaliser):
        return names.normalise_name(
            raw, drop_titles=n.drop_titles, drop_particles=n.drop_particles, sort_parts=n.sort_parts
        )
    if isinstance(n, TextNormaliser):
        return text.fold(raw)
    if isinstance(n, DateNormaliser):
        return dates.parse_date(raw, ambiguous=n.ambiguous).iso() if raw.strip() else ""
    if isinstance(n, SexNormaliser):
        code = sex.normalise_sex(raw)
        return "" if code == "U" else code
    if isinstance(n, CountryNormaliser):
        return country.to_alpha3(raw) if raw.strip() else ""
    if isinstance(n, DocumentNormaliser):
        return documents.normalise_document(raw) if raw.strip() else ""
    raise NormalisationError(f"unsupported normaliser {n.kind!r}")


def tokenise_value(spec: FieldSpec, value: str) -> list[str]:
    """Tokens of a normalised value (sorted, unique); none for a missing value."""
    if not value:
        return []
    t = spec.tokeniser
    if isinstance(t, QGramTokeniser):
        if not t.per_part:
            return tok.qgrams(value, q=t.q, padding=t.padding)
        return tok.part_qgrams(value, q=t.q, padding=t.padding)
    if isinstance(t, PhoneticTokeniser):
        return tok.phonetic_codes(value, t.algorithm)
    if isinstance(t, WholeTokeniser):
        return tok.whole(value)
    if t.kind == "date":
        return tok.date_tokens(_from_iso(value))
    raise NormalisationError(f"unsupported tokeniser {t.kind!r}")


def _from_iso(value: str) -> dates.PartialDate:
    """The PartialDate of a normalised (ISO, possibly partial) date, without re-parsing."""
    parts = [int(p) for p in value.split("-")]
    return dates.PartialDate(*parts)


def salt_of(spec: FieldSpec, value: str) -> str:
    """The salt a field contributes: the year of a date, otherwise the normalised value."""
    if isinstance(spec.normaliser, DateNormaliser):
        return value[:4]
    return value


def phonetic_algorithm(spec: FieldSpec) -> str:
    """The phonetic algorithm of a field's phonetic blocking parts: its tokeniser's, or nysiis."""
    return spec.tokeniser.algorithm if isinstance(spec.tokeniser, PhoneticTokeniser) else "nysiis"


def blocking_part_values(spec: FieldSpec, part: BlockingKeyPart, value: str) -> list[str]:
    """Values one blocking-key part takes for a normalised value (several for name parts)."""
    if not value:
        return []
    if part.transform in ("phonetic_parts", "phonetic_pairs"):
        codes = tok.phonetic_codes(value, phonetic_algorithm(spec))
        if part.transform == "phonetic_parts" or len(codes) < 2:
            return codes
        return [f"{a} {b}" for i, a in enumerate(codes) for b in codes[i + 1:]]
    if part.transform == "year":
        return [value[:4]] if value[:4].isdigit() else []
    if part.transform == "month_day":
        # unordered, so that swapped day and month (dd/mm vs mm/dd) give the same value
        md = value.split("-")[1:]
        return ["-".join(sorted(md))] if len(md) == 2 else []
    if part.transform == "prefix3":
        return [value[:3]]
    return [value]


_ONE_VALUE_TRANSFORMS = ("whole", "prefix3", "year")


def blocking_part_column(part: BlockingKeyPart, values: list[str]) -> np.ndarray | None:
    """``blocking_part_values`` of many values for the transforms that give at most one value
    each, as an object array (None where the part has no value); None for other transforms.
    """
    if part.transform not in _ONE_VALUE_TRANSFORMS:
        return None
    s = pd.Series(values, dtype=object)
    if part.transform == "prefix3":
        out = s.str[:3]
    elif part.transform == "year":
        out = s.str[:4]
        out = out.where(out.str.isdigit().astype(bool), None)
    else:
        out = s
    return out.where(s != "", None).to_numpy(dtype=object)
