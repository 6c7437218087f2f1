"""Encode a batch of input records into keyed Bloom filters (plaintext zone).

One ``BatchEncoder`` per run: it derives the subkeys once from the secret and the schema,
and encodes pandas DataFrame chunks into ``EncodedData``. Per batch it normalises each
distinct raw value once, hashes each distinct token once, and forgets both with the batch
(no cache outlives a batch).

Variants: a field with an ``aliases_column`` has several values (primary first). A record
keeps ``min(max_variants, most values of any field)`` variants; variant v takes value v of
each field, or its primary value when the field has fewer.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

import linkage
from linkage.bloom.fieldvalues import (
    blocking_part_values,
    normalise_value,
    salt_of,
    tokenise_value,
)
from linkage.bloom.hardening import harden, hardened_bits
from linkage.bloom.hashing import token_words
from linkage.bloom.packing import pack_positions
from linkage.errors import InputRecordError, NormalisationError
from linkage.format import EncodedData, FileMetadata
from linkage.keys import SecretKey, derive_project_key, derive_subkey, key_id
from linkage.schema import FieldSpec, LinkageSchema, NameNormaliser

__all__ = ["BatchEncoder", "EncodedBatch", "Reject"]

OnError = Literal["fail", "skip"]
_MAX_ID_LENGTH = 256


@dataclass(frozen=True)
class Reject:
    """A record left out: its 1-based row number, the field and the reason (never a value)."""

    row: int
    field: str
    reason: str


@dataclass
class EncodedBatch:
    data: EncodedData
    rows: np.ndarray  # 1-based input row number of each encoded record
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class _Record:
    row: int
    ref: str
    values: dict[str, list[str]]  # field -> normalised values (primary first), "" = missing


def _as_text(value: object, row: int, column: str) -> str:
    """Input cell to str; None/NaN are missing; bad types and invalid UTF-8 are refused."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise InputRecordError(row, column, "invalid UTF-8") from None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InputRecordError(row, column, f"wrong type ({type(value).__name__}), expected text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates left by surrogateescape decoding
        raise InputRecordError(row, column, "invalid UTF-8") from None
    return value


class BatchEncoder:
    """Encodes DataFrame chunks with one schema and one secret."""

    def __init__(self, schema: LinkageSchema, key: SecretKey) -> None:
        self.schema = schema
        fingerprint = schema.fingerprint()
        self._project_key = derive_project_key(key, fingerprint)
        self._field_keys = {
            f.name: derive_subkey(self._project_key, f"field:{f.name}") for f in schema.fields
        }
        self._blocking_key = derive_subkey(self._project_key, "blocking")
        self._reference_key = derive_subkey(self._project_key, "reference")
        self._field_filters = schema.filter.field_filters
        settings = {f.name: f.normaliser.model_dump_json() for f in schema.fields}
        distinct = sorted(set(settings.values()))
        self._normaliser_ids = {name: distinct.index(js) for name, js in settings.items()}
        field_bits = (
            {f.name: schema.filter.field_bits for f in schema.fields if f.weight > 0}
            if self._field_filters
            else {}
        )
        self.metadata = FileMetadata(
            schema_fingerprint=fingerprint,
            key_id=key_id(key),
            filter_bits=hardened_bits(schema.hardening, schema.filter.bits),
            max_variants=schema.max_variants,
            encoder_version=linkage.__version__,
            field_bits=field_bits,
            blocking_keys=tuple(b.name for b in schema.blocking_keys),
        )

    # -- records ------------------------------------------------------------------------

    def reference(self, record_id: str) -> str:
        if self.schema.reference == "column":
            return record_id
        digest = hmac.digest(self._reference_key, record_id.encode("utf-8"), "sha256")
        return "r-" + digest[:16].hex()

    def _normalised(self, spec: FieldSpec, raw: str, memo: dict, row: int) -> str:
        if len(raw) > spec.max_length:
            raise InputRecordError(row, spec.name, f"value longer than {spec.max_length}")
        # Keyed by the normaliser's settings, so fields sharing a normaliser share the work.
        norm = memo.get((self._normaliser_ids[spec.name], raw))
        if norm is None:
            try:
                norm = normalise_value(spec, raw)
            except NormalisationError as exc:
                raise InputRecordError(row, spec.name, exc.reason) from None
            memo[(self._normaliser_ids[spec.name], raw)] = norm
        return norm

    def _primary(self, spec: FieldSpec, cells: dict[str, str], memo: dict, row: int) -> str:
        """The primary value. Name parts are normalised cell by cell (names repeat, so the
        batch memo hits) and combined as normalising the joined name would."""
        parts = [cells[c] for c in spec.columns if cells[c].strip()]
        if len(parts) <= 1 or not isinstance(spec.normaliser, NameNormaliser):
            return self._normalised(spec, " ".join(parts), memo, row)
        if sum(len(p) for p in parts) + len(parts) > spec.max_length:
            raise InputRecordError(row, spec.name, f"value longer than {spec.max_length}")
        words = [w for p in parts for w in self._normalised(spec, p, memo, row).split()]
        return " ".join(sorted(words) if spec.normaliser.sort_parts else words)

    def _field_values(self, spec: FieldSpec, cells: dict[str, str], memo: dict, row: int) -> list[str]:
        values = [self._primary(spec, cells, memo, row)]
        if spec.aliases_column:
            for alias in cells[spec.aliases_column].split(spec.alias_separator):
                if alias.strip():
                    norm = self._normalised(spec, alias, memo, row)
                    if norm and norm not in values:
                        values.append(norm)
        if not values[0] and len(values) > 1:
            values.pop(0)  # an alias stands in for a missing primary value
        if spec.missing == "error" and not values[0]:
            raise InputRecordError(row, spec.name, "required value is missing")
        return values

    def _parse_row(self, row: int, cells: dict[str, str], memo: dict) -> _Record:
        rid = cells[self.schema.record_id_column].strip()
        if not rid:
            raise InputRecordError(row, self.schema.record_id_column, "record id is empty")
        if len(rid) > _MAX_ID_LENGTH:
            raise InputRecordError(row, self.schema.record_id_column, "record id is too long")
        values = {f.name: self._field_values(f, cells, memo, row) for f in self.schema.fields}
        return _Record(row=row, ref=self.reference(rid), values=values)

    def _parse(self, frame: pd.DataFrame, first_row: int, on_error: OnError):
        columns = self.schema.input_columns()
        records: list[_Record] = []
        rejects: list[Reject] = []
        memo: dict[tuple[str, str], str] = {}
        for offset, raw_cells in enumerate(frame[columns].itertuples(index=False, name=None)):
            row = first_row + offset
            try:
                cells = {c: _as_text(v, row, c) for c, v in zip(columns, raw_cells, strict=True)}
                records.append(self._parse_row(row, cells, memo))
            except InputRecordError as exc:
                if on_error == "fail":
                    raise
                rejects.append(Reject(exc.row, exc.field, exc.reason))
        return records, rejects

    # -- filters ------------------------------------------------------------------------

    def _variants(self, rec: _Record) -> list[dict[str, str]]:
        n = min(self.schema.max_variants, max(len(v) for v in rec.values.values()))
        return [
            {name: vals[v] if v < len(vals) else vals[0] for name, vals in rec.values.items()}
            for v in range(n)
        ]

    def _salt(self, variant: dict[str, str]) -> str | None:
        name = self.schema.hardening.salt_field
        if name is None:
            return None
        return salt_of(self.schema.field(name), variant[name])

    def _value_index(self, spec: FieldSpec, variants: list[dict[str, str]]):
        """Distinct (value, salt) pairs of a field over the batch, and each row's pair index."""
        salted = self.schema.hardening.salt_field is not None and isinstance(
            spec.normaliser, NameNormaliser
        )
        index: dict[tuple[str, str | None], int] = {}
        of_row = np.empty(len(variants), dtype=np.int64)
        for r, variant in enumerate(variants):
            key = (variant[spec.name], self._salt(variant) if salted else None)
            of_row[r] = index.setdefault(key, len(index))
        return index, of_row

    def _value_tokens(self, spec: FieldSpec, index: dict[tuple[str, str | None], int]):
        """(value index, token index) pairs and the distinct tokens, salt appended."""
        tokens: dict[str, int] = {}
        pair_value: list[int] = []
        pair_token: list[int] = []
        for (value, salt), vi in index.items():
            for t in tokenise_value(spec, value):
                if salt is not None:
                    t = f"{t}\x1f{salt}"
                pair_value.append(vi)
                pair_token.append(tokens.setdefault(t, len(tokens)))
        return np.asarray(pair_value, np.int64), np.asarray(pair_token, np.int64), list(tokens)

    def _field_tables(self, spec: FieldSpec, variants: list[dict[str, str]]):
        """Per distinct value of the field: its filter (record length and field length)."""
        index, of_row = self._value_index(spec, variants)
        pair_value, pair_token, tokens = self._value_tokens(spec, index)
        words = token_words(
            self.schema.filter.hash_function, self._field_keys[spec.name], tokens, spec.weight
        )
        rows = np.repeat(pair_value, spec.weight)
        lengths = [self.schema.filter.bits]
        if self._field_filters:
            lengths.append(self.schema.filter.field_bits)
        tables = [
            pack_positions(rows, (words[pair_token] % np.uint32(b)).reshape(-1), len(index), b)
            for b in lengths
        ]
        return of_row, tables

    def _filters(self, variants: list[dict[str, str]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        clk = np.zeros((len(variants), self.schema.filter.bits // 64), dtype=np.uint64)
        field_filters: dict[str, np.ndarray] = {}
        for spec in self.schema.fields:
            if spec.weight == 0:
                continue
            of_row, tables = self._field_tables(spec, variants)
            clk |= tables[0][of_row]
            if self._field_filters:
                field_filters[spec.name] = tables[1][of_row]
        return harden(clk, self.schema.hardening, self._project_key), field_filters

    def _blocking_keys(self, variants: list[dict[str, str]], memo: dict) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for bk in self.schema.blocking_keys:
            keys: set[int] = set()
            for variant in variants:
                parts = [
                    blocking_part_values(self.schema.field(p.field), p, variant[p.field])
                    for p in bk.parts
                ]
                for combo in itertools.product(*parts):
                    msg = "\x1f".join((bk.name, *combo))
                    digest = memo.get(msg)
                    if digest is None:
                        raw = hmac.digest(self._blocking_key, msg.encode("utf-8"), "sha256")
                        digest = memo[msg] = int.from_bytes(raw[:8], "little")
                    keys.add(digest)
            out[bk.name] = np.asarray(sorted(keys), dtype=np.uint64)
        return out

    # -- public -------------------------------------------------------------------------

    def encode(self, frame: pd.DataFrame, *, first_row: int = 1, on_error: OnError = "fail") -> EncodedBatch:
        """Encode one chunk; ``first_row`` is the 1-based input row number of its first row."""
        records, rejects = self._parse(frame, first_row, on_error)
        per_record = [self._variants(r) for r in records]
        counts = np.asarray([len(v) for v in per_record], dtype=np.uint8)
        flat = [v for vs in per_record for v in vs]
        clk, fields = self._filters(flat)
        blocking: dict[str, list[np.ndarray]] = {b.name: [] for b in self.schema.blocking_keys}
        memo: dict[str, int] = {}
        for vs in per_record:
            for name, keys in self._blocking_keys(vs, memo).items():
                blocking[name].append(keys)
        data = EncodedData(
            refs=np.asarray([r.ref for r in records], dtype=object),
            variant_counts=counts,
            clk=clk,
            fields=fields,
            blocking=blocking,
        )
        rows = np.asarray([r.row for r in records], dtype=np.int64)
        return EncodedBatch(data=data, rows=rows, rejects=rejects)


def ref_digests(refs: Iterable[str]) -> np.ndarray:
    """64-bit digests of references, for a bounded-memory duplicate check over a whole run."""
    return np.asarray(
        [int.from_bytes(hashlib.sha256(r.encode()).digest()[:8], "little") for r in refs],
        dtype=np.uint64,
    )
