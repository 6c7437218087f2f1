"""Named result types of a linkage run, and the flat matches table written by the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from linkage.format import EncodedData
from linkage.matching.blocking import BlockingStats
from linkage.matching.threshold import ScoreHistogram, ThresholdSuggestion

__all__ = [
    "MATCH_COLUMNS",
    "CandidateTable",
    "GroupMember",
    "LinkProgress",
    "LinkResult",
    "MatchGroup",
    "matches_table",
]

MATCH_COLUMNS = ["match_id", "decision", "party", "ref", "score", "cluster_size"]


@dataclass(frozen=True)
class LinkProgress:
    """Progress of one stage ("blocking", "scoring", "solving"): ``done`` of ``total`` units."""

    stage: str
    done: int
    total: int
    comparisons: int


@dataclass(frozen=True, slots=True)
class GroupMember:
    """A record of a group: its party and its index in that party's ``EncodedData``."""

    party: str
    record_index: int


@dataclass(frozen=True, slots=True)
class MatchGroup:
    """Records judged to be one person. ``members`` are sorted by (party, ref)."""

    match_id: str
    decision: Literal["match", "possible"]
    members: tuple[GroupMember, ...]
    score: float


@dataclass(frozen=True)
class CandidateTable:
    """All scored candidate pairs (kept only on request, for evaluation).

    ``party_a``/``party_b`` index ``LinkResult.parties``; ``index_a``/``index_b`` are record
    indices in those parties' ``EncodedData``; ``score`` is the best-variant score.
    """

    party_a: np.ndarray
    index_a: np.ndarray
    party_b: np.ndarray
    index_b: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.score)


@dataclass
class LinkResult:
    """Everything a linkage run produced; ``durations`` are seconds per stage."""

    groups: list[MatchGroup]
    candidate_pairs: int
    comparisons: int
    blocking_stats: BlockingStats
    score_histogram: ScoreHistogram
    threshold_suggestion: ThresholdSuggestion | None
    durations: dict[str, float]
    parties: tuple[str, ...] = ()
    candidates: CandidateTable | None = None

    def decisions(self) -> dict[str, int]:
        out = {"match": 0, "possible": 0}
        for g in self.groups:
            out[g.decision] += 1
        return out


def matches_table(result: LinkResult, parties: Mapping[str, EncodedData]) -> pd.DataFrame:
    """One row per group member: match_id, decision, party, ref, score, cluster_size."""
    rows = [
        (g.match_id, g.decision, m.party, parties[m.party].refs[m.record_index], g.score,
         len(g.members))
        for g in result.groups
        for m in g.members
    ]
    df = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    return df.astype({"match_id": str, "decision": str, "party": str, "ref": str,
                      "score": np.float64, "cluster_size": np.int64})
