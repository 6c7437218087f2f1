"""Service settings (pydantic-settings, environment prefix ``LINKAGE_SERVICE_``).

Every field here is documented in docs/service.md (a test checks that). Nothing is read at
import time: ``Settings()`` reads the environment when called, and the master key is loaded
(or, for the embedded default, generated) only by :func:`load_master_key`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from linkage.errors import KeyFileError

__all__ = ["MASTER_KEY_BYTES", "Settings", "default_data_dir", "load_master_key"]

MASTER_KEY_BYTES = 32


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/pprl-linkage-service`` (``~/.local/share/...`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pprl-linkage-service"


class Settings(BaseSettings):
    """Configuration of the central match service."""

    model_config = SettingsConfigDict(env_prefix="LINKAGE_SERVICE_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the embedded database, the encrypted blobs, temporary files "
        "and the generated master key.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: SQLite (WAL) file service.db in data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    auto_migrate: bool | None = Field(
        None,
        description="Run the Alembic migrations on startup. Default: yes for SQLite, no for "
        "other databases (run `linkage-service db upgrade`).",
    )
    master_key: SecretStr | None = Field(
        None, description="Server master key for encryption at rest: 32 bytes, base64."
    )
    master_key_file: Path | None = Field(
        None, description="File holding the base64 master key (mode 0600). Default: "
        "data_dir/master.key."
    )
    generate_master_key: bool = Field(
        True,
        description="Create master_key_file (mode 0600) on first start when no key is given.",
    )
    max_upload_bytes: int = Field(
        4 * 1024**3, gt=0, description="Largest accepted upload, enforced while streaming."
    )
    blob_chunk_bytes: int = Field(
        1024**2, ge=4096, le=64 * 1024**2,
        description="Plaintext size of one AES-GCM chunk of a stored blob.",
    )
    token_default_days: int = Field(90, ge=1, description="Lifetime of a new credential.")
    token_max_days: int = Field(366, ge=1, description="Longest lifetime an operator may set.")
    run_worker: bool = Field(True, description="Run the background match worker in-process.")
    run_threads: int | None = Field(
        None, ge=1, description="Threads for the matching engine (default: the engine's)."
    )
    run_heartbeat_seconds: float = Field(
        5.0, gt=0, description="How often a running run records that it is alive."
    )
    run_stale_after_seconds: float = Field(
        30.0, gt=0,
        description="A run whose heartbeat is older than this is treated as interrupted "
        "(crash or restart) and resumed or marked failed.",
    )
    run_resume_interrupted: bool = Field(
        True, description="Resume interrupted runs (else mark them failed and restartable)."
    )
    run_max_attempts: int = Field(
        3, ge=1, description="Attempts of one run before it is marked failed."
    )
    run_poll_seconds: float = Field(
        1.0, gt=0, description="How often the worker looks for queued and stale runs."
    )
    results_page_size: int = Field(500, ge=1, description="Default results page size.")
    results_page_max: int = Field(5000, ge=1, description="Largest results page size.")
    audit_page_max: int = Field(1000, ge=1, description="Largest audit page size.")
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "NORMAL",
        description="SQLite synchronous pragma. NORMAL (WAL): commits survive a crash of the "
        "service; FULL: also a power loss, at one fsync per commit.",
    )
    db_pool_size: int = Field(20, ge=1, description="Database connection pool size.")
    db_max_overflow: int = Field(30, ge=0, description="Extra connections above the pool size.")
    host: str = Field("127.0.0.1", description="Address `linkage-service serve` listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port `linkage-service serve` uses.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="Log level of the server."
    )

    @field_validator("data_dir", "master_key_file", mode="after")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    # -- derived ------------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'service.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def should_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    @property
    def effective_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"


def _decode_key(raw: str, source: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{source}: master key is not valid base64") from None
    if len(key) != MASTER_KEY_BYTES:
        raise KeyFileError(f"{source}: master key must be {MASTER_KEY_BYTES} bytes")
    return key


def load_master_key(settings: Settings) -> bytes:
    """The server master key: from settings, else the key file (generated when allowed)."""
    if settings.master_key is not None:
        return _decode_key(settings.master_key.get_secret_value(), "LINKAGE_SERVICE_MASTER_KEY")
    path = settings.effective_master_key_file
    if not path.exists():
        if not settings.generate_master_key:
            raise KeyFileError(f"{path}: master key file is missing")
        _write_new_key(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"{path}: master key file is readable by others (chmod 600)")
    return _decode_key(path.read_text(encoding="ascii"), str(path))


def _write_new_key(path: Path) -> None:
    """Write a fresh key atomically: a private temp file hard-linked into place, so two
    processes starting together end up with the same, complete key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    raw = base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)).decode("ascii") + "\n"
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
