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
from linkage.bloom.hashing import token_positions
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

    def _field_values(
        self, spec: FieldSpec, cells: dict[str, str], memo: dict[tuple[str, str], str], row: int
    ) -> list[str]:
        raws = [" ".join(cells[c] for c in spec.columns if cells[c].strip())]
        if spec.aliases_column:
            raws += [a for a in cells[spec.aliases_column].split(spec.alias_separator) if a.strip()]
        values: list[str] = []
        for raw in raws:
            if len(raw) > spec.max_length:
                raise InputRecordError(row, spec.name, f"value longer than {spec.max_length}")
            norm = memo.get((spec.name, raw))
            if norm is None:
                try:
                    norm = normalise_value(spec, raw)
                except NormalisationError as exc:
                    raise InputRecordError(row, spec.name, exc.reason) from None
                memo[(spec.name, raw)] = norm
            if norm not in values and (norm or not values):
                values.append(norm)
        if values and not values[0] and len(values) > 1:
            values.pop(0)  # an alias stands in for a missing primary value
        if spec.missing == "error" and not any(values):
            raise InputRecordError(row, spec.name, "required value is missing")
        return values or [""]

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

    def _token_rows(self, variants: list[dict[str, str]]) -> dict[str, tuple[list[int], list[str]]]:
        """Per field: (filter row index, token) pairs over all variant rows of the batch."""
        salt_field = self.schema.hardening.salt_field
        out: dict[str, tuple[list[int], list[str]]] = {}
        for spec in self.schema.fields:
            if spec.weight == 0:
                continue
            salted = salt_field is not None and isinstance(spec.normaliser, NameNormaliser)
            rows: list[int] = []
            toks: list[str] = []
            for r, variant in enumerate(variants):
                tokens = tokenise_value(spec, variant[spec.name])
                if salted:
                    salt = self._salt(variant)
                    tokens = [f"{t}\x1f{salt}" for t in tokens]
                rows.extend([r] * len(tokens))
                toks.extend(tokens)
            out[spec.name] = (rows, toks)
        return out

    def _positions(self, spec: FieldSpec, toks: list[str], bits: int) -> np.ndarray:
        unique, inverse = np.unique(np.asarray(toks, dtype=object), return_inverse=True)
        pos = token_positions(
            self.schema.filter.hash_function,
            self._field_keys[spec.name],
            unique.tolist(),
            spec.weight,
            bits,
        )
        return pos[inverse.reshape(-1)]

    def _filters(self, variants: list[dict[str, str]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n_rows = len(variants)
        bits = self.schema.filter.bits
        all_rows, all_pos = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        field_filters: dict[str, np.ndarray] = {}
        for name, (rows, toks) in self._token_rows(variants).items():
            spec = self.schema.field(name)
            row_arr = np.repeat(np.asarray(rows, dtype=np.int64), spec.weight)
            if toks:
                pos = self._positions(spec, toks, bits)
                all_rows.append(row_arr)
                all_pos.append(pos.reshape(-1).astype(np.int64))
            if self._field_filters:
                fbits = self.schema.filter.field_bits
                fpos = (
                    self._positions(spec, toks, fbits).reshape(-1).astype(np.int64)
                    if toks
                    else np.zeros(0, np.int64)
                )
                field_filters[name] = pack_positions(row_arr, fpos, n_rows, fbits)
        clk = pack_positions(np.concatenate(all_rows), np.concatenate(all_pos), n_rows, bits)
        return harden(clk, self.schema.hardening, self._project_key), field_filters

    def _blocking_keys(self, rec: _Record, variants: list[dict[str, str]]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for bk in self.schema.blocking_keys:
            keys: set[int] = set()
            for variant in variants:
                parts = [
                    blocking_part_values(self.schema.field(p.field), p, variant[p.field])
                    for p in bk.parts
                ]
                for combo in itertools.product(*parts):
                    msg = "\x1f".join((bk.name, *combo)).encode("utf-8")
                    digest = hmac.digest(self._blocking_key, msg, "sha256")
                    keys.add(int.from_bytes(digest[:8], "little"))
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
        for rec, vs in zip(records, per_record, strict=True):
            for name, keys in self._blocking_keys(rec, vs).items():
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
