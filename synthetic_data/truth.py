"""Ground truth: which records are the same person.

The truth table has one row per record: ``agency``, ``record_id``, ``entity_id``. Records
with the same entity id are the same person (across agencies, and duplicates inside one).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd

__all__ = ["RecordRef", "read_truth", "true_clusters", "true_pairs"]


class RecordRef(NamedTuple):
    agency: str
    record_id: str


def read_truth(path: str | Path) -> pd.DataFrame:
    """A truth file written by the generator (CSV or Parquet), all columns as strings."""
    p = Path(path)
    if p.suffix == ".parquet":
        return pd.read_parquet(p).astype(str)
    return pd.read_csv(p, dtype=str, keep_default_na=False)


def true_clusters(truth: pd.DataFrame, *, include_singletons: bool = True,
                  ) -> dict[str, tuple[RecordRef, ...]]:
    """entity_id -> the entity's records, sorted; singletons (one record) on request."""
    clusters: dict[str, list[RecordRef]] = {}
    for agency, record_id, entity in zip(truth["agency"], truth["record_id"],
                                         truth["entity_id"], strict=True):
        clusters.setdefault(entity, []).append(RecordRef(agency, record_id))
    return {e: tuple(sorted(refs)) for e, refs in clusters.items()
            if include_singletons or len(refs) > 1}


def true_pairs(truth: pd.DataFrame, *, cross_agency_only: bool = False,
               ) -> set[tuple[RecordRef, RecordRef]]:
    """Every pair of records of the same entity, each pair ordered (smaller ref first).

    With ``cross_agency_only``, pairs inside one agency (duplicates) are left out.
    """
    pairs: set[tuple[RecordRef, RecordRef]] = set()
    for refs in true_clusters(truth, include_singletons=False).values():
        for i, a in enumerate(refs):
            for b in refs[i + 1:]:
                if not cross_agency_only or a.agency != b.agency:
                    pairs.add((a, b))
    return pairs
