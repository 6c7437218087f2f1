"""The attacker's view of plaintext records: an identity and a token set per record.

An attacker knows the linkage schema (it is public) but not the key. From plaintext records
(the agency's own, or a public reference population) it can compute exactly the tokens the
encoder hashes: the same normalisers, tokenisers and salting. Tokens are namespaced by field
(``field + "\\x1e" + token``) because each field hashes with its own key and weight.

The *identity* of a record is its normalised quasi-identifier values (every field with a
weight above 0, primary variant) joined: an attack re-identifies an encoding when it names a
reference record with the same identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from linkage.bloom.fieldvalues import is_decomposable, normalise_value, salt_of, tokenise_value
from linkage.errors import NormalisationError
from linkage.schema import FieldSpec, LinkageSchema, NameNormaliser

__all__ = ["SEP", "PlainRecords", "token_field", "token_matrix"]

SEP = "\x1e"


def token_field(token: str) -> str:
    return token.split(SEP, 1)[0]


@dataclass(frozen=True)
class PlainRecords:
    """Identities and token sets of plaintext records, plus the bits each field's token sets."""

    identity: np.ndarray  # (n,) object: str
    tokens: list[frozenset[str]]
    field_weights: dict[str, int]  # field -> bits per token (k)

    def __len__(self) -> int:
        return len(self.identity)

    def subset(self, index: Sequence[int] | np.ndarray) -> PlainRecords:
        idx = np.asarray(index, dtype=np.int64)
        return PlainRecords(self.identity[idx], [self.tokens[i] for i in idx], self.field_weights)

    def concat(self, other: PlainRecords) -> PlainRecords:
        return PlainRecords(
            np.concatenate([self.identity, other.identity]),
            self.tokens + other.tokens,
            {**self.field_weights, **other.field_weights},
        )

    def token_weight(self, token: str) -> int:
        return self.field_weights[token_field(token)]

    def token_counts(self) -> dict[str, int]:
        """Number of records holding each token."""
        counts: dict[str, int] = {}
        for toks in self.tokens:
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
        return counts

    @classmethod
    def from_values(cls, values: Iterable[str], tokens_of, field: str, k: int) -> PlainRecords:
        """One field: identity = the value, tokens = ``tokens_of(value)``."""
        vals = list(values)
        toks = [frozenset(f"{field}{SEP}{t}" for t in tokens_of(v)) for v in vals]
        return cls(np.asarray(vals, dtype=object), toks, {field: k})

    @classmethod
    def from_schema(cls, schema: LinkageSchema, frame: pd.DataFrame) -> PlainRecords:
        """Identities and tokens of each row of ``frame`` under ``schema``: the primary variant,
        tokenised and salted as the encoder does (a multi-column field whose tokens decompose
        over name parts is tokenised cell by cell). A value that cannot be normalised counts
        as missing (the encoder would reject the record)."""
        fields = [f for f in schema.fields if f.weight > 0]
        salt_name = schema.hardening.salt_field
        specs = list(fields)
        if salt_name and salt_name not in {f.name for f in fields}:
            specs.append(schema.field(salt_name))
        memo: dict[tuple[str, str], str] = {}
        cells = frame.astype(object).where(frame.notna(), "").astype(str).to_dict("records")
        values = {f.name: [_cell_values(f, row, memo) for row in cells] for f in specs}
        tok_memo: dict[tuple[str, str], list[str]] = {}
        tokens: list[frozenset[str]] = []
        for i in range(len(cells)):
            salt = None
            if salt_name:
                salt_vals = values[salt_name][i]
                salt = salt_of(schema.field(salt_name), salt_vals[0]) if salt_vals else ""
            toks: set[str] = set()
            for f in fields:
                base: list[str] = []
                for v in values[f.name][i]:
                    got = tok_memo.get((f.name, v))
                    if got is None:
                        got = tok_memo[(f.name, v)] = tokenise_value(f, v)
                    base.extend(got)
                if salt is not None and isinstance(f.normaliser, NameNormaliser):
                    base = [f"{t}\x1f{salt}" for t in base]
                toks.update(f"{f.name}{SEP}{t}" for t in base)
            tokens.append(frozenset(toks))
        identity = np.asarray(
            ["\x1f".join(" ".join(values[f.name][i]) for f in fields) for i in range(len(cells))],
            dtype=object,
        )
        return cls(identity, tokens, {f.name: f.weight for f in fields})


def _normalised(spec: FieldSpec, raw: str, memo: dict[tuple[str, str], str]) -> str:
    if not raw.strip() or len(raw) > spec.max_length:
        return ""
    norm = memo.get((spec.name, raw))
    if norm is None:
        try:
            norm = normalise_value(spec, raw)
        except NormalisationError:
            norm = ""
        memo[(spec.name, raw)] = norm
    return norm


def _cell_values(spec: FieldSpec, row: dict[str, str], memo: dict[tuple[str, str], str]) -> list[str]:
    """The normalised values of a field's primary variant: one per cell when the field
    decomposes over its cells, else one for the joined cells (empty ones left out)."""
    if is_decomposable(spec):
        vals = [_normalised(spec, row[c], memo) for c in spec.columns]
    else:
        vals = [_normalised(spec, " ".join(row[c] for c in spec.columns if row[c].strip()), memo)]
    return [v for v in vals if v]


def token_matrix(tokens: Sequence[frozenset[str]], vocab: dict[str, int]) -> sparse.csr_matrix:
    """(n, len(vocab)) 0/1 CSR matrix of the tokens in ``vocab`` (others are ignored)."""
    rows: list[int] = []
    cols: list[int] = []
    for i, toks in enumerate(tokens):
        for t in toks:
            j = vocab.get(t)
            if j is not None:
                rows.append(i)
                cols.append(j)
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(tokens), len(vocab)))
