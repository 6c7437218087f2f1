"""The streaming encode pipeline: CSV or Parquet in, encoded file out (plaintext zone).

Input is read in chunks (pandas for CSV, pyarrow for Parquet), chunks are encoded by a pool
of worker processes (both cores) with a bounded number in flight, and written in input order
by an atomic writer, so memory stays bounded whatever the input size and an interrupted run
leaves no file that looks complete.
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from linkage.bloom.encoder import (
    BatchEncoder,
    DateOrder,
    OnError,
    Reject,
    ref_digests,
)
from linkage.errors import InputRecordError, SchemaError
from linkage.format import (
    EncodedData,
    EncodedFileWriter,
    FileMetadata,
    concat_encoded,
    data_to_table,
)
from linkage.keys import SecretKey
from linkage.schema import LinkageSchema

__all__ = [
    "EncodeReport",
    "check_columns",
    "encode_dataframe",
    "encode_file",
    "input_columns",
    "input_row_count",
]

DEFAULT_CHUNK = 50_000  # larger chunks share more distinct values; ~0.5 GB per worker


@dataclass
class EncodeReport:
    """What an encode run did: counts, time and where things went. No values."""

    output: Path
    metadata: FileMetadata
    records_read: int
    records_encoded: int
    rejects: list[Reject] = field(default_factory=list)
    seconds: float = 0.0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def records_per_second(self) -> float:
        return self.records_read / self.seconds if self.seconds else 0.0


# --- input -------------------------------------------------------------------------------


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in {".parquet", ".pq"}


def input_columns(path: str | Path) -> list[str]:
    p = Path(path)
    if _is_parquet(p):
        return list(pq.read_schema(p).names)
    with open(p, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        return next(csv.reader(fh), [])


def input_row_count(path: str | Path) -> int | None:
    """Rows in a Parquet file (from its footer); None for CSV (unknown without a full read)."""
    p = Path(path)
    return pq.ParquetFile(p).metadata.num_rows if _is_parquet(p) else None


def check_columns(available: list[str], schema: LinkageSchema, *, strict: bool = False) -> list[str]:
    """Refuse input that lacks a column the schema reads; return the ignored columns.

    The error lists the missing columns and the input's unmapped ones, so that a renamed
    column is easy to spot. With ``strict`` unmapped columns are an error too.
    """
    needed = schema.input_columns()
    missing = [c for c in needed if c not in available]
    unknown = [c for c in available if c not in needed]
    if missing or (strict and unknown):
        raise SchemaError(
            f"input columns do not match schema {schema.name!r}: "
            f"missing {missing or 'none'}; unknown {unknown or 'none'}"
        )
    return unknown


def _read_chunks(path: Path, columns: list[str], chunk: int) -> Iterator[pd.DataFrame]:
    if _is_parquet(path):
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=chunk, columns=columns):
            yield batch.to_pandas()
        return
    yield from pd.read_csv(
        path,
        usecols=columns,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        chunksize=chunk,
        encoding="utf-8",
        encoding_errors="surrogateescape",
    )


# --- workers -----------------------------------------------------------------------------

_worker_encoder: BatchEncoder | None = None


def _init_worker(schema_json: str, key: SecretKey, date_order: DateOrder | None) -> None:
    global _worker_encoder
    _worker_encoder = BatchEncoder(LinkageSchema.model_validate_json(schema_json), key,
                                   date_order=date_order)


def _encode_in_worker(frame: pd.DataFrame, first_row: int, on_error: OnError) -> _TableBatch:
    assert _worker_encoder is not None
    return _as_table_batch(_worker_encoder, frame, first_row, on_error)


@dataclass
class _TableBatch:
    """An encoded chunk as it crosses the process boundary: the records already as the
    output's Arrow table (a few buffers to pickle, and no conversion left for the main
    process), plus what the main process needs besides writing."""

    table: pa.Table
    rows: np.ndarray
    rejects: list[Reject]
    record_ids: list[str]
    refs: list[str]
    ref_digests: np.ndarray


def _as_table_batch(encoder: BatchEncoder, frame: pd.DataFrame, first_row: int,
                    on_error: OnError) -> _TableBatch:
    batch = encoder.encode(frame, first_row=first_row, on_error=on_error)
    refs = batch.data.refs.tolist()
    return _TableBatch(data_to_table(encoder.metadata, batch.data), batch.rows, batch.rejects,
                       batch.record_ids, refs, ref_digests(refs))


class _InlinePool:
    """Same interface as the process pool, for one worker (no process start-up cost)."""

    def __init__(self, encoder: BatchEncoder) -> None:
        self.encoder = encoder

    def submit(self, fn, frame: pd.DataFrame, first_row: int, on_error: OnError) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(_as_table_batch(self.encoder, frame, first_row, on_error))
        except BaseException as exc:  # delivered to the caller through the future
            fut.set_exception(exc)
        return fut

    def shutdown(self, cancel_futures: bool = False) -> None:
        return None


def _single_chunk(src: Path, first: pd.DataFrame, chunk_size: int) -> bool:
    """Whether ``first`` is the whole input: pandas' CSV reader returns full chunks until the
    last one; Parquet batches may stop short at row groups, so its footer's count decides."""
    if _is_parquet(src):
        return (input_row_count(src) or 0) <= chunk_size
    return len(first) < chunk_size


def _pool(schema: LinkageSchema, key: SecretKey, workers: int, date_order: DateOrder | None):
    if workers <= 1:
        return _InlinePool(BatchEncoder(schema, key, date_order=date_order))
    # forkserver: workers fork from a clean server that has imported the encoder once, so
    # they start fast without inheriting this process's threads (the progress bar's).
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["linkage.encode"])
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(schema.model_dump_json(), key, date_order),
    )


# --- pipeline ----------------------------------------------------------------------------


class _ReferenceMap:
    """record_id,ref CSV written beside the run and renamed into place only on success."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.part")
        self.fh = open(self.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.fh)
        self.writer.writerow(["record_id", "ref"])

    def write(self, record_ids: list[str], refs: list[str]) -> None:
        self.writer.writerows(zip(record_ids, refs, strict=True))

    def commit(self) -> None:
        self.fh.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.fh.close()
        if self.tmp.exists():
            self.tmp.unlink()


def _write_rejects(path: Path, rejects: list[Reject]) -> None:
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "field", "reason"])
        w.writerows((r.row, r.field, r.reason) for r in rejects)
    os.replace(tmp, path)


def _check_unique_refs(digests: list[np.ndarray], rows: list[np.ndarray]) -> None:
    if not digests:
        return
    d, r = np.concatenate(digests), np.concatenate(rows)
    order = np.argsort(d, kind="stable")
    dup = np.flatnonzero(d[order][1:] == d[order][:-1])
    if len(dup):
        raise InputRecordError(int(r[order][dup[0] + 1]), "record_id", "duplicate record id")


def encode_file(
    schema: LinkageSchema,
    key: SecretKey,
    input_path: str | Path,
    output_path: str | Path,
    *,
    on_error: OnError = "fail",
    rejects_path: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int | None = None,
    strict_columns: bool = False,
    reference_map: str | Path | None = None,
    date_order: DateOrder | None = None,
    progress: Callable[[int], None] | None = None,
) -> EncodeReport:
    """Encode an input file; ``progress`` is called with the number of rows done per chunk.

    ``reference_map`` (optional) is a local CSV of record_id -> ref, so that the agency can
    map the service's results back to its records; it never leaves the agency machine.
    """
    src, out = Path(input_path), Path(output_path)
    ignored = check_columns(input_columns(src), schema, strict=strict_columns)
    workers = workers or min(os.cpu_count() or 1, 8)
    encoder = BatchEncoder(schema, key, date_order=date_order)
    start = time.perf_counter()
    rejects: list[Reject] = []
    digests: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    read = 0
    chunks = iter(_read_chunks(src, schema.input_columns(), chunk_size))
    first = next(chunks, None)
    if first is None or _single_chunk(src, first, chunk_size):
        workers = 1  # starting worker processes would cost more than they save
    pool = _InlinePool(encoder) if workers <= 1 else _pool(schema, key, workers, date_order)
    ref_map = _ReferenceMap(Path(reference_map)) if reference_map else None
    try:
        with EncodedFileWriter(out, encoder.metadata) as writer:
            pending: deque[tuple[Future, int]] = deque()

            def drain_one() -> None:
                fut, n = pending.popleft()
                batch: _TableBatch = fut.result()
                writer.write_table(batch.table)
                rejects.extend(batch.rejects)
                digests.append(batch.ref_digests)
                rows.append(batch.rows)
                if ref_map is not None:
                    ref_map.write(batch.record_ids, batch.refs)
                if progress:
                    progress(n)

            for frame in chain([] if first is None else [first], chunks):
                pending.append((pool.submit(_encode_in_worker, frame, read + 1, on_error), len(frame)))
                read += len(frame)
                while len(pending) > 2 * workers:
                    drain_one()
            while pending:
                drain_one()
            _check_unique_refs(digests, rows)
            if ref_map is not None:
                ref_map.commit()
        metadata = writer.metadata
    finally:
        pool.shutdown(cancel_futures=True)
        if ref_map is not None:
            ref_map.discard()
    if rejects_path is not None:
        _write_rejects(Path(rejects_path), rejects)
    return EncodeReport(
        output=out,
        metadata=metadata,
        records_read=read,
        records_encoded=read - len(rejects),
        rejects=rejects,
        seconds=time.perf_counter() - start,
        ignored_columns=ignored,
    )


def encode_dataframe(
    frame: pd.DataFrame, schema: LinkageSchema, key: SecretKey, *, on_error: OnError = "fail"
) -> tuple[FileMetadata, EncodedData]:
    """Encode an in-memory DataFrame in one process (tests, benchmarks, notebooks)."""
    check_columns(list(frame.columns), schema)
    encoder = BatchEncoder(schema, key)
    parts = [
        encoder.encode(frame.iloc[i : i + DEFAULT_CHUNK], first_row=i + 1, on_error=on_error).data
        for i in range(0, max(len(frame), 1), DEFAULT_CHUNK)
    ]
    data = concat_encoded(parts)
    return replace(encoder.metadata, record_count=data.n_records), data
