"""Stored run results: blocks of consecutive rows per agency (``RunResultBlock``).

A run's results are one row per (agency record, group); an agency's rows are numbered by
``position`` (its record order, then the match id). They are stored ``BLOCK_ROWS`` rows to a
block, each block one uncompressed Arrow IPC stream, so that saving a large run writes a
few hundred database rows instead of hundreds of thousands (the bulk of the service's
overhead over the engine), and a results page reads the one or two blocks it covers.

Runs saved before blocks existed (no ``result_storage`` in their summary) keep their rows
in ``run_results`` and are read from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.db.models import Run, RunResult, RunResultBlock

__all__ = ["BLOCK_ROWS", "SCHEMA", "STORAGE", "ResultRecord", "encode_blocks", "encode_table",
           "insert_blocks", "read_rows"]

BLOCK_ROWS = 1000
STORAGE = "blocks"  # the run summary's ``result_storage`` for runs stored in blocks
SCHEMA = pa.schema([
    pa.field("record_ref", pa.string(), nullable=False),
    pa.field("match_id", pa.string(), nullable=False),
    pa.field("decision", pa.string(), nullable=False),
    pa.field("other_agencies", pa.string(), nullable=False),  # comma-separated
    pa.field("score", pa.float64(), nullable=False),
])


class ResultRecord(NamedTuple):
    """One stored result row (the attributes of a ``run_results`` row)."""

    position: int
    record_ref: str
    match_id: str
    decision: str
    other_agencies: str
    score: float


def encode_blocks(refs: Sequence[Any] | np.ndarray, match_ids: Sequence[Any] | np.ndarray,
                  decisions: Sequence[Any] | np.ndarray, others: Sequence[Any] | np.ndarray,
                  scores: Sequence[float] | np.ndarray) -> list[tuple[int, int, bytes]]:
    """One agency's rows in position order, as columns -> ``(block, rows, payload)``."""
    return encode_table(pa.table([pa.array(refs, pa.string()), pa.array(match_ids, pa.string()),
                                  pa.array(decisions, pa.string()),
                                  pa.array(others, pa.string()),
                                  pa.array(scores, pa.float64())], schema=SCHEMA))


def encode_table(table: pa.Table) -> list[tuple[int, int, bytes]]:
    """One agency's rows in position order (a ``SCHEMA`` table) -> ``(block, rows,
    payload)`` per block of ``BLOCK_ROWS`` rows."""
    if table.schema != SCHEMA:
        raise ValueError("result table does not have the results schema")
    table = table.combine_chunks()
    out = []
    for block, start in enumerate(range(0, table.num_rows, BLOCK_ROWS)):
        part = table.slice(start, BLOCK_ROWS)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, SCHEMA) as writer:
            writer.write_table(part)
        out.append((block, part.num_rows, sink.getvalue().to_pybytes()))
    return out


def insert_blocks(session: Session, run_id: str, agency: str,
                  blocks: list[tuple[int, int, bytes]]) -> None:
    if blocks:
        session.execute(insert(RunResultBlock.__table__), [
            {"run_id": run_id, "agency": agency, "block": b, "rows": n, "payload": p}
            for b, n, p in blocks])


def _decode(block: int, payload: bytes, start: int = 0, stop: int | None = None
            ) -> list[ResultRecord]:
    """The block's rows at positions ``start`` (inclusive) to ``stop`` (exclusive)."""
    first = block * BLOCK_ROWS
    lo = max(0, start - first)
    table = pa.ipc.open_stream(payload).read_all()
    hi = table.num_rows if stop is None else min(table.num_rows, stop - first)
    if hi <= lo:
        return []
    table = table.slice(lo, hi - lo)
    cols = [table.column(name).to_pylist() for name in SCHEMA.names]
    return [ResultRecord(first + lo + i, *values)
            for i, values in enumerate(zip(*cols, strict=True))]


def read_rows(session: Session, run: Run, agency: str, start: int, limit: int
              ) -> list[ResultRecord]:
    """Up to ``limit`` of ``agency``'s rows of ``run`` from position ``start`` on."""
    if limit <= 0:
        return []
    if (run.summary or {}).get("result_storage") != STORAGE:
        return [ResultRecord(*r) for r in session.execute(
            select(RunResult.position, RunResult.record_ref, RunResult.match_id,
                   RunResult.decision, RunResult.other_agencies, RunResult.score)
            .where(RunResult.run_id == run.id, RunResult.agency == agency,
                   RunResult.position >= start)
            .order_by(RunResult.position).limit(limit))]
    first, last = start // BLOCK_ROWS, (start + limit - 1) // BLOCK_ROWS
    rows: list[ResultRecord] = []
    for block, payload in session.execute(
            select(RunResultBlock.block, RunResultBlock.payload)
            .where(RunResultBlock.run_id == run.id, RunResultBlock.agency == agency,
                   RunResultBlock.block >= first, RunResultBlock.block <= last)
            .order_by(RunResultBlock.block)):
        rows.extend(_decode(block, payload, start, start + limit))
    return rows
