"""Generating a data set: population, memberships, then each agency's records chunk by chunk.

The records of agency ``a`` are cut into chunks of ``RECORD_CHUNK`` in record order; chunk
``c`` is rendered from its own random stream (seed, RECORDS, a, c). Chunks are therefore
independent: ``iter_chunks`` can render them in worker processes, and streaming them to files
gives exactly the data ``generate`` returns in memory.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic_data.config import GeneratorConfig
from synthetic_data.membership import Membership, assign_membership
from synthetic_data.population import People, build_people
from synthetic_data.records import RECORD_COLUMNS, render_records
from synthetic_data.reference import clean_frame
from synthetic_data.seeds import RECORD_CHUNK, Stream, stream

__all__ = [
    "TRUTH_COLUMNS",
    "Chunk",
    "GeneratedData",
    "Plan",
    "entity_id",
    "generate",
    "iter_chunks",
    "plan_dataset",
]

TRUTH_COLUMNS = ("agency", "record_id", "entity_id")


def entity_id(index: int) -> str:
    return f"E{index:08d}"


@dataclass(frozen=True)
class Chunk:
    """A slice of one agency's records, with its truth rows and corruption log."""

    agency: str
    index: int
    records: pd.DataFrame  # RECORD_COLUMNS
    truth: pd.DataFrame  # TRUTH_COLUMNS
    corruptions: pd.DataFrame  # agency, record_id, corruptions


@dataclass(frozen=True)
class GeneratedData:
    """A whole data set in memory (see ``generate``)."""

    agencies: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    corruptions: pd.DataFrame
    people: pd.DataFrame  # entity_id, clean person columns, culture, native names


@dataclass(frozen=True)
class Plan:
    """What a data set will hold, before any record is written."""

    config: GeneratorConfig
    seed: int
    people: People
    membership: Membership

    def chunk_count(self, agency_index: int) -> int:
        return -(-len(self.membership.records[agency_index]) // RECORD_CHUNK)

    def total_records(self) -> int:
        return sum(self.membership.sizes())

    def render(self, agency_index: int, chunk_index: int) -> Chunk:
        agency = self.config.agencies[agency_index]
        entities = self.membership.records[agency_index]
        start = chunk_index * RECORD_CHUNK
        idx = entities[start:start + RECORD_CHUNK]
        ids = [f"{agency.record_prefix}-{n:07d}"
               for n in range(start + 1, start + len(idx) + 1)]
        rates = self.config.corruption.scaled(agency.error_scale)
        rng = stream(self.seed, Stream.RECORDS, agency_index, chunk_index)
        batch = render_records(self.people.take(idx), agency, rates, ids, rng)
        records = pd.DataFrame(batch.columns, columns=list(RECORD_COLUMNS))
        truth = pd.DataFrame({"agency": agency.name, "record_id": ids,
                              "entity_id": [entity_id(int(e)) for e in idx]})
        log = pd.DataFrame({"agency": agency.name, "record_id": ids,
                            "corruptions": batch.log})
        return Chunk(agency.name, chunk_index, records, truth, log)


def plan_dataset(config: GeneratorConfig, seed: int) -> Plan:
    people = build_people(config.people, seed, config.cultures, config.alias_counts,
                          config.migrant_nationality)
    return Plan(config, seed, people, assign_membership(config, seed))


_WORKER_PLAN: Plan | None = None


def _render_task(task: tuple[int, int]) -> Chunk:
    assert _WORKER_PLAN is not None  # set before the pool forks
    return _WORKER_PLAN.render(*task)


def iter_chunks(plan: Plan, workers: int = 1) -> Iterator[Chunk]:
    """Every chunk of every agency, agency by agency, in record order.

    With ``workers`` > 1 chunks are rendered in forked processes (where the platform can
    fork); the output is identical whatever the number of workers.
    """
    tasks = [(a, c) for a in range(len(plan.config.agencies)) for c in range(plan.chunk_count(a))]
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if workers <= 1 or len(tasks) < 2 or not can_fork:
        for task in tasks:
            yield plan.render(*task)
        return
    global _WORKER_PLAN
    _WORKER_PLAN = plan
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(workers, os.cpu_count() or 1, len(tasks))) as pool:
            yield from pool.imap(_render_task, tasks, chunksize=1)
    finally:
        _WORKER_PLAN = None


def generate(config: GeneratorConfig | None = None, seed: int = 0, *,
             workers: int = 1) -> GeneratedData:
    """Generate a data set in memory: per-agency DataFrames, the truth and the clean people.

    ``agencies`` maps each agency name to its records (``RECORD_COLUMNS``, all strings, "" for
    absent values); ``truth`` has one row per record (agency, record_id, entity_id);
    ``corruptions`` lists what was done to each record; ``people`` is each entity's clean
    record. The same config and seed give the same data on any machine.
    """
    config = config or GeneratorConfig()
    plan = plan_dataset(config, seed)
    frames: dict[str, list[pd.DataFrame]] = {a.name: [] for a in config.agencies}
    truth, logs = [], []
    for chunk in iter_chunks(plan, workers):
        frames[chunk.agency].append(chunk.records)
        truth.append(chunk.truth)
        logs.append(chunk.corruptions)
    agencies = {
        name: (pd.concat(parts, ignore_index=True) if parts else
               pd.DataFrame({c: pd.Series(dtype=str) for c in RECORD_COLUMNS}))
        for name, parts in frames.items()
    }
    people = clean_frame(plan.people, native=True)
    people.insert(0, "entity_id", [entity_id(i) for i in np.arange(len(plan.people))])
    return GeneratedData(
        agencies=agencies,
        truth=_concat(truth, TRUTH_COLUMNS),
        corruptions=_concat(logs, ("agency", "record_id", "corruptions")),
        people=people,
    )


def _concat(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    return pd.concat(parts, ignore_index=True)
