"""Settings of the matching engine (pydantic, frozen, no unknown keys).

The defaults suit 1024-bit record-level filters of person records; docs/matching.md gives
the figures behind them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["BlockingConfig", "MatchConfig"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BlockingConfig(_Frozen):
    """How candidate pairs are found without plaintext.

    * ``lsh``: Hamming (bit-sampling) LSH on the record-level filters: ``lsh_bands`` bands of
      ``lsh_rows`` sampled bit positions each, drawn from ``seed``; two records are candidates
      when any of their variants agree on every sampled bit of any band.
    * ``keys``: encoded blocking keys written by the encoder (``EncodedData.blocking``);
      records sharing any value of the same named key are candidates.
    * ``lsh+keys``: the union of both.
    * ``none``: every cross-party pair (small data and evaluation only).

    A bucket (of either kind) with more than ``max_bucket`` records does not pair all its
    records, so that one very common key cannot explode the candidate set. With
    ``oversized="nearest"`` (default) each record of such a bucket is paired with its
    ``nearest_k`` most similar filter rows of the other parties in that bucket (Dice of the
    record-level filters, computed on the encodings): the true partner of a record is almost
    always among them, so a common key still finds it at a bounded cost. Buckets with more
    than ``nearest_limit`` records, and all oversized buckets with ``oversized="skip"``, are
    skipped; both are counted in the blocking statistics.
    """

    # lsh+keys by default: the encoded keys catch pairs whose filters differ too much for
    # bit sampling (XOR-folded 512-bit filters), LSH catches close pairs whose keys differ.
    # 32 rows (24 before): on the synthetic data LSH adds no true pair to the default keys
    # at 24 or 32 rows, while at 10^6 records per party 24 rows add 30 M candidate pairs,
    # 32 rows 0.7 M (docs/matching.md).
    method: Literal["lsh", "keys", "lsh+keys", "none"] = "lsh+keys"
    lsh_bands: int = Field(64, ge=1, le=4096)
    lsh_rows: int = Field(32, ge=1, le=64)
    seed: int = Field(0, ge=0)
    max_bucket: int = Field(20, ge=2)
    oversized: Literal["nearest", "skip"] = "nearest"
    nearest_k: int = Field(4, ge=1, le=1000)
    nearest_limit: int = Field(200_000, ge=2)
    keys: list[str] | None = Field(
        None, description="Named blocking keys to use; None = every key all parties carry."
    )


class MatchConfig(_Frozen):
    """Settings of one linkage run (see docs/matching.md)."""

    # Defaults measured on the synthetic demo data with the default (XOR-folded) schema:
    # 0.65 keeps precision >= 0.999; 0.55-0.65 is the review band (docs/matching.md).
    threshold: float = Field(0.65, gt=0.0, le=1.0, description="Score for a match.")
    possible_threshold: float | None = Field(
        0.55, gt=0.0, le=1.0, description="Score for a possible match (human review); None = none."
    )
    solver: Literal["greedy", "optimal", "many_to_many"] = "greedy"
    allow_duplicates: bool = Field(
        False, description="Clusters may hold several records of one party."
    )
    blocking: BlockingConfig = BlockingConfig()
    field_weights: dict[str, float] | None = Field(
        None, description="Score as the weighted mean of field-level similarities."
    )
    metric: Literal["dice", "jaccard"] = "dice"
    threads: int | None = Field(None, ge=1, le=256)

    @model_validator(mode="after")
    def _check(self) -> MatchConfig:
        if self.possible_threshold is not None and self.possible_threshold > self.threshold:
            raise ValueError("possible_threshold must not exceed threshold")
        if self.field_weights is not None:
            if not self.field_weights:
                raise ValueError("field_weights must name at least one field")
            if any(w < 0 for w in self.field_weights.values()):
                raise ValueError("field weights must be >= 0")
            if not any(w > 0 for w in self.field_weights.values()):
                raise ValueError("at least one field weight must be above 0")
        if self.solver == "optimal" and self.allow_duplicates:
            raise ValueError("the optimal solver is one-to-one; it cannot allow duplicates")
        return self

    @property
    def floor(self) -> float:
        """The lowest score that can still produce a group."""
        if self.possible_threshold is None:
            return self.threshold
        return self.possible_threshold
