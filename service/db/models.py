"""Stored models (SQLAlchemy 2). Separate from the API models in ``service.schemas``.

Nothing here holds plaintext identities or keys: uploads are referenced by an encrypted blob
name, credentials by the SHA-256 of the token, results by the agencies' opaque references.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ACTIVE_RUN_STATES",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Credential",
    "PrivacyEvaluation",
    "Project",
    "ProjectAgency",
    "ProjectDpo",
    "Run",
    "RunResult",
    "RunResultBlock",
    "Upload",
    "utcnow",
]

ACTIVE_RUN_STATES = ("queued", "running")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict] = {datetime: UTCDateTime()}


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    schema_fingerprint: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(200))
    filter_bits: Mapped[int] = mapped_column(Integer)
    format_version: Mapped[int] = mapped_column(Integer)
    matching: Mapped[dict[str, Any]] = mapped_column(JSON)
    allow_agency_runs: Mapped[bool] = mapped_column(Boolean)
    release_scores: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The full linkage schema document (public settings, no secrets); None when not given.
    linkage_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Days an upload is kept after it was received; None: until replaced or deleted.
    retention_days: Mapped[int | None] = mapped_column(Integer)


class ProjectAgency(Base):
    __tablename__ = "project_agencies"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    agency: Mapped[str] = mapped_column(String(100), primary_key=True)
    scores_agreed: Mapped[bool] = mapped_column(Boolean)


class ProjectDpo(Base):
    __tablename__ = "project_dpos"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    dpo: Mapped[str] = mapped_column(String(100), primary_key=True)


class Credential(Base):
    """An API credential. ``id`` is the token's public lookup part; only the SHA-256 of the
    whole token is stored."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_project_agency", "project_id", "agency", "status"),
        Index("ix_uploads_delete_after", "status", "delete_after"),
        # At most one current upload per agency and project, enforced by the database.
        Index(
            "uq_uploads_current",
            "project_id",
            "agency",
            unique=True,
            sqlite_where=text("status = 'current'"),
            postgresql_where=text("status = 'current'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # current | superseded | deleted
    source_format: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    record_count: Mapped[int] = mapped_column(BigInteger)
    file_metadata: Mapped[dict[str, Any]] = mapped_column(JSON)
    blob_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    delete_after: Mapped[datetime | None]  # received + the project's retention_days


class PrivacyEvaluation(Base):
    """The latest privacy-check summary an agency shared (aggregate numbers only)."""

    __tablename__ = "privacy_evaluations"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    agency: Mapped[str] = mapped_column(String(100), primary_key=True)
    shared_at: Mapped[datetime]
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_project_created", "project_id", "created_at"),
        Index("ix_runs_status", "status"),
        # One queued or running run per project.
        Index(
            "uq_runs_active",
            "project_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # queued running succeeded failed cancelled
    requested_by_role: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str | None] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)  # agency -> upload id, sha256, count
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    worker_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(40), default="queued")
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    comparisons: Mapped[int] = mapped_column(BigInteger, default=0)
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    eta_seconds: Mapped[float | None] = mapped_column(Float)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(500))
    restartable: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RunResult(Base):
    """One agency record in one match group of one run.

    Keyed by (run, agency, position), the order pages are read in; on SQLite a WITHOUT ROWID
    table, so that one B-tree is written per row (results of a large run are hundreds of
    thousands of rows).
    """

    __tablename__ = "run_results"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    agency: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_ref: Mapped[str] = mapped_column(String(256))
    match_id: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(String(16))
    other_agencies: Mapped[str] = mapped_column(Text)  # comma-separated agency names
    score: Mapped[float] = mapped_column(Float)


class RunResultBlock(Base):
    """Up to ``service.results_store.BLOCK_ROWS`` consecutive result rows of one agency in
    one run (positions ``block * BLOCK_ROWS`` on), as one Arrow IPC stream: runs are saved
    a few hundred blocks at a time instead of hundreds of thousands of rows. Runs saved
    before blocks existed keep their rows in ``run_results``."""

    __tablename__ = "run_result_blocks"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    agency: Mapped[str] = mapped_column(String(100), primary_key=True)
    block: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rows: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class AuditEntry(Base):
    """Append-only, hash-chained audit log (see ``service.audit``)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_project", "project_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, part of the hashed content
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    object: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single chain-head row: last sequence number and hash. Appends lock it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
