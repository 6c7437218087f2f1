"""Request and response models of the API (separate from the stored models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from linkage.format import FORMAT_VERSION
from linkage.matching import MatchConfig

__all__ = [
    "NAME_PATTERN",
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
    created_at: datetime
    updated_at: datetime


class AgencyUploadFigures(BaseModel):
    agency: str
    has_upload: bool
    record_count: int | None
    size_bytes: int | None
    uploaded_at: datetime | None


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
    created: bool = Field(
        True, description="False when this request repeated an upload already current."
    )


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
