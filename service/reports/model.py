"""What a data-protection officer's report holds, and the small-count rule applied to it.

Two layers keep personal data and small counts off every page:

* ``RunReport`` / ``ProjectReport`` hold aggregates only: counts, settings, durations, dates
  and audit entries. They have no field that could carry a record reference, a filter or
  a plaintext value, so a page rendered from them cannot show one.
* ``present_counts`` turns raw counts into ``ShownCount`` values, which are all templates
  and plots ever see. A count ``c`` with ``0 < c < k`` is shown as ``"< k"`` and plotted as
  a hatched bar of height ``k`` (an upper bound), never at its true height. Zero is shown as
  ``"0"``: a zero describes nobody, and a DPO must be able to tell "nothing linked" from
  "a few linked". See docs/reports.md for the rule and its limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "DEFAULT_K",
    "AgencyCount",
    "AuditEntry",
    "AuditVerification",
    "ClusterSize",
    "PairCount",
    "PrivacyAttack",
    "PrivacyEvaluation",
    "ProjectReport",
    "RetentionItem",
    "RunReport",
    "RunSummary",
    "ScoreHistogram",
    "ShownCount",
    "StageDuration",
    "present_count",
    "present_counts",
    "present_partition",
    "suppress",
]

DEFAULT_K = 5


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError("the small-count threshold k must be at least 1")


def suppress(count: int, k: int = DEFAULT_K) -> str:
    """The text shown for ``count``: ``"0"`` for zero, ``"< k"`` for 1..k-1, else the number.

    ``k = 1`` turns suppression off (no count lies strictly between 0 and 1).
    """
    _check_k(k)
    if count < 0:
        raise ValueError("a count cannot be negative")
    if count == 0:
        return "0"
    if count < k:
        return f"< {k}"
    return str(count)


@dataclass(frozen=True)
class ShownCount:
    """A count as it may be published: its text, and a bar height that reveals no small count.

    ``exact`` is the number only when it is shown; ``None`` when it is hidden.
    """

    text: str
    suppressed: bool
    bar_height: float
    exact: int | None
    reason: Literal["", "small", "complementary"] = ""

    def __str__(self) -> str:
        return self.text


def present_count(count: int, k: int = DEFAULT_K) -> ShownCount:
    text = suppress(count, k)
    if 0 < count < k:
        return ShownCount(text, True, float(k), None, "small")
    return ShownCount(text, False, float(count), count, "")


def present_counts(counts: Sequence[int], k: int = DEFAULT_K) -> list[ShownCount]:
    return [present_count(c, k) for c in counts]


def present_partition(counts: Sequence[int], k: int = DEFAULT_K) -> list[ShownCount]:
    """Counts that add up to a total published next to them (e.g. clusters by size).

    With exactly one small cell hidden, the total minus the shown cells would give it away,
    so the smallest other non-zero cell is hidden too (complementary suppression; shown as
    ``"hidden"``). Two or more hidden cells cannot be told apart from the total alone.
    """
    shown = present_counts(counts, k)
    if sum(s.suppressed for s in shown) != 1:
        return shown
    candidates = [i for i, s in enumerate(shown) if not s.suppressed and counts[i] > 0]
    if candidates:
        j = min(candidates, key=lambda i: (counts[i], i))
        # Plotted at a multiple of k: close to its size, yet it cannot pin down the small cell.
        height = float(max(k, k * round(counts[j] / k)))
        shown[j] = ShownCount("hidden", True, height, None, "complementary")
    return shown


# --- raw report content (aggregates only) -------------------------------------------------


@dataclass(frozen=True)
class AgencyCount:
    """One participating agency: records it uploaded and how many of them were linked."""

    agency: str
    records: int
    matched: int = 0
    possible: int = 0


@dataclass(frozen=True)
class PairCount:
    """Links between the records of two agencies (a cluster of n agencies counts in each pair)."""

    agency_a: str
    agency_b: str
    matches: int
    possible: int = 0


@dataclass(frozen=True)
class ClusterSize:
    """How many linked groups have ``size`` members (records from ``size`` agencies, or more
    when duplicates within an agency are allowed)."""

    size: int
    matches: int
    possible: int = 0


@dataclass(frozen=True)
class ScoreHistogram:
    """Counts of similarity scores in bins ``[edges[i], edges[i+1])`` (last bin closed).

    ``what`` says which scores were binned (e.g. "candidate pairs compared").
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    what: str = "candidate pairs compared"

    def __post_init__(self) -> None:
        if len(self.edges) != len(self.counts) + 1 or not self.counts:
            raise ValueError("a histogram needs one more edge than counts, and at least one bin")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("histogram edges must increase")
        if any(c < 0 for c in self.counts):
            raise ValueError("histogram counts cannot be negative")


@dataclass(frozen=True)
class StageDuration:
    stage: str
    seconds: float


@dataclass(frozen=True)
class RetentionItem:
    """One upload's retention: when it arrived, when it is due for deletion, when it was."""

    agency: str
    uploaded_at: datetime | None
    delete_after: datetime | None
    deleted_at: datetime | None = None
    label: str = "upload"

    def status(self, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        if self.deleted_at is not None:
            return "erased"
        if self.delete_after is None:
            return "kept until the agency replaces or deletes it"
        if _aware(self.delete_after) <= _aware(now):
            return "deletion overdue"
        return "held until deletion date"


@dataclass(frozen=True)
class PrivacyAttack:
    """One simulated attack of an agency's privacy check: aggregate numbers only."""

    attack: str
    encodings: int
    guesses: int
    correct: int
    precision: float
    rate: float


@dataclass(frozen=True)
class PrivacyEvaluation:
    """The summary an agency chose to share of its privacy check (issue 7): metric -> value
    (``results``, shown as given), counts (``counts``, shown under the small-count rule) and
    the attacks."""

    agency: str
    shared_at: datetime | None
    results: Mapping[str, str]
    verdict: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)
    attacks: tuple[PrivacyAttack, ...] = ()


@dataclass(frozen=True)
class AuditEntry:
    """One audit log entry as shown: the actor is a role and a name (agency, DPO or operator),
    never a token."""

    seq: int
    time: datetime
    actor_role: str
    actor_name: str | None
    action: str
    object: str
    outcome: str

    @property
    def actor(self) -> str:
        return f"{self.actor_role} ({self.actor_name})" if self.actor_name else self.actor_role


@dataclass(frozen=True)
class AuditVerification:
    """Result of checking the audit hash chain."""

    ok: bool
    entries: int
    head_seq: int = 0
    head_hash: str = ""
    first_broken: int | None = None
    reason: str = ""
    checked_at: datetime | None = None


@dataclass(frozen=True)
class RunReport:
    """Everything the DPO report of one linkage run shows. Aggregates only."""

    project: str
    run: str
    status: str
    agencies: tuple[AgencyCount, ...]
    schema_fingerprint: str
    filter_bits: int | None
    threshold: float | None
    possible_threshold: float | None = None
    hardening: Mapping[str, str] = field(default_factory=dict)
    blocking: Mapping[str, str] = field(default_factory=dict)
    matching: Mapping[str, str] = field(default_factory=dict)
    # From the project's linkage schema, when the operator gave it (else empty).
    schema_filter: Mapping[str, str] = field(default_factory=dict)
    schema_fields: Mapping[str, str] = field(default_factory=dict)  # field name -> weight
    schema_blocking_keys: Mapping[str, str] = field(default_factory=dict)  # key -> parts
    matches_total: int = 0
    possible_total: int = 0
    pairs: tuple[PairCount, ...] = ()
    cluster_sizes: tuple[ClusterSize, ...] = ()
    histogram: ScoreHistogram | None = None
    estimated_precision: float | None = None
    precision_note: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    durations: tuple[StageDuration, ...] = ()
    retention: tuple[RetentionItem, ...] = ()
    privacy: tuple[PrivacyEvaluation, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    audit_total: int | None = None  # entries of the project when ``audit`` is only the latest
    audit_check: AuditVerification | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def total_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (_aware(self.finished_at) - _aware(self.started_at)).total_seconds()


@dataclass(frozen=True)
class RunSummary:
    """One line of the project page: a run and its headline counts."""

    run: str
    status: str
    created_at: datetime | None
    matches_total: int
    possible_total: int
    threshold: float | None = None


@dataclass(frozen=True)
class ProjectReport:
    """The project page: agencies, runs, retention and the project's audit timeline."""

    project: str
    agencies: tuple[AgencyCount, ...]
    runs: tuple[RunSummary, ...] = ()
    schema_fingerprint: str = ""
    filter_bits: int | None = None
    hardening: Mapping[str, str] = field(default_factory=dict)
    schema_filter: Mapping[str, str] = field(default_factory=dict)
    schema_fields: Mapping[str, str] = field(default_factory=dict)
    schema_blocking_keys: Mapping[str, str] = field(default_factory=dict)
    retention_days: int | None = None
    retention: tuple[RetentionItem, ...] = ()
    privacy: tuple[PrivacyEvaluation, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    audit_total: int | None = None
    audit_check: AuditVerification | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _aware(t: datetime) -> datetime:
    """SQLite returns naive datetimes; the service stores UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
