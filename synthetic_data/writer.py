"""Streaming a data set to files: one file per agency, a truth file and a manifest.

Chunks are written as they are rendered, so memory holds the compact population and one
chunk of strings, never a whole agency. Files are written under a ``.part`` name and renamed
when complete, so a crashed run leaves no file that looks finished.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from synthetic_data.config import GeneratorConfig, config_to_dict
from synthetic_data.generate import TRUTH_COLUMNS, Chunk, iter_chunks, plan_dataset
from synthetic_data.records import RECORD_COLUMNS

__all__ = ["FORMATS", "DatasetSummary", "LoadedDataset", "read_dataset", "write_dataset"]

FORMATS = ("csv", "parquet")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DatasetSummary:
    out_dir: str
    format: str
    seed: int
    people: int
    records: dict[str, int]  # agency -> records written
    files: dict[str, str]  # agency (and "truth", "corruptions") -> file name
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


class _Sink:
    """One output table written chunk by chunk (CSV append or Parquet row groups)."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.fmt = fmt
        self._csv: IO[str] | None = None
        self._parquet: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "csv":
            first = self._csv is None
            if self._csv is None:
                self._csv = self.part.open("w", encoding="utf-8", newline="")
            frame.to_csv(self._csv, index=False, header=first, lineterminator="\n")
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, pa.string()) for c in frame.columns])
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.part, schema)
        self._parquet.write_table(pa.Table.from_pandas(frame, schema=schema,
                                                       preserve_index=False))

    def close(self, empty_columns: tuple[str, ...]) -> None:
        if self._csv is None and self._parquet is None:
            self.write(pd.DataFrame({c: pd.Series(dtype=str) for c in empty_columns}))
        if self._csv is not None:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()
        os.replace(self.part, self.path)


def write_dataset(config: GeneratorConfig, seed: int, out_dir: str | Path, *,
                  fmt: str = "csv", workers: int = 1, log_corruptions: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> DatasetSummary:
    """Generate and write a data set to ``out_dir``: ``<agency>.<fmt>`` per agency,
    ``truth.<fmt>`` (agency, record_id, entity_id), ``manifest.json`` (seed, config, counts)
    and, with ``log_corruptions``, ``corruptions.<fmt>``.

    ``progress(done, total)`` is called after each chunk with record counts.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_dataset(config, seed)
    total = plan.total_records()
    files = {a.name: f"{a.name}.{fmt}" for a in config.agencies}
    files["truth"] = f"truth.{fmt}"
    if log_corruptions:
        files["corruptions"] = f"corruptions.{fmt}"
    sinks = {key: _Sink(out / name, fmt) for key, name in files.items()}
    counts = dict.fromkeys((a.name for a in config.agencies), 0)
    done = 0
    chunk: Chunk
    for chunk in iter_chunks(plan, workers):
        sinks[chunk.agency].write(chunk.records)
        sinks["truth"].write(chunk.truth)
        if log_corruptions:
            sinks["corruptions"].write(chunk.corruptions)
        counts[chunk.agency] += len(chunk.records)
        done += len(chunk.records)
        if progress is not None:
            progress(done, total)
    for key, sink in sinks.items():
        columns = {"truth": TRUTH_COLUMNS, "corruptions": ("agency", "record_id",
                                                          "corruptions")}.get(key, RECORD_COLUMNS)
        sink.close(columns)
    summary = DatasetSummary(str(out), fmt, seed, config.people, counts, files,
                             round(time.perf_counter() - started, 3))
    _write_manifest(out, config, summary)
    return summary


def _write_manifest(out: Path, config: GeneratorConfig, summary: DatasetSummary) -> None:
    manifest = {
        "generator": "synthetic_data",
        "manifest_format": 1,
        "seed": summary.seed,
        "format": summary.format,
        "people": summary.people,
        "records": summary.records,
        "files": summary.files,
        "config": config_to_dict(config),
    }
    part = out / (MANIFEST + ".part")
    part.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(part, out / MANIFEST)


@dataclass(frozen=True)
class LoadedDataset:
    """A data set read back from ``write_dataset``'s directory."""

    agencies: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    manifest: dict[str, Any]


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_dataset(out_dir: str | Path) -> LoadedDataset:
    """Agencies (all strings, "" for absent values), truth and manifest of a written set."""
    out = Path(out_dir)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    files = manifest["files"]
    agencies = {a: _read_table(out / files[a]) for a in manifest["records"]}
    return LoadedDataset(agencies, _read_table(out / files["truth"]), manifest)
