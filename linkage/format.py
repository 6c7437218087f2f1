"""The encoded file format (version 1): Parquet (recommended) and NDJSON (interchange).

Neutral module: the encoder writes these files, the matcher and the service read them. It
holds only encodings and opaque references.

Bit layout. A filter of L bits is L/64 little-endian uint64 words; bit i lives in word
i // 64 at bit position i % 64 (least significant first). As bytes this is exactly
``numpy.packbits(bits, bitorder="little")``.

Parquet. One row per record with columns

* ``ref`` (string): the opaque record reference;
* ``n_variants`` (uint8): number of encodings kept for the record (>= 1);
* ``clk`` (binary): the record-level filters of all variants, concatenated
  (n_variants * L/8 bytes);
* ``f.<field>`` (binary, optional): field-level filters of all variants, concatenated;
* ``bk.<name>`` (list<uint64>, optional): encoded blocking keys of the record;

and the file-level metadata as JSON under the Parquet key-value metadata key ``pprl``.

NDJSON. The first line is ``{"pprl": <metadata>}``; each further line is one record:
``{"ref": str, "clk": [base64 per variant], "f": {field: [base64 per variant]},
"bk": {name: [uint64, ...]}}``.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Literal, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.errors import CompatibilityError, EncodedFileError

__all__ = [
    "FORMAT_VERSION",
    "MAX_REF_LENGTH",
    "EncodedData",
    "EncodedFileWriter",
    "FileMetadata",
    "UInt64Lists",
    "arrow_schema",
    "check_compatible",
    "concat_encoded",
    "data_to_table",
    "detect_format",
    "iter_parquet_batches",
    "read_encoded",
    "read_metadata",
    "same_columns",
    "table_to_data",
]

FORMAT_VERSION = 1
METADATA_KEY = b"pprl"
FileFormat = Literal["parquet", "ndjson"]
MAX_REF_LENGTH = 256


@dataclass(frozen=True)
class FileMetadata:
    """File-level metadata carried by every encoded file."""

    schema_fingerprint: str
    key_id: str
    filter_bits: int
    max_variants: int
    encoder_version: str
    field_bits: dict[str, int] = field(default_factory=dict)
    blocking_keys: tuple[str, ...] = ()
    record_count: int = 0
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        d = asdict(self)
        d["blocking_keys"] = list(self.blocking_keys)
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes, *, source: str = "file") -> FileMetadata:
        try:
            d = json.loads(raw)
            md = cls(
                schema_fingerprint=str(d["schema_fingerprint"]),
                key_id=str(d["key_id"]),
                filter_bits=int(d["filter_bits"]),
                max_variants=int(d["max_variants"]),
                encoder_version=str(d["encoder_version"]),
                field_bits={str(k): int(v) for k, v in d.get("field_bits", {}).items()},
                blocking_keys=tuple(str(x) for x in d.get("blocking_keys", [])),
                record_count=int(d["record_count"]),
                format_version=int(d["format_version"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EncodedFileError(f"{source}: invalid pprl metadata ({exc})") from None
        md.validate(source=source)
        return md

    def validate(self, *, source: str = "file") -> None:
        if self.format_version != FORMAT_VERSION:
            raise EncodedFileError(
                f"{source}: format version {self.format_version} is not supported "
                f"(this reader reads version {FORMAT_VERSION})"
            )
        for name, bits in {"filter": self.filter_bits, **self.field_bits}.items():
            if bits <= 0 or bits % 64:
                raise EncodedFileError(f"{source}: {name} filter length {bits} is not k*64")
        if len(self.schema_fingerprint) != 64:
            raise EncodedFileError(f"{source}: schema fingerprint is not a SHA-256 hex digest")
        if not self.key_id:
            raise EncodedFileError(f"{source}: key id is missing")
        if self.record_count < 0 or not 1 <= self.max_variants <= 255:
            raise EncodedFileError(f"{source}: invalid record count or variant bound")


class UInt64Lists(Sequence[np.ndarray]):
    """One uint64 array per record, stored flat: record i's values are
    ``values[offsets[i]:offsets[i + 1]]``. Behaves as a read-only list of arrays (indexing gives
    views), while readers, writers and the matcher can use the two flat arrays directly
    instead of a million small arrays."""

    __slots__ = ("offsets", "values")

    def __init__(self, values: np.ndarray, offsets: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.uint64)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        if (self.offsets.ndim != 1 or len(self.offsets) == 0 or self.offsets[0] != 0
                or self.offsets[-1] != len(self.values) or (np.diff(self.offsets) < 0).any()):
            raise ValueError("offsets must rise from 0 to len(values)")

    @classmethod
    def from_arrays(cls, arrays: Iterable[np.ndarray]) -> UInt64Lists:
        if isinstance(arrays, UInt64Lists):
            return arrays
        arrays = list(arrays)
        offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum([len(a) for a in arrays], out=offsets[1:])
        values = np.concatenate(arrays).astype(np.uint64, copy=False) if arrays else \
            np.zeros(0, np.uint64)
        return cls(values, offsets)

    @classmethod
    def concat(cls, parts: Sequence[Sequence[np.ndarray]]) -> UInt64Lists:
        flat = [cls.from_arrays(p) for p in parts]
        if not flat:
            return cls(np.zeros(0, np.uint64), np.zeros(1, np.int64))
        starts = np.cumsum([0] + [len(f.values) for f in flat[:-1]])
        offsets = np.concatenate([[0]] + [f.offsets[1:] + s for f, s in zip(flat, starts, strict=True)])
        return cls(np.concatenate([f.values for f in flat]), offsets)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def take(self, order: np.ndarray) -> UInt64Lists:
        """The lists of records ``order`` (any permutation or selection), vectorised."""
        order = np.asarray(order, dtype=np.int64)
        sizes = self.lengths[order]
        offsets = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        index = np.arange(int(offsets[-1]), dtype=np.int64) - np.repeat(
            offsets[:-1] - self.offsets[order], sizes)
        return UInt64Lists(self.values[index], offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, i: slice) -> UInt64Lists: ...
    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        n = len(self)
        i = int(i)
        if not -n <= i < n:
            raise IndexError("record index out of range")
        i %= n
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def __iter__(self) -> Iterator[np.ndarray]:
        values, offsets = self.values, self.offsets.tolist()
        return (values[a:b] for a, b in itertools.pairwise(offsets))

    def __repr__(self) -> str:
        return f"UInt64Lists({len(self)} records, {len(self.values)} values)"


@dataclass
class EncodedData:
    """Encodings in memory, variant-expanded: one filter row per (record, variant).

    ``record_of_row[r]`` is the index (into ``refs``) of the record owning filter row r;
    rows of one record are contiguous and in variant order.
    """

    refs: np.ndarray  # (n,) object array of str
    variant_counts: np.ndarray  # (n,) uint8, >= 1
    clk: np.ndarray  # (rows, L/64) uint64
    fields: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (rows, Lf/64)
    blocking: dict[str, Sequence[np.ndarray]] = field(default_factory=dict)  # name -> per record

    def __post_init__(self) -> None:
        self.refs = np.asarray(self.refs, dtype=object)
        self.variant_counts = np.asarray(self.variant_counts, dtype=np.uint8)

    @property
    def n_records(self) -> int:
        return len(self.refs)

    @property
    def record_of_row(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_records, dtype=np.int64), self.variant_counts)

    @property
    def row_offsets(self) -> np.ndarray:
        """offsets[i]:offsets[i+1] are the filter rows of record i."""
        out = np.zeros(self.n_records + 1, dtype=np.int64)
        np.cumsum(self.variant_counts, out=out[1:])
        return out


# --- writing -----------------------------------------------------------------------------


def arrow_schema(md: FileMetadata) -> pa.Schema:
    """The Parquet columns a file with this metadata has (the one definition of them)."""
    cols = [
        pa.field("ref", pa.string(), nullable=False),
        pa.field("n_variants", pa.uint8(), nullable=False),
        pa.field("clk", pa.binary(), nullable=False),
    ]
    cols += [pa.field(f"f.{name}", pa.binary(), nullable=False) for name in md.field_bits]
    cols += [pa.field(f"bk.{name}", pa.list_(pa.uint64()), nullable=False) for name in md.blocking_keys]
    return pa.schema(cols)


def _check_batch(md: FileMetadata, data: EncodedData) -> None:
    rows = int(data.variant_counts.sum())
    if data.clk.shape != (rows, md.filter_bits // 64) or data.clk.dtype != np.uint64:
        raise EncodedFileError("clk array does not match the filter length and variant counts")
    if set(data.fields) != set(md.field_bits):
        raise EncodedFileError("field filters do not match the metadata")
    for name, arr in data.fields.items():
        if arr.shape != (rows, md.field_bits[name] // 64):
            raise EncodedFileError(f"field filter {name!r} has the wrong shape")
    if set(data.blocking) != set(md.blocking_keys):
        raise EncodedFileError("blocking keys do not match the metadata")
    if (data.variant_counts < 1).any() or (data.variant_counts > md.max_variants).any():
        raise EncodedFileError("variant count out of range")


def _split_bytes(arr: np.ndarray, counts: np.ndarray) -> list[bytes]:
    """Per record, the concatenated bytes of its variant rows."""
    raw = np.ascontiguousarray(arr).astype("<u8", copy=False).tobytes()
    width = arr.shape[1] * 8
    out, pos = [], 0
    for c in counts.tolist():
        out.append(raw[pos : pos + c * width])
        pos += c * width
    return out


def _binary_rows(arr: np.ndarray, counts: np.ndarray) -> pa.Array:
    """One binary value per record: its variant rows' bytes, built from buffers (no copies
    per record)."""
    raw = np.ascontiguousarray(arr).astype("<u8", copy=False)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts.astype(np.int64) * (arr.shape[1] * 8), out=offsets[1:])
    large = pa.Array.from_buffers(pa.large_binary(), len(counts),
                                  [None, pa.py_buffer(offsets), pa.py_buffer(raw)])
    return large.cast(pa.binary())  # checked: a batch over 2 GiB raises instead of wrapping


def _uint64_lists(keys: Sequence[np.ndarray]) -> pa.Array:
    flat = UInt64Lists.from_arrays(keys)
    return pa.ListArray.from_arrays(pa.array(flat.offsets.astype(np.int32)),
                                    pa.array(flat.values, type=pa.uint64()))


def data_to_table(md: FileMetadata, data: EncodedData) -> pa.Table:
    """Records as the Arrow table a Parquet file of this metadata holds (checked first)."""
    _check_batch(md, data)
    arrays = [
        pa.array(data.refs.tolist(), type=pa.string()),
        pa.array(data.variant_counts, type=pa.uint8()),
        _binary_rows(data.clk, data.variant_counts),
    ]
    arrays += [_binary_rows(data.fields[n], data.variant_counts) for n in md.field_bits]
    arrays += [_uint64_lists(data.blocking[n]) for n in md.blocking_keys]
    return pa.Table.from_arrays(arrays, schema=arrow_schema(md))


def _b64(raw: bytes, width: int) -> list[str]:
    return [base64.b64encode(raw[i : i + width]).decode("ascii") for i in range(0, len(raw), width)]


class EncodedFileWriter:
    """Write an encoded file atomically: a temporary file in the target folder, renamed on
    success, removed on failure, so an interrupted run never leaves a file that looks whole.
    """

    def __init__(self, path: str | Path, metadata: FileMetadata, fmt: FileFormat | None = None):
        self.path = Path(path)
        self.metadata = metadata
        self.fmt: FileFormat = fmt or detect_format(self.path)
        self._count = 0
        self._tmp: str | None = None
        self._pq: pq.ParquetWriter | None = None
        self._fh: IO[str] | None = None

    def __enter__(self) -> EncodedFileWriter:
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part",
                                         dir=self.path.parent or ".")
        os.close(fd)
        if self.fmt == "parquet":
            self._pq = pq.ParquetWriter(self._tmp, arrow_schema(self.metadata), compression="zstd")
        else:
            self._fh = open(self._tmp, "w", encoding="utf-8", newline="\n")
            # The header's record count is unknown until the end; NDJSON readers take the
            # header's count as a check, so the header is rewritten on close.
            self._fh.write(json.dumps({"pprl": json.loads(self.metadata.to_json())}) + "\n")
        return self

    def write(self, data: EncodedData) -> None:
        _check_batch(self.metadata, data)
        if data.n_records == 0:
            return
        if self._pq is not None:
            self._pq.write_table(data_to_table(self.metadata, data))
        else:
            self._write_ndjson(data)
        self._count += data.n_records

    def write_table(self, table: pa.Table) -> None:
        """Write records already in Arrow form (``data_to_table``), e.g. built by a worker
        process; the columns are checked against the metadata."""
        if not same_columns(table.schema, arrow_schema(self.metadata)):
            raise EncodedFileError("table columns do not match the file's metadata")
        if table.num_rows == 0:
            return
        if self._pq is not None:
            self._pq.write_table(table.cast(arrow_schema(self.metadata)))
            self._count += table.num_rows
        else:
            self.write(table_to_data(self.metadata, table))

    def _write_ndjson(self, data: EncodedData) -> None:
        assert self._fh is not None
        md = self.metadata
        clk = _split_bytes(data.clk, data.variant_counts)
        fields = {n: _split_bytes(data.fields[n], data.variant_counts) for n in md.field_bits}
        for i, ref in enumerate(data.refs.tolist()):
            rec = {"ref": ref, "clk": _b64(clk[i], md.filter_bits // 8)}
            if fields:
                rec["f"] = {n: _b64(fields[n][i], md.field_bits[n] // 8) for n in fields}
            if md.blocking_keys:
                rec["bk"] = {n: data.blocking[n][i].tolist() for n in md.blocking_keys}
            self._fh.write(json.dumps(rec, separators=(",", ":")) + "\n")

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._tmp is not None
        final_md = replace(self.metadata, record_count=self._count)
        try:
            if self._pq is not None:
                if exc_type is None:
                    if self._count == 0:  # an empty file still needs its footer metadata
                        self._pq.write_table(arrow_schema(self.metadata).empty_table())
                    self._pq.add_key_value_metadata({METADATA_KEY: final_md.to_json().encode()})
                self._pq.close()
            if self._fh is not None:
                self._fh.close()
                if exc_type is None:
                    _rewrite_ndjson_header(self._tmp, final_md)
            if exc_type is None:
                os.replace(self._tmp, self.path)
                self.metadata = final_md
        finally:
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)

    @property
    def count(self) -> int:
        return self._count


def _rewrite_ndjson_header(tmp: str, md: FileMetadata) -> None:
    final = tmp + ".h"
    with open(tmp, encoding="utf-8") as src, open(final, "w", encoding="utf-8") as dst:
        src.readline()
        dst.write(json.dumps({"pprl": json.loads(md.to_json())}) + "\n")
        for line in src:
            dst.write(line)
    os.replace(final, tmp)


# --- reading -----------------------------------------------------------------------------


def detect_format(path: str | Path) -> FileFormat:
    name = str(path).lower()
    if name.endswith((".ndjson", ".jsonl", ".ndjson.gz")):
        return "ndjson"
    return "parquet"


def read_metadata(path: str | Path) -> FileMetadata:
    """Read and validate only the metadata of an encoded file."""
    src = str(path)
    if detect_format(path) == "ndjson":
        with open(path, encoding="utf-8") as fh:
            return _ndjson_header(fh.readline(), src)
    try:
        kv = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowInvalid) as exc:
        raise EncodedFileError(f"{src}: not a readable Parquet file ({exc})") from None
    if METADATA_KEY not in kv:
        raise EncodedFileError(f"{src}: no pprl metadata; not an encoded file")
    return FileMetadata.from_json(kv[METADATA_KEY], source=src)


def _ndjson_header(line: str, src: str) -> FileMetadata:
    try:
        head = json.loads(line)["pprl"]
    except (ValueError, KeyError, TypeError):
        raise EncodedFileError(f"{src}: first line is not a pprl metadata header") from None
    return FileMetadata.from_json(json.dumps(head), source=src)


def _rows_from_bytes(blobs: list[bytes], counts: np.ndarray, bits: int, src: str, col: str):
    width = bits // 8
    lengths = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
    if not np.array_equal(lengths, counts.astype(np.int64) * width):
        bad = int(np.flatnonzero(lengths != counts.astype(np.int64) * width)[0])
        raise EncodedFileError(f"{src}: record {bad}: column {col!r} has the wrong length")
    raw = b"".join(blobs)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(-1, bits // 64)


def _column_type(t: pa.DataType) -> object:
    """A column type for comparison: list types by their value type only, because writers
    name the inner field differently ("item", "element") for the same list<uint64>."""
    return ("list", t.value_type) if pa.types.is_list(t) else t


def same_columns(actual: pa.Schema, expected: pa.Schema) -> bool:
    """True when ``actual`` has exactly the columns of ``expected``, in order, by type."""
    return actual.names == expected.names and all(
        _column_type(a.type) == _column_type(e.type) for a, e in zip(actual, expected, strict=True)
    )


def _validate_records(refs: pa.Array | pa.ChunkedArray, counts: np.ndarray, md: FileMetadata,
                      src: str) -> None:
    """References present, 1..MAX_REF_LENGTH characters and distinct; variant counts in
    range. Columnar: no Python object per record."""
    lengths = pc.fill_null(pc.utf8_length(refs), 0).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero((lengths < 1) | (lengths > MAX_REF_LENGTH))
    if len(bad):
        raise EncodedFileError(f"{src}: record {int(bad[0])}: invalid record reference")
    if len(pc.unique(refs)) != len(refs):
        raise EncodedFileError(f"{src}: duplicate record references")
    if len(counts) and (counts.min() < 1 or counts.max() > md.max_variants):
        raise EncodedFileError(f"{src}: variant count outside 1..{md.max_variants}")


def read_encoded(path: str | Path) -> tuple[FileMetadata, EncodedData]:
    """Read a whole encoded file, validating metadata, lengths, references and count."""
    src = str(path)
    if detect_format(path) == "ndjson":
        md, data = _read_ndjson(path, src)
    else:
        md, data = _read_parquet(path, src)
    if data.n_records != md.record_count:
        raise EncodedFileError(
            f"{src}: holds {data.n_records} records but its metadata says {md.record_count} "
            "(truncated or altered file)"
        )
    return md, data


def _read_parquet(path: str | Path, src: str) -> tuple[FileMetadata, EncodedData]:
    md = read_metadata(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise EncodedFileError(f"{src}: cannot read Parquet data ({exc})") from None
    return md, table_to_data(md, table, src)


def table_to_data(md: FileMetadata, table: pa.Table, src: str = "table") -> EncodedData:
    """The records of an Arrow table with the columns of ``arrow_schema(md)``, validated as a
    file's are (``src`` names the table in errors)."""
    if not same_columns(table.schema, arrow_schema(md)):
        raise EncodedFileError(f"{src}: columns do not match format version {FORMAT_VERSION}")
    refs = table.column("ref")
    counts = table.column("n_variants").to_numpy().astype(np.uint8)
    _validate_records(refs, counts, md, src)
    refs = refs.to_numpy()
    clk = _rows_from_column(table.column("clk"), counts, md.filter_bits, src, "clk")
    fields = {
        n: _rows_from_column(table.column(f"f.{n}"), counts, b, src, f"f.{n}")
        for n, b in md.field_bits.items()
    }
    blocking = {n: _lists_from_column(table.column(f"bk.{n}"), src, n) for n in md.blocking_keys}
    return EncodedData(refs, counts, clk, fields, blocking)


def _rows_from_column(col: pa.ChunkedArray, counts: np.ndarray, bits: int, src: str,
                      name: str) -> np.ndarray:
    """Filter rows from a binary column, read from its Arrow buffers (as ``_rows_from_bytes``)."""
    if col.null_count:
        raise EncodedFileError(f"{src}: column {name!r} has missing values")
    arr = pa.concat_arrays(col.chunks).cast(pa.large_binary()) if col.num_chunks else \
        pa.array([], type=pa.large_binary())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    lengths = np.diff(offsets)
    expected = counts.astype(np.int64) * (bits // 8)
    if len(lengths) != len(expected) or not np.array_equal(lengths, expected):
        bad = int(np.flatnonzero(lengths != expected)[0]) if len(lengths) == len(expected) else 0
        raise EncodedFileError(f"{src}: record {bad}: column {name!r} has the wrong length")
    if not len(arr):
        return np.zeros((0, bits // 64), dtype=np.uint64)
    raw = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return raw.view("<u8").astype(np.uint64).reshape(-1, bits // 64)


def _lists_from_column(col: pa.ChunkedArray, src: str, name: str) -> UInt64Lists:
    if col.null_count or any(c.values.null_count for c in col.chunks):
        raise EncodedFileError(f"{src}: blocking key {name!r} has missing values")
    parts = []
    for chunk in col.chunks:
        offsets = chunk.offsets.to_numpy().astype(np.int64)
        values = chunk.values.to_numpy(zero_copy_only=False)[offsets[0] : offsets[-1]]
        parts.append(UInt64Lists(values.astype(np.uint64), offsets - offsets[0]))
    return UInt64Lists.concat(parts)


def _read_ndjson(path: str | Path, src: str) -> tuple[FileMetadata, EncodedData]:
    with open(path, encoding="utf-8") as fh:
        md = _ndjson_header(fh.readline(), src)
        refs, counts, clk_parts = [], [], []
        field_parts: dict[str, list[bytes]] = {n: [] for n in md.field_bits}
        blocking: dict[str, list[np.ndarray]] = {n: [] for n in md.blocking_keys}
        for i, line in enumerate(fh):
            rec = _parse_ndjson_record(line, i, src)
            refs.append(rec.get("ref"))
            variants = _b64_list(rec.get("clk"), i, "clk", src)
            counts.append(len(variants))
            clk_parts.append(b"".join(variants))
            for n in md.field_bits:
                field_parts[n].append(b"".join(_b64_list(rec.get("f", {}).get(n), i, n, src)))
            for n in md.blocking_keys:
                blocking[n].append(_uint64_list(rec.get("bk", {}).get(n), i, n, src))
    cnt = np.asarray(counts, dtype=np.int64)
    if len(cnt) and (cnt.max() > 255):
        raise EncodedFileError(f"{src}: too many variants")
    cnt8 = cnt.astype(np.uint8)
    for i, r in enumerate(refs):
        if not isinstance(r, str) or not _is_utf8(r):
            raise EncodedFileError(f"{src}: record {i}: invalid record reference")
    _validate_records(pa.array(refs, pa.string()), cnt8, md, src)
    clk = _rows_from_bytes(clk_parts, cnt8, md.filter_bits, src, "clk")
    fields = {n: _rows_from_bytes(p, cnt8, md.field_bits[n], src, n) for n, p in field_parts.items()}
    return md, EncodedData(refs, cnt8, clk, fields, blocking)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")  # JSON may carry lone surrogates, which no file can hold
    except UnicodeEncodeError:
        return False
    return True


def _parse_ndjson_record(line: str, i: int, src: str) -> dict:
    try:
        rec = json.loads(line)
    except ValueError:
        raise EncodedFileError(f"{src}: record {i}: not valid JSON") from None
    if not isinstance(rec, dict):
        raise EncodedFileError(f"{src}: record {i}: not a JSON object")
    return rec


def _b64_list(value, i: int, col: str, src: str) -> list[bytes]:
    if not isinstance(value, list) or not value:
        raise EncodedFileError(f"{src}: record {i}: {col!r} must be a non-empty list")
    try:
        return [base64.b64decode(v, validate=True) for v in value]
    except (ValueError, TypeError):
        raise EncodedFileError(f"{src}: record {i}: {col!r} is not valid base64") from None


def _uint64_list(value, i: int, col: str, src: str) -> np.ndarray:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and 0 <= v < 2**64 for v in value
    ):
        raise EncodedFileError(f"{src}: record {i}: blocking key {col!r} is not a uint64 list")
    return np.asarray(value, dtype=np.uint64)


def iter_parquet_batches(path: str | Path, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
    """Stream raw Parquet batches (used by the service to verify uploads without loading all)."""
    with contextlib.closing(pq.ParquetFile(path)) as pf:
        yield from pf.iter_batches(batch_size=batch_size)


# --- compatibility -----------------------------------------------------------------------


def check_compatible(named: dict[str, FileMetadata]) -> None:
    """Refuse encodings that cannot be compared, naming the files that disagree."""
    items = list(named.items())
    if not items:
        return
    first_name, first = items[0]
    for name, md in items[1:]:
        for attr, label in (
            ("schema_fingerprint", "schema fingerprint"),
            ("key_id", "key id"),
            ("filter_bits", "filter length"),
            ("field_bits", "field filter lengths"),
        ):
            a, b = getattr(first, attr), getattr(md, attr)
            if a != b:
                raise CompatibilityError(
                    f"{first_name} and {name} differ in {label} ({_short(a)} vs {_short(b)}); "
                    "they were encoded with a different schema or key and cannot be compared"
                )


def _short(v: object) -> str:
    s = str(v)
    return s[:12] if len(s) == 64 else s


def concat_encoded(parts: list[EncodedData]) -> EncodedData:
    """Concatenate batches of one file (same metadata)."""
    if not parts:
        raise EncodedFileError("nothing to concatenate")
    first = parts[0]
    return EncodedData(
        refs=np.concatenate([p.refs for p in parts]),
        variant_counts=np.concatenate([p.variant_counts for p in parts]),
        clk=np.concatenate([p.clk for p in parts]),
        fields={n: np.concatenate([p.fields[n] for p in parts]) for n in first.fields},
        blocking={n: UInt64Lists.concat([p.blocking[n] for p in parts]) for n in first.blocking},
    )
