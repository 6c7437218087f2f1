"""Encode a batch of input records into keyed Bloom filters (plaintext zone).

One ``BatchEncoder`` per run derives the subkeys once from the secret and the schema, and
encodes pandas DataFrame chunks into ``EncodedData``. The work is columnar: each distinct
cell value of the batch is normalised once, each distinct (value, salt) is tokenised and
hashed once into a filter table, and records are assembled by OR-ing table rows with numpy.
Everything distinct is dropped with the batch (no cache outlives it).

Variants: a field with an ``aliases_column`` has several values (primary first). A record
keeps ``min(max_variants, 1 + most aliases of any field)`` variants; variant v takes alias
v-1 of each aliased field, or its primary value when the field has fewer aliases. Aliases
equal to the primary value (as a set of name parts) are dropped.

Multi-column fields whose tokens decompose over name parts (per-part q-grams, phonetic
codes) are handled cell by cell: the tokens of "given middle family" are the union of the
cells' tokens. Other multi-column fields are joined per record first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Literal

import numpy as np
import pandas as pd

import linkage
from linkage.arrays import ranges, unique_sorted
from linkage.bloom.columns import Column, factorise
from linkage.bloom.fieldvalues import (
    blocking_part_column,
    blocking_part_values,
    is_decomposable,
    normalise_value,
    phonetic_algorithm,
    salt_of,
)
from linkage.bloom.hardening import harden, hardened_bits
from linkage.bloom.hashing import hmac_sha256_many, token_words
from linkage.bloom.packing import or_cell_bits
from linkage.bloom.token_table import TokenTable, phonetic_code_table, token_table
from linkage.errors import InputRecordError, NormalisationError
from linkage.format import EncodedData, FileMetadata, UInt64Lists
from linkage.keys import SecretKey, derive_project_key, derive_subkey, key_id
from linkage.normalize.columnar import (
    fold_ascii,
    normalise_documents_ascii,
    normalise_names_ascii,
)
from linkage.normalize.dates import fast_iso_dates
from linkage.schema import (
    DateNormaliser,
    DocumentNormaliser,
    FieldSpec,
    LinkageSchema,
    NameNormaliser,
    PhoneticTokeniser,
    TextNormaliser,
)

__all__ = ["BatchEncoder", "BlockingPlaintext", "EncodedBatch", "Reject", "ref_digests"]

OnError = Literal["fail", "skip"]
_PHONETIC = ("phonetic_parts", "phonetic_pairs")
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
    record_ids: list[str] = field(default_factory=list)  # agency-local, for the reference map


class _Rejects:
    """The first problem of each row, in the order checks are made (record id, then fields
    in schema order)."""

    def __init__(self, n: int) -> None:
        self.field = np.full(n, None, dtype=object)
        self.reason = np.full(n, None, dtype=object)

    def add(self, rows: np.ndarray, field_name: str, reason: str) -> None:
        rows = rows[self.field[rows] == None]  # noqa: E711 (elementwise on an object array)
        self.field[rows] = field_name
        self.reason[rows] = reason

    def add_codes(self, col: Column, reasons: dict[int, str], field_name: str) -> None:
        for code, reason in reasons.items():
            self.add(np.flatnonzero(col.codes == code), field_name, reason)

    @property
    def mask(self) -> np.ndarray:
        return self.field != None  # noqa: E711


@dataclass
class _FieldCells:
    """A field's distinct normalised values (``universe``) and where each record uses them."""

    universe: list[str]
    columns: list[np.ndarray]  # per input column (or one joined column): cell id per record
    aliases: list[list[int]] | None  # per record, cell ids of its aliases (primary removed)
    tokens: TokenTable | None = None  # tokens of the universe, once computed (this batch only)
    gathered: list[tuple[np.ndarray, np.ndarray]] | None = None  # see BatchEncoder._gathers

    def token_table(self, spec: FieldSpec) -> TokenTable:
        if self.tokens is None:
            self.tokens = token_table(spec, self.universe)
        return self.tokens


@dataclass
class _Batch:
    """Per-batch state: factorised columns, a normalisation memo, collected rejects."""

    frame: pd.DataFrame
    n: int
    rejects: _Rejects
    columns: dict[str, Column] = field(default_factory=dict)
    memo: dict[tuple[int, str], str | tuple[str]] = field(default_factory=dict)
    norms: dict[tuple[int, str], tuple[np.ndarray, dict[int, str]]] = field(default_factory=dict)
    alias_norms: dict[tuple[int, str], tuple[list[list[str]], dict[int, str]]] = field(
        default_factory=dict)

    def column(self, name: str) -> Column:
        if name not in self.columns:
            self.columns[name] = factorise(name, self.frame[name])
        return self.columns[name]


DateOrder = Literal["day_first", "month_first"]


def _with_date_order(schema: LinkageSchema, order: DateOrder | None) -> LinkageSchema:
    """The schema with this agency's reading of ambiguous nn/nn/yyyy dates.

    How an agency writes dates is a property of its input, not of the encoding: a US agency
    writes mm/dd/yyyy, a French one dd/mm/yyyy, and both must produce the same ISO date. The
    override therefore changes parsing only; the fingerprint stays the project's.
    """
    if order is None:
        return schema
    fields = [
        f.model_copy(update={"normaliser": DateNormaliser(ambiguous=order)})
        if isinstance(f.normaliser, DateNormaliser) else f
        for f in schema.fields
    ]
    return schema.model_copy(update={"fields": fields})


class BatchEncoder:
    """Encodes DataFrame chunks with one schema and one secret."""

    def __init__(self, schema: LinkageSchema, key: SecretKey, *,
                 date_order: DateOrder | None = None) -> None:
        fingerprint = schema.fingerprint()
        self.schema = schema = _with_date_order(schema, date_order)
        self._project_key = derive_project_key(key, fingerprint)
        self._field_keys = {
            f.name: derive_subkey(self._project_key, f"field:{f.name}") for f in schema.fields
        }
        self._blocking_key = derive_subkey(self._project_key, "blocking")
        self._reference_key = derive_subkey(self._project_key, "reference")
        settings = {f.name: f.normaliser.model_dump_json() for f in schema.fields}
        distinct = sorted(set(settings.values()))
        self._normaliser_ids = {name: distinct.index(js) for name, js in settings.items()}
        self._lengths = [schema.filter.bits]
        if schema.filter.field_filters:
            self._lengths.append(schema.filter.field_bits)
        field_bits = (
            {f.name: schema.filter.field_bits for f in schema.fields if f.weight > 0}
            if schema.filter.field_filters
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

    # -- references -----------------------------------------------------------------------

    def reference(self, record_id: str) -> str:
        return self.references([record_id])[0]

    def references(self, record_ids: list[str]) -> list[str]:
        """The opaque reference sent out for each record id (see ``LinkageSchema.reference``)."""
        if self.schema.reference == "column":
            return list(record_ids)
        digests = hmac_sha256_many(self._reference_key, [r.encode("utf-8") for r in record_ids])
        hexes = digests.hex()  # 64 hex digits per record; the reference keeps the first 32
        return ["r-" + hexes[64 * i : 64 * i + 32] for i in range(len(record_ids))]

    def _record_ids(self, batch: _Batch) -> list[str]:
        name = self.schema.record_id_column
        col = batch.column(name)
        batch.rejects.add_codes(col, col.bad, name)
        batch.rejects.add(np.flatnonzero(col.codes < 0), name, "record id is empty")
        long = {c: "record id is too long" for c, v in enumerate(col.values)
                if len(v.strip()) > _MAX_ID_LENGTH}
        batch.rejects.add_codes(col, long, name)
        ids = [v.strip() for v in col.values] + [""]
        return [ids[c] for c in col.codes]

    # -- normalisation ----------------------------------------------------------------------

    def _normalise(self, spec: FieldSpec, raw: str, batch: _Batch) -> str | tuple[str]:
        """Normalised value, or a 1-tuple with the reason it cannot be normalised."""
        if len(raw) > spec.max_length:
            return (f"value longer than {spec.max_length}",)
        key = (self._normaliser_ids[spec.name], raw)
        got = batch.memo.get(key)
        if got is None:
            try:
                got = normalise_value(spec, raw)
            except NormalisationError as exc:
                got = (exc.reason,)
            batch.memo[key] = got
        return got

    def _fast_norms(self, spec: FieldSpec, raws: list[str]) -> list[str | None]:
        """The normalised values the columnar normalisers give (None for the others): ASCII
        names, text and document numbers (``linkage.normalize.columnar``), dates in the plain
        shapes (``fast_iso_dates``). Everything else, errors included, is ``_normalise``'s."""
        n = spec.normaliser
        fits = [len(r) <= spec.max_length for r in raws]
        if isinstance(n, DateNormaliser):
            dates = fast_iso_dates(raws, ambiguous=n.ambiguous)
            return [d if ok else None for d, ok in zip(dates, fits, strict=True)]
        if not isinstance(n, NameNormaliser | TextNormaliser | DocumentNormaliser):
            return [None] * len(raws)
        todo = [i for i, r in enumerate(raws) if fits[i] and r.isascii()]
        texts = [raws[i] for i in todo]
        if isinstance(n, NameNormaliser):
            got: list[str | None] = list(normalise_names_ascii(
                texts, drop_titles=n.drop_titles, drop_particles=n.drop_particles,
                sort_parts=n.sort_parts))
        elif isinstance(n, TextNormaliser):
            got = list(fold_ascii(texts))
        else:
            got = normalise_documents_ascii(texts)
        out: list[str | None] = [None] * len(raws)
        for i, norm in zip(todo, got, strict=True):
            out[i] = norm
        return out

    def _normalise_many(self, spec: FieldSpec, raws: list[str], batch: _Batch) -> list[str | tuple[str]]:
        """``_normalise`` of each value, the columnar normalisers taking what they cover."""
        fast = self._fast_norms(spec, raws)
        return [f if f is not None else self._normalise(spec, r, batch)
                for r, f in zip(raws, fast, strict=True)]

    def _column_norms(self, spec: FieldSpec, col: Column, batch: _Batch):
        """Per code of the column: its normalised value ("" for blank, bad or failing) and the
        reason of each that fails. Shared by the fields with the same normaliser."""
        key = (self._normaliser_ids[spec.name], col.name)
        if key not in batch.norms:
            live = [c for c, raw in enumerate(col.values) if c not in col.bad and raw.strip()]
            results = self._normalise_many(spec, [col.values[c] for c in live], batch)
            reasons = {live[i]: r[0] for i, r in enumerate(results) if type(r) is tuple}
            norms = np.full(len(col.values), "", dtype=object)
            norms[live] = ["" if type(r) is tuple else r for r in results]
            batch.norms[key] = norms, reasons
        return batch.norms[key]

    def _cell_ids(self, spec: FieldSpec, col: Column, batch: _Batch, ids: dict[str, int]) -> np.ndarray:
        """Cell id per record for one column; rows with bad values are rejected."""
        batch.rejects.add_codes(col, col.bad, col.name)
        norms, reasons = self._column_norms(spec, col, batch)
        batch.rejects.add_codes(col, reasons, spec.name)
        table = np.full(len(col.values) + 1, -1, dtype=np.int64)  # last entry: code -1
        used = np.flatnonzero(norms != "")
        local, distinct = pd.factorize(norms[used])
        cell = np.fromiter((ids.setdefault(v, len(ids)) for v in distinct.tolist()),
                           dtype=np.int64, count=len(distinct))
        table[used] = cell[local]
        return table[col.codes]

    def _joined_column(self, spec: FieldSpec, batch: _Batch) -> Column:
        for name in spec.columns:  # type problems are reported per input column
            col = batch.column(name)
            batch.rejects.add_codes(col, col.bad, col.name)
        parts = batch.frame[spec.columns].astype(object).where(batch.frame[spec.columns].notna(), "")
        joined = parts.astype(str).agg(lambda r: " ".join(x for x in r if x.strip()), axis=1)
        return factorise(spec.name, joined)

    def _alias_norms(self, spec: FieldSpec, col: Column, batch: _Batch):
        """Per code of the aliases column: its distinct non-empty normalised aliases in order,
        and the reason for each code with an alias that fails. Shared by the fields with the
        same normaliser."""
        key = (self._normaliser_ids[spec.name], col.name)
        if key not in batch.alias_norms:
            split = [raw.split(spec.alias_separator) if code not in col.bad else []
                     for code, raw in enumerate(col.values)]
            distinct = list(dict.fromkeys(a for parts in split for a in parts if a.strip()))
            norm_of = dict(zip(distinct, self._normalise_many(spec, distinct, batch), strict=True))
            per_code: list[list[str]] = []
            reasons: dict[int, str] = {}
            for code, parts in enumerate(split):
                norms: list[str] = []
                for alias in parts:
                    norm = norm_of.get(alias, "")
                    if isinstance(norm, tuple):
                        reasons[code] = norm[0]
                    elif norm and norm not in norms:
                        norms.append(norm)
                per_code.append(norms)
            batch.alias_norms[key] = per_code, reasons
        return batch.alias_norms[key]

    def _alias_ids(self, spec: FieldSpec, batch: _Batch, ids: dict[str, int]) -> list[list[int]]:
        col = batch.column(spec.aliases_column)  # type: ignore[arg-type]
        batch.rejects.add_codes(col, col.bad, col.name)
        per_code, reasons = self._alias_norms(spec, col, batch)
        batch.rejects.add_codes(col, reasons, spec.name)
        cells = [[ids.setdefault(n, len(ids)) for n in norms] for norms in per_code]
        cells.append([])  # code -1
        return [cells[c] for c in col.codes]

    def _field_cells(self, spec: FieldSpec, batch: _Batch) -> _FieldCells:
        ids: dict[str, int] = {}
        if is_decomposable(spec):
            cols = [self._cell_ids(spec, batch.column(c), batch, ids) for c in spec.columns]
        else:
            cols = [self._cell_ids(spec, self._joined_column(spec, batch), batch, ids)]
        aliases = self._alias_ids(spec, batch, ids) if spec.aliases_column else None
        universe = [""] * len(ids)
        for value, cid in ids.items():
            universe[cid] = value
        cells = _FieldCells(universe, cols, aliases)
        if aliases is not None:
            self._drop_aliases_equal_to_primary(cells)
        if spec.missing == "error":
            present = np.zeros(batch.n, dtype=bool)
            for c in cols:
                present |= c >= 0
            if aliases is not None:
                present |= np.asarray([bool(a) for a in aliases], dtype=bool)
            batch.rejects.add(np.flatnonzero(~present), spec.name, "required value is missing")
        return cells

    @staticmethod
    def _drop_aliases_equal_to_primary(cells: _FieldCells) -> None:
        """An alias with the same name parts as the primary value is no variant: drop it."""
        assert cells.aliases is not None
        for r, alias in enumerate(cells.aliases):
            if not alias:
                continue
            primary = sorted(
                w for c in cells.columns if c[r] >= 0 for w in cells.universe[c[r]].split()
            )
            cells.aliases[r] = [a for a in alias if sorted(cells.universe[a].split()) != primary]

    # -- variants -------------------------------------------------------------------------

    def _variant_counts(self, fields: dict[str, _FieldCells], n: int) -> np.ndarray:
        most = np.zeros(n, dtype=np.int64)
        for cells in fields.values():
            if cells.aliases is not None:
                most = np.maximum(most, np.fromiter(map(len, cells.aliases), dtype=np.int64,
                                                    count=len(cells.aliases)))
        return np.minimum(1 + most, self.schema.max_variants)

    @staticmethod
    def _gathers(cells: _FieldCells, counts: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(variant rows, cell ids) pairs saying which cells each variant row of the field uses;
        computed once per field and batch (filters and blocking keys all need them)."""
        if cells.gathered is None:
            cells.gathered = BatchEncoder._gather(cells, counts)
        return cells.gathered

    @staticmethod
    def _gather(cells: _FieldCells, counts: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        offsets = np.concatenate([[0], np.cumsum(counts)])
        record = np.repeat(np.arange(len(counts)), counts)
        variant = np.arange(len(record)) - offsets[record]
        if cells.aliases is None:
            n_alias = np.zeros(len(counts), dtype=np.int64)
        else:
            n_alias = np.asarray([len(a) for a in cells.aliases], dtype=np.int64)
        primary = (variant == 0) | (variant - 1 >= n_alias[record])
        rows = np.flatnonzero(primary)
        out = []
        for col in cells.columns:
            ids = col[record[rows]]
            keep = ids >= 0
            out.append((rows[keep], ids[keep]))
        alias_rows = np.flatnonzero(~primary)
        if len(alias_rows):
            assert cells.aliases is not None
            ids = np.asarray(
                [cells.aliases[record[r]][variant[r] - 1] for r in alias_rows], dtype=np.int64
            )
            out.append((alias_rows, ids))
        return out

    # -- filters --------------------------------------------------------------------------

    def _salts(self, fields: dict[str, _FieldCells], counts: np.ndarray):
        """Per variant row, the index of its salt in the returned list of salt strings."""
        rows = int(counts.sum())
        name = self.schema.hardening.salt_field
        if name is None:
            return np.zeros(rows, dtype=np.int64), [""]
        spec = self.schema.field(name)
        value = np.full(rows, "", dtype=object)
        for vrows, ids in self._gathers(fields[name], counts):
            cell_salts = np.asarray([salt_of(spec, v) for v in fields[name].universe] + [""],
                                    dtype=object)
            value[vrows] = cell_salts[ids]
        codes, uniques = pd.factorize(pd.Series(value, dtype=object))
        return codes.astype(np.int64), [str(u) for u in uniques]

    def _key_tokens(self, spec: FieldSpec, cells: _FieldCells, keys: np.ndarray,
                    salts: list[str]) -> TokenTable:
        """The tokens of each distinct salted (cell, salt) key: with a salt field, the salt is
        part of the hashed token, so each (token, salt) is a token of its own."""
        n_salts = len(salts)
        key_table = cells.token_table(spec).rows(keys // n_salts)
        pair_key = np.repeat(np.arange(len(keys), dtype=np.int64), np.diff(key_table.starts))
        pair_salt = (keys % n_salts)[pair_key]
        distinct, pair_token = np.unique(key_table.ids * n_salts + pair_salt, return_inverse=True)
        texts = [f"{key_table.texts[t]}\x1f{salts[s]}"
                 for t, s in zip((distinct // n_salts).tolist(), (distinct % n_salts).tolist(),
                                 strict=True)]
        return TokenTable(pair_token.reshape(-1).astype(np.int64), key_table.starts, texts)

    def _field_filters(self, spec: FieldSpec, cells: _FieldCells, counts: np.ndarray,
                       salt_ids: np.ndarray, salts: list[str], out: list[np.ndarray]) -> None:
        """OR each variant row's field tokens into its filters (one per filter length)."""
        salted = self.schema.hardening.salt_field is not None and isinstance(
            spec.normaliser, NameNormaliser
        )
        gathers = self._gathers(cells, counts)
        if not gathers:
            return
        if salted:
            n_salts = len(salts)
            keys, inverse = np.unique(np.concatenate(
                [ids * n_salts + salt_ids[rows] for rows, ids in gathers]), return_inverse=True)
            table = self._key_tokens(spec, cells, keys, salts)
            bounds = np.cumsum([0] + [len(rows) for rows, _ in gathers])
            gathers = [(rows, inverse[a:b]) for (rows, _), a, b in
                       zip(gathers, bounds[:-1], bounds[1:], strict=True)]
        else:
            table = cells.token_table(spec)
        words = token_words(self.schema.filter.hash_function, self._field_keys[spec.name],
                            table.texts, spec.weight)
        for rows, ids in gathers:
            for target, bits in zip(out, self._lengths, strict=True):
                or_cell_bits(target, rows, ids, table.starts, table.ids, words, bits)

    def _filters(self, fields: dict[str, _FieldCells], counts: np.ndarray):
        rows = int(counts.sum())
        salt_ids, salts = self._salts(fields, counts)
        clk = np.zeros((rows, self.schema.filter.bits // 64), dtype=np.uint64)
        field_filters: dict[str, np.ndarray] = {}
        for spec in self.schema.fields:
            if spec.weight == 0:
                continue
            out = [clk]
            if self.schema.filter.field_filters:
                field_filters[spec.name] = np.zeros((rows, self.schema.filter.field_bits // 64),
                                                    dtype=np.uint64)
                out.append(field_filters[spec.name])
            self._field_filters(spec, fields[spec.name], counts, salt_ids, salts, out)
        return harden(clk, self.schema.hardening, self._project_key), field_filters

    # -- blocking keys ----------------------------------------------------------------------

    def _row_values(self, fields: dict[str, _FieldCells], name: str, counts: np.ndarray) -> list[str]:
        """Per variant row, the field's value (its cells joined in column order)."""
        universe = np.asarray([*fields[name].universe, ""], dtype=object)
        out = np.full(int(counts.sum()), "", dtype=object)
        for rows, ids in self._gathers(fields[name], counts):
            so_far, value = out[rows], universe[ids]
            out[rows] = np.where(so_far == "", value, so_far + " " + value)
        return out.tolist()

    def _row_codes(self, cells: _FieldCells, name: str, fields: dict[str, _FieldCells],
                   counts: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Per variant row, the index of its field value in the returned distinct values (-1:
        none). A one-column field's values are its cells; others are joined per row."""
        if len(cells.columns) == 1:  # each variant row uses at most one cell
            codes = np.full(int(counts.sum()), -1, dtype=np.int64)
            for rows, ids in self._gathers(cells, counts):
                codes[rows] = ids
            return codes, cells.universe
        codes, uniques = pd.factorize(pd.Series(self._row_values(fields, name, counts)))
        return codes.astype(np.int64), uniques.tolist()

    def _part_values(self, fields: dict[str, _FieldCells], part, counts: np.ndarray,
                     memo: dict | None = None) -> pd.DataFrame:
        """Long table (vrow, value) of one blocking-key part over all variant rows."""
        spec = self.schema.field(part.field)
        if part.transform in _PHONETIC and is_decomposable(spec):
            return self._phonetic_part_values(spec, fields[part.field], part, counts, memo)
        codes, uniques = self._row_codes(fields[part.field], part.field, fields, counts)
        column = blocking_part_column(part, uniques)
        if column is not None:
            has = np.append(pd.notna(column), False)  # code -1: no value
            vrow = np.flatnonzero(has[codes])
            return pd.DataFrame({"vrow": vrow.astype(np.int64), "v": column[codes[vrow]]})
        lists = [blocking_part_values(spec, part, v) if v else [] for v in uniques] + [[]]
        sizes = np.asarray([len(x) for x in lists], dtype=np.int64)
        flat = np.empty(int(sizes.sum()), dtype=object)
        flat[:] = list(chain.from_iterable(lists))
        starts = np.cumsum(sizes) - sizes
        row_sizes = sizes[codes]
        vrow = np.repeat(np.arange(len(codes), dtype=np.int64), row_sizes)
        return pd.DataFrame({"vrow": vrow, "v": flat[ranges(starts[codes], row_sizes)]})

    def _phonetic_part_values(self, spec: FieldSpec, cells: _FieldCells, part,
                              counts: np.ndarray, memo: dict | None = None) -> pd.DataFrame:
        """``_part_values`` for phonetic parts, computed once per distinct cell.

        The codes of a variant row are the sorted union of its cells' codes (``phonetic_codes``
        works part by part), and pairs are taken over that union as the per-row path does.
        """
        memo = {} if memo is None else memo
        if spec.name not in memo:  # shared by the blocking keys using this field
            gathers = self._gathers(cells, counts)
            rows = np.concatenate([r for r, _ in gathers]) if gathers else np.zeros(0, np.int64)
            ids = np.concatenate([i for _, i in gathers]) if gathers else np.zeros(0, np.int64)
            used, pos = np.unique(ids, return_inverse=True)
            if isinstance(spec.tokeniser, PhoneticTokeniser):  # the field's own tokens
                table = cells.token_table(spec).rows(used)
            else:
                table = phonetic_code_table([cells.universe[c] for c in used.tolist()],
                                            phonetic_algorithm(spec))
            memo[spec.name] = rows, pos.reshape(-1), table
        rows, pos, table = memo[spec.name]
        names = table.texts  # in string order, so code id order = string order
        sizes, flat, starts = np.diff(table.starts), table.ids, table.starts[:-1]
        row_sizes = sizes[pos]
        n_codes = max(len(names), 1)
        pair = unique_sorted(np.repeat(rows, row_sizes) * n_codes
                         + flat[ranges(starts[pos], row_sizes)])  # sorted by (vrow, code)
        vrow, code = pair // n_codes, pair % n_codes
        texts = np.empty(len(names), dtype=object)
        texts[:] = names
        if part.transform == "phonetic_parts":
            return pd.DataFrame({"vrow": vrow, "v": texts[code]})
        # phonetic_pairs: each unordered pair of a row's distinct codes, or its only code
        bounds = np.flatnonzero(np.r_[True, vrow[1:] != vrow[:-1]]) if len(vrow) else vrow
        k = np.diff(np.r_[bounds, len(vrow)])
        k_of = np.repeat(k, k)
        single = k_of == 1
        after = k_of - 1 - (np.arange(len(vrow)) - np.repeat(bounds, k))  # later codes in row
        first = np.repeat(np.arange(len(vrow)), after)
        second = ranges(np.arange(len(vrow)) + 1, after)
        pair_ids, pair_of = np.unique(code[first] * n_codes + code[second], return_inverse=True)
        pair_texts = np.empty(len(pair_ids), dtype=object)
        pair_texts[:] = [f"{names[a]} {names[b]}" for a, b in
                         zip((pair_ids // n_codes).tolist(), (pair_ids % n_codes).tolist(),
                             strict=True)]
        return pd.DataFrame({
            "vrow": np.concatenate([vrow[single], vrow[first]]),
            "v": np.concatenate([texts[code[single]], pair_texts[pair_of.reshape(-1)]]),
        })

    def _key_combinations(self, fields: dict[str, _FieldCells], counts: np.ndarray,
                          bk, memo: dict) -> _KeyCombinations:
        """One blocking key's (variant row, combination) pairs and distinct messages.

        Part values travel as integer codes; only the distinct combinations become message
        strings ("name\x1fpart1\x1fpart2...").
        """
        combos: pd.DataFrame | None = None
        texts: list[np.ndarray] = []
        for i, part in enumerate(bk.parts):
            long = self._part_values(fields, part, counts, memo)
            codes, distinct_values = pd.factorize(long["v"])  # values are normalised: no NUL
            texts.append(np.asarray(distinct_values, dtype=object))
            coded = pd.DataFrame({"vrow": long["vrow"].to_numpy(np.int64),
                                  f"c{i}": codes.astype(np.int64)})
            combos = coded if combos is None else combos.merge(coded, on="vrow")
        assert combos is not None
        combined = np.zeros(len(combos), dtype=np.int64)
        for i, t in enumerate(texts):  # mixed radix: one int per combination
            combined = combined * len(t) + combos[f"c{i}"].to_numpy(np.int64)
        distinct, inverse = np.unique(combined, return_inverse=True)
        record_of_row = np.repeat(np.arange(len(counts)), counts)
        records = record_of_row[combos["vrow"].to_numpy(np.int64)]
        inverse = inverse.reshape(-1)
        if bk.max_share is not None:
            keep = ~_too_common(records, inverse, len(distinct), bk.max_share * len(counts))
            records, inverse = records[keep], inverse[keep]
        return _KeyCombinations(records=records, combination=inverse,
                                messages=_combination_messages(bk.name, distinct, texts))

    def _blocking(self, fields: dict[str, _FieldCells], counts: np.ndarray) -> dict[str, UInt64Lists]:
        """Per blocking key, each record's sorted distinct keyed hashes (uint64)."""
        out: dict[str, UInt64Lists] = {}
        memo: dict = {}
        for bk in self.schema.blocking_keys:
            kc = self._key_combinations(fields, counts, bk, memo)
            digests = _digests64(self._blocking_key, kc.messages)
            out[bk.name] = _per_record_sorted(kc.records, kc.combination, digests, len(counts))
        return out

    # -- public -------------------------------------------------------------------------

    def _prepare(self, frame: pd.DataFrame, first_row: int, on_error: OnError) -> _Prepared:
        """Normalised cells of the records that encode, their variant counts and the rejects."""
        frame = frame.reset_index(drop=True)
        batch = _Batch(frame=frame, n=len(frame), rejects=_Rejects(len(frame)))
        ids = self._record_ids(batch)
        fields = {f.name: self._field_cells(f, batch) for f in self.schema.fields}
        bad = batch.rejects.mask
        if bad.any() and on_error == "fail":
            i = int(np.flatnonzero(bad)[0])
            raise InputRecordError(first_row + i, batch.rejects.field[i], batch.rejects.reason[i])
        rejects = [Reject(first_row + int(i), batch.rejects.field[i], batch.rejects.reason[i])
                   for i in np.flatnonzero(bad)]
        keep = np.flatnonzero(~bad)
        fields = {name: _select(cells, keep) for name, cells in fields.items()}
        return _Prepared([ids[i] for i in keep], keep, fields,
                         self._variant_counts(fields, len(keep)), rejects)

    def encode(self, frame: pd.DataFrame, *, first_row: int = 1, on_error: OnError = "fail") -> EncodedBatch:
        """Encode one chunk; ``first_row`` is the 1-based input row number of its first row."""
        prep = self._prepare(frame, first_row, on_error)
        clk, field_filters = self._filters(prep.fields, prep.counts)
        data = EncodedData(
            refs=np.asarray(self.references(prep.record_ids), dtype=object),
            variant_counts=prep.counts.astype(np.uint8),
            clk=clk,
            fields=field_filters,
            blocking=self._blocking(prep.fields, prep.counts),
        )
        return EncodedBatch(data=data, rows=first_row + prep.keep.astype(np.int64),
                            rejects=prep.rejects, record_ids=prep.record_ids)

    def blocking_plaintext(self, frame: pd.DataFrame) -> dict[str, BlockingPlaintext]:
        """The plaintext behind each blocking key of the records of ``frame`` that encode
        (in ``encode``'s order), for the agency-side privacy simulation only
        (``linkage.privacy.blocking_keys``); never written anywhere."""
        prep = self._prepare(frame, 1, "skip")
        memo: dict = {}
        out: dict[str, BlockingPlaintext] = {}
        for bk in self.schema.blocking_keys:
            kc = self._key_combinations(prep.fields, prep.counts, bk, memo)
            pairs = np.unique(np.stack([kc.records, kc.combination]), axis=1)
            messages = np.asarray(kc.messages, dtype=object)
            digests = _digests64(self._blocking_key, kc.messages)
            out[bk.name] = BlockingPlaintext(records=pairs[0], values=messages[pairs[1]],
                                             digests=digests[pairs[1]])
        return out


@dataclass
class _Prepared:
    record_ids: list[str]
    keep: np.ndarray  # batch row of each encoded record
    fields: dict[str, _FieldCells]
    counts: np.ndarray  # variants per record
    rejects: list[Reject]


@dataclass
class _KeyCombinations:
    records: np.ndarray  # record of each (variant row, combination) pair
    combination: np.ndarray  # index into messages
    messages: list[str]  # distinct combinations as the hashed message strings


@dataclass(frozen=True)
class BlockingPlaintext:
    """One blocking key's distinct plaintext values per record: ``values[i]`` belongs to
    record ``records[i]`` (sorted by record) and is encoded as ``digests[i]``."""

    records: np.ndarray
    values: np.ndarray
    digests: np.ndarray


def _digests64(key: bytes, messages: list[str]) -> np.ndarray:
    """First 8 bytes (little-endian uint64) of HMAC-SHA256(key, message) for each message."""
    digests = hmac_sha256_many(key, [m.encode("utf-8") for m in messages])
    first8 = np.frombuffer(digests, dtype=np.uint8).reshape(len(messages), 32)[:, :8]
    return np.ascontiguousarray(first8).view("<u8").reshape(-1).astype(np.uint64)


def _combination_messages(name: str, combined: np.ndarray, texts: list[np.ndarray]) -> list[str]:
    """The hashed message of each mixed-radix combination of part codes."""
    parts: list[np.ndarray] = []
    rest = combined
    for t in reversed(texts):
        rest, code = np.divmod(rest, len(t))
        parts.append(t[code])
    columns = [p.tolist() for p in reversed(parts)]
    return ["\x1f".join((name, *values)) for values in zip(*columns, strict=True)]


_MIN_CAPPED = 10  # a value is only left out when at least this many records hold it


def _too_common(records: np.ndarray, combination: np.ndarray, n_values: int,
                limit: float) -> np.ndarray:
    """Per (record, combination) pair: does its value belong to more than ``limit`` (and at
    least ``_MIN_CAPPED``) distinct records?"""
    pairs = unique_sorted(records * n_values + combination)
    holders = np.bincount(pairs % n_values, minlength=n_values)
    common = (holders > limit) & (holders >= _MIN_CAPPED)
    return common[combination]


def _per_record_sorted(records: np.ndarray, combination: np.ndarray, digests: np.ndarray,
                       n: int) -> UInt64Lists:
    """Each record's distinct digests in ascending order (``digests[combination[i]]`` belongs
    to ``records[i]``), by one integer sort of (record, rank of the digest)."""
    values, rank = np.unique(digests, return_inverse=True)  # equal digests share a rank
    m = max(len(values), 1)
    keys = unique_sorted(records.astype(np.int64) * m + rank.reshape(-1)[combination])
    return UInt64Lists(values[keys % m].astype(np.uint64),
                       np.searchsorted(keys // m, np.arange(n + 1)))


def _select(cells: _FieldCells, keep: np.ndarray) -> _FieldCells:
    return replace(
        cells,
        tokens=None,
        gathered=None,  # variant rows change with the selection
        columns=[c[keep] for c in cells.columns],
        aliases=None if cells.aliases is None else [cells.aliases[i] for i in keep.tolist()],
    )


def ref_digests(refs: Iterable[str]) -> np.ndarray:
    """64-bit digests of references, for a bounded-memory duplicate check over a whole run."""
    joined = b"".join([hashlib.sha256(r.encode()).digest()[:8] for r in refs])
    return np.frombuffer(joined, dtype="<u8").astype(np.uint64)
