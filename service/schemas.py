"""Request and response models of the API (separate from the stored models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from linkage.format import FORMAT_VERSION
from linkage.matching import MatchConfig

__all__ = [
    "NAME_PATTERN",
    "PRIVACY_ATTACKS",
    "AgencyIn",
    "AgencyOut",
    "AgencyUploadFigures",
    "AuditEntryOut",
    "AuditPage",
    "AuditVerifyOut",
    "CredentialCreate",
    "CredentialIssued",
    "CredentialOut",
    "HealthOut",
    "MeOut",
    "Name",
    "PrivacyAttackIn",
    "PrivacyEvaluationIn",
    "PrivacyEvaluationOut",
    "PrivacyStatsIn",
    "ProjectCreate",
    "ProjectOut",
    "ProjectReport",
    "ProjectUpdate",
    "ResultRow",
    "ResultsPage",
    "Role",
    "RunOut",
    "RunSummary",
    "UploadOut",
]

Role = Literal["operator", "agency", "dpo"]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Fingerprint = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class MeOut(BaseModel):
    role: Role
    subject: str = Field(description="Agency, DPO or operator name of the credential.")
    credential_id: str
    expires_at: datetime
    max_upload_bytes: int = Field(description="Largest upload the service accepts.")


# --- projects ----------------------------------------------------------------------------


class AgencyIn(_In):
    name: Name
    scores_agreed: bool = Field(
        False,
        description="The agency agreed to receive similarity scores (only effective when the "
        "project's release_scores is true).",
    )


class AgencyOut(BaseModel):
    name: str
    scores_agreed: bool


RetentionDays = Annotated[int, Field(ge=1, le=36_500)]
DEFAULT_RETENTION_DAYS = 90


class ProjectCreate(_In):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    schema_fingerprint: Fingerprint = Field(description="SHA-256 of the linkage schema.")
    key_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Id of the agencies' shared linkage key (never the key)."
    )
    filter_bits: int = Field(ge=64, le=8192, multiple_of=64)
    agencies: list[AgencyIn] = Field(min_length=1, max_length=100)
    dpos: list[Name] = Field(default_factory=list, max_length=100)
    matching: MatchConfig = Field(default_factory=MatchConfig)
    allow_agency_runs: bool = Field(True, description="Agencies may start runs themselves.")
    release_scores: bool = Field(
        False,
        description="Release each group's similarity score to agencies that agreed to it. "
        "Off by default: released similarities enable re-identification attacks.",
    )
    linkage_schema: dict[str, Any] | None = Field(
        None,
        description="The project's linkage schema document (the JSON of `linkage schema "
        "init`; public settings, no secrets). Its fingerprint must equal schema_fingerprint. "
        "Shown in the DPO reports (hardening, filter, field weights, blocking keys).",
    )
    retention_days: RetentionDays | None = Field(
        DEFAULT_RETENTION_DAYS,
        description="Days an upload is kept after it was received; then its encodings are "
        "erased. null: kept until the agency replaces or deletes it.",
    )

    @model_validator(mode="after")
    def _unique(self) -> ProjectCreate:
        names = [a.name for a in self.agencies]
        if len(set(names)) != len(names):
            raise ValueError("agency names must be unique")
        if len(set(self.dpos)) != len(self.dpos):
            raise ValueError("dpo names must be unique")
        return self


class ProjectUpdate(_In):
    """Changeable settings; the encoding parameters (fingerprint, key id, filter length) are
    fixed for the life of a project. Lists given here replace the current ones."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    agencies: list[AgencyIn] | None = Field(None, min_length=1, max_length=100)
    dpos: list[Name] | None = Field(None, max_length=100)
    matching: MatchConfig | None = None
    allow_agency_runs: bool | None = None
    release_scores: bool | None = None
    retention_days: RetentionDays | None = Field(
        None, description="Given (also as null): the new retention; the deletion dates of the "
        "current uploads are recomputed from their receipt.")


class ProjectOut(BaseModel):
    id: str
    name: str
    schema_fingerprint: str
    key_id: str
    filter_bits: int
    format_version: int = FORMAT_VERSION
    agencies: list[AgencyOut]
    dpos: list[str]
    matching: dict[str, Any] = Field(description="The matching engine settings (MatchConfig).")
    allow_agency_runs: bool
    release_scores: bool
    retention_days: int | None = Field(
        None, description="Days uploads are kept; null: until replaced or deleted.")
    linkage_schema: dict[str, Any] | None = Field(
        None, description="The linkage schema document, when given at creation.")
    created_at: datetime
    updated_at: datetime


class AgencyUploadFigures(BaseModel):
    agency: str
    has_upload: bool
    record_count: int | None
    size_bytes: int | None
    uploaded_at: datetime | None
    delete_after: datetime | None = None


class RunSummary(BaseModel):
    """Aggregate figures of a finished run (no references, no scores)."""

    groups: int
    matches: int
    possible_matches: int
    records: dict[str, int] = Field(description="Input records, per agency.")
    linked_records: dict[str, int] = Field(description="Records in a group, per agency.")
    candidate_pairs: int
    comparisons: int
    durations: dict[str, float]
    threshold_suggestion: float | None = None


class ProjectReport(BaseModel):
    """Aggregate figures of a project, for the operator and the DPO."""

    project: ProjectOut
    uploads: list[AgencyUploadFigures]
    runs_total: int
    runs_by_status: dict[str, int]
    latest_run: RunOut | None
    audit_entries: int


# --- credentials -------------------------------------------------------------------------


class CredentialCreate(_In):
    role: Role
    subject: Name = Field(description="The agency, DPO or operator this credential is for.")
    label: Annotated[str, StringConstraints(max_length=200)] = ""
    expires_in_days: int | None = Field(
        None, ge=1, description="Lifetime; default from the service settings."
    )


class CredentialOut(BaseModel):
    id: str
    role: Role
    subject: str
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool


class CredentialIssued(CredentialOut):
    token: str = Field(description="The API token. Shown once; only its hash is stored.")


# --- uploads -----------------------------------------------------------------------------


class UploadOut(BaseModel):
    id: str
    project_id: str
    agency: str
    status: Literal["current", "superseded", "deleted"]
    source_format: Literal["parquet", "ndjson"]
    sha256: str
    size_bytes: int
    record_count: int
    format_version: int
    created_at: datetime
    ended_at: datetime | None
    delete_after: datetime | None = Field(
        None, description="When the encodings are erased (the project's retention).")
    created: bool = Field(
        True, description="False when this request repeated an upload already current."
    )


# --- privacy evaluations ----------------------------------------------------------------

# The attacks `linkage privacy-check` simulates (linkage.privacy.ATTACKS; the service may not
# import linkage.privacy, so they are listed here).
PRIVACY_ATTACKS = ("frequency", "double_hashing", "pattern_mining", "graph_matching")
_Count = Annotated[int, Field(ge=0, le=1_000_000_000)]
_Share = Annotated[float, Field(ge=0.0, le=1.0)]


class PrivacyAttackIn(_In):
    """One simulated attack: aggregate numbers only."""

    attack: Literal["frequency", "double_hashing", "pattern_mining", "graph_matching"]
    encodings: _Count
    guesses: _Count
    correct: _Count
    precision: _Share
    rate: _Share
    seconds: float = Field(0.0, ge=0.0, le=1e7)
    note: Annotated[str, StringConstraints(max_length=300)] = Field(
        "", description="Accepted for compatibility with the check's output; not stored.")

    @model_validator(mode="after")
    def _consistent(self) -> PrivacyAttackIn:
        if not self.correct <= self.guesses <= self.encodings:
            raise ValueError("an attack needs correct <= guesses <= encodings")
        return self


class PrivacyStatsIn(_In):
    """Structural statistics of the encodings (what an attacker sees before any attack)."""

    encodings: _Count
    bits: int = Field(ge=1, le=65_536)
    mean_fill: _Share
    bit_frequency_cv: float = Field(ge=0.0, le=1e6)
    bit_frequency_min: _Share
    bit_frequency_max: _Share
    bit_frequency_entropy: _Share
    identical_share: _Share
    distinct_weights: int = Field(ge=0, le=65_537)
    weight_std: float = Field(ge=0.0, le=1e6)


class PrivacyEvaluationIn(_In):
    """The JSON summary `linkage privacy-check --json` writes. Only aggregate numbers: any
    other field (e.g. record-level data) is rejected."""

    schema_fingerprint: Fingerprint
    encodings: _Count
    reference_records: _Count
    complement_pairs: _Count
    max_rate: _Share
    min_precision: _Share
    passed: bool
    attacks: list[PrivacyAttackIn] = Field(max_length=len(PRIVACY_ATTACKS))
    stats: PrivacyStatsIn

    @model_validator(mode="after")
    def _unique_attacks(self) -> PrivacyEvaluationIn:
        names = [a.attack for a in self.attacks]
        if len(set(names)) != len(names):
            raise ValueError("each attack may appear once")
        return self


class PrivacyEvaluationOut(BaseModel):
    project_id: str
    agency: str
    shared_at: datetime
    passed: bool
    attacks: list[str]


# --- runs --------------------------------------------------------------------------------


class RunOut(BaseModel):
    id: str
    project_id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    stage: str
    percent: float = Field(description="0-100, across all stages.")
    comparisons: int = Field(description="Filter comparisons done so far.")
    done: int = Field(description="Units of the current stage done.")
    total: int = Field(description="Units of the current stage.")
    eta_seconds: float | None = Field(description="Estimated seconds left.")
    requested_by_role: str
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    cancel_requested: bool
    error: str | None
    restartable: bool = Field(
        description="A failed or cancelled run whose inputs are intact: start a new run."
    )
    agencies: list[str]
    summary: RunSummary | None


# --- results -----------------------------------------------------------------------------


class ResultRow(BaseModel):
    record_ref: str = Field(description="The requesting agency's own record reference.")
    match_id: str = Field(description="The same id for every agency in the group.")
    decision: Literal["match", "possible"]
    other_agencies: list[str]
    score: float | None = Field(
        None, description="Only when the project releases scores and the agency agreed."
    )


class ResultsPage(BaseModel):
    run_id: str
    agency: str
    total: int
    items: list[ResultRow]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end.")


# --- audit -------------------------------------------------------------------------------


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor_role: str
    actor_name: str | None
    action: str
    object: str
    outcome: str
    project_id: str | None
    detail: dict[str, Any] | None
    entry_hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


class AuditVerifyOut(BaseModel):
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_broken: int | None
    reason: str | None


ProjectReport.model_rebuild()
