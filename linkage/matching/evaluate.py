"""Evaluation against ground truth: precision, recall, F1, pair completeness, reduction ratio.

Everything is counted in record pairs between *different* parties, keyed by (party, ref):

* true pairs: records of different parties with the same ``entity_id`` in the truth;
* predicted pairs: records of different parties in the same group (a group of k records
  from k parties predicts k (k - 1) / 2 pairs);
* candidate pairs: the pairs that blocking let through.

precision = |predicted & true| / |predicted|, recall = |predicted & true| / |true|,
F1 their harmonic mean; pair completeness = |candidates & true| / |true|, reduction ratio
= 1 - |candidates| / (all cross-party pairs). Pairs inside one party (duplicates within an
agency) are not counted: cross-party linkage does not look for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from linkage.errors import MatchingError
from linkage.format import EncodedData
from linkage.matching._util import unique_sorted
from linkage.matching.results import LinkResult, matches_table

__all__ = [
    "BlockingQuality",
    "Evaluation",
    "PairMetrics",
    "PairTable",
    "blocking_quality",
    "evaluate_link",
    "evaluate_matches",
    "group_pairs",
    "load_truth",
    "pair_metrics",
    "read_table",
    "truth_pairs",
]

TRUTH_COLUMNS = ("party", "ref", "entity_id")


@dataclass(frozen=True)
class PairTable:
    """Distinct cross-party record pairs, each ordered so that party_a < party_b."""

    party_a: np.ndarray
    ref_a: np.ndarray
    party_b: np.ndarray
    ref_b: np.ndarray

    def __len__(self) -> int:
        return len(self.party_a)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> PairTable:
        swap = (df["party_a"] > df["party_b"]).to_numpy()
        pa = np.where(swap, df["party_b"], df["party_a"]).astype(str)
        ra = np.where(swap, df["ref_b"], df["ref_a"]).astype(str)
        pb = np.where(swap, df["party_a"], df["party_b"]).astype(str)
        rb = np.where(swap, df["ref_a"], df["ref_b"]).astype(str)
        cross = pa != pb
        out = pd.DataFrame({"pa": pa[cross], "ra": ra[cross], "pb": pb[cross], "rb": rb[cross]})
        out = out.drop_duplicates(ignore_index=True)
        return cls(out["pa"].to_numpy(), out["ra"].to_numpy(), out["pb"].to_numpy(),
                   out["rb"].to_numpy())


@dataclass(frozen=True)
class PairMetrics:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class BlockingQuality:
    candidate_pairs: int
    total_pairs: int
    true_pairs: int
    true_pairs_found: int

    @property
    def pair_completeness(self) -> float:
        return self.true_pairs_found / self.true_pairs if self.true_pairs else 1.0

    @property
    def reduction_ratio(self) -> float:
        return 1.0 - self.candidate_pairs / self.total_pairs if self.total_pairs else 0.0


@dataclass(frozen=True)
class Evaluation:
    """Quality of a run: matches alone, matches plus possible matches, and blocking."""

    matches: PairMetrics
    matches_and_possible: PairMetrics
    blocking: BlockingQuality | None


# --- building pair tables -------------------------------------------------------------------


def _pairs_within(df: pd.DataFrame, group: str) -> PairTable:
    """Cross-party pairs of rows (columns party, ref) that share ``group``."""
    left = df[[group, "party", "ref"]]
    both = left.merge(left, on=group, suffixes=("_a", "_b"))
    both = both[both["party_a"] < both["party_b"]]
    return PairTable.from_frame(both)


def truth_pairs(truth: pd.DataFrame) -> PairTable:
    """True cross-party pairs from a truth table with columns party, ref, entity_id."""
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise MatchingError(f"truth table lacks columns {missing}")
    return _pairs_within(truth.astype({"party": str, "ref": str}), "entity_id")


def group_pairs(matches: pd.DataFrame, decisions: Iterable[str] = ("match",)) -> PairTable:
    """Predicted pairs from a matches table (match_id, decision, party, ref, ...)."""
    chosen = matches[matches["decision"].isin(list(decisions))]
    return _pairs_within(chosen.astype({"party": str, "ref": str}), "match_id")


# --- metrics ------------------------------------------------------------------------------


def _codes(tables: list[PairTable]) -> list[np.ndarray]:
    """Each table's pairs as int64 codes over one shared numbering of (party, ref) keys."""
    parties = np.concatenate([x for t in tables for x in (t.party_a, t.party_b)])
    refs = np.concatenate([x for t in tables for x in (t.ref_a, t.ref_b)])
    party_id, party_names = pd.factorize(parties)
    ref_id, _ = pd.factorize(refs)
    key = ref_id.astype(np.int64) * max(len(party_names), 1) + party_id
    n = np.int64(int(key.max()) + 1 if len(key) else 1)
    out, pos = [], 0
    for t in tables:
        m = len(t)
        a, b = key[pos : pos + m], key[pos + m : pos + 2 * m]
        out.append(unique_sorted(a * n + b))
        pos += 2 * m
    return out


def pair_metrics(predicted: PairTable, truth: PairTable) -> PairMetrics:
    pred, true = _codes([predicted, truth])
    tp = len(np.intersect1d(pred, true, assume_unique=True))
    return PairMetrics(tp, len(pred) - tp, len(true) - tp)


def _entities(truth: pd.DataFrame, result: LinkResult,
              parties: Mapping[str, EncodedData]) -> list[np.ndarray]:
    """Per party of the run, the entity number of each record (-1: not in the truth)."""
    entity_id, _ = pd.factorize(truth["entity_id"])
    out = []
    for name in result.parties:
        sel = (truth["party"] == name).to_numpy()
        lookup = pd.Series(entity_id[sel], index=truth["ref"].to_numpy()[sel])
        lookup = lookup[~lookup.index.duplicated()]
        refs = pd.Index(parties[name].refs.astype(str))
        out.append(lookup.reindex(refs).fillna(-1).to_numpy(np.int64))
    return out


def _true_pair_count(entities: list[np.ndarray]) -> int:
    """Cross-party pairs of records with the same entity: sum over entities of
    (n^2 - sum over parties of n_p^2) / 2."""
    per_party = [np.bincount(e[e >= 0]) for e in entities]
    size = max((len(c) for c in per_party), default=0)
    counts = np.zeros((len(per_party), size), dtype=np.int64)
    for k, c in enumerate(per_party):
        counts[k, : len(c)] = c
    total = counts.sum(axis=0)
    return int(((total**2).sum() - (counts**2).sum()) // 2)


def blocking_quality(result: LinkResult, parties: Mapping[str, EncodedData],
                     truth: pd.DataFrame) -> BlockingQuality:
    """Pair completeness and reduction ratio of a run made with ``keep_candidates=True``.

    Only records present in ``parties`` count (a record the encoder rejected cannot be found).
    """
    c = result.candidates
    if c is None:
        raise MatchingError("the run did not keep its candidate pairs (keep_candidates=True)")
    entities = _entities(truth, result, parties)
    ea = np.full(len(c), -1, dtype=np.int64)
    eb = np.full(len(c), -1, dtype=np.int64)
    for k, e in enumerate(entities):
        ea[c.party_a == k] = e[c.index_a[c.party_a == k]]
        eb[c.party_b == k] = e[c.index_b[c.party_b == k]]
    found = int(np.count_nonzero((ea == eb) & (ea >= 0)))
    return BlockingQuality(len(c), result.blocking_stats.total_pairs,
                           _true_pair_count(entities), found)


def evaluate_matches(matches: pd.DataFrame, truth: pd.DataFrame, *,
                     parties: Iterable[str] | None = None,
                     blocking: BlockingQuality | None = None) -> Evaluation:
    """Evaluate a matches table (match_id, decision, party, ref) against the truth of
    ``parties`` (default: the parties that appear in the matches)."""
    matches = matches.astype({"party": str, "ref": str})
    truth = truth.astype({"party": str, "ref": str})
    linked = list(parties) if parties is not None else matches["party"].unique()
    true = truth_pairs(truth[truth["party"].isin(linked)])
    return Evaluation(
        matches=pair_metrics(group_pairs(matches, ("match",)), true),
        matches_and_possible=pair_metrics(group_pairs(matches, ("match", "possible")), true),
        blocking=blocking,
    )


def evaluate_link(result: LinkResult, parties: Mapping[str, EncodedData],
                  truth: pd.DataFrame) -> Evaluation:
    """Evaluate a run against a truth table (party, ref, entity_id) restricted to the records
    of ``parties``; blocking quality needs ``link(..., keep_candidates=True)``."""
    truth = truth.astype({"party": str, "ref": str})
    known = pd.concat(
        [truth[(truth["party"] == n) & truth["ref"].isin(parties[n].refs.astype(str))]
         for n in result.parties], ignore_index=True)
    blocking = None if result.candidates is None else blocking_quality(result, parties, known)
    return evaluate_matches(matches_table(result, parties), known, parties=result.parties,
                            blocking=blocking)


# --- truth files ----------------------------------------------------------------------------


def read_table(path: str | Path) -> pd.DataFrame:
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        return pd.read_parquet(p)
    return pd.read_csv(p, dtype=str, keep_default_na=False)


def load_truth(path: str | Path, mapping: str | Path | None = None) -> pd.DataFrame:
    """Read a truth file as columns party, ref, entity_id.

    The file has columns (party or agency), (ref or record_id), entity_id. Record ids are
    taken as refs unless ``mapping`` (columns party or agency, record_id, ref) says which
    ref each record id was encoded under (schemas with pseudonymous references).
    """
    df = read_table(path).rename(columns={"agency": "party"})
    if "ref" not in df.columns and "record_id" in df.columns:
        if mapping is not None:
            m = read_table(mapping).rename(columns={"agency": "party"})
            need = {"party", "record_id", "ref"}
            if not need <= set(m.columns):
                raise MatchingError(f"{mapping}: mapping file needs columns {sorted(need)}")
            df = df.merge(m[["party", "record_id", "ref"]].astype(str),
                          on=["party", "record_id"], how="inner")
        else:
            df = df.rename(columns={"record_id": "ref"})
    missing = [c for c in TRUTH_COLUMNS if c not in df.columns]
    if missing:
        raise MatchingError(f"{path}: truth file lacks columns {missing} "
                            "(expected party/agency, ref/record_id, entity_id)")
    return df[list(TRUTH_COLUMNS)].astype(str)
