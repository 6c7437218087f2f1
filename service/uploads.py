"""Checking and storing uploaded encodings.

An upload is streamed into an encrypted incoming blob while its SHA-256 and size are
computed (``receive``); it is then checked against the project (``validate``) and only then
made the agency's current upload in one transaction (``make_current``). Until that commit
nothing refers to the blob, so a half-received or rejected upload is never used.

NDJSON uploads are converted to Parquet after validation, so stored blobs are always
Parquet and are parsed straight from the encrypted blob (``storage.BlobReader``). The
conversion needs the decrypted NDJSON as a file for ``linkage.format`` (private temporary
files, mode 0600, removed as soon as they are read).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkage.errors import DecryptionError, EncodedFileError
from linkage.format import (
    FORMAT_VERSION,
    MAX_REF_LENGTH,
    METADATA_KEY,
    EncodedData,
    EncodedFileWriter,
    FileMetadata,
    arrow_schema,
    read_encoded,
    read_metadata,
    same_columns,
    table_to_data,
)
from service import audit
from service.db.models import Project, Upload, utcnow
from service.errors import ServiceError, UnprocessableUpload
from service.storage import BlobReader, BlobStore, BlobWriter

__all__ = [
    "CONTENT_TYPES",
    "ValidatedUpload",
    "delete_after",
    "erase_upload",
    "load_encoded",
    "new_upload_id",
    "purge_expired",
    "validate",
]

CONTENT_TYPES = {
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/octet-stream": "parquet",
    "application/x-ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/ndjson": "ndjson",
}


# Blobs whose plaintext is at most this size (about 500,000 records of 1024-bit filters) are
# decrypted into memory in one pass and parsed from there by Arrow's C++ readers, without
# Python file calls (checks about 20% faster); larger ones are parsed through the chunked
# reader, a chunk decrypted at a time, so a large upload never needs its whole plaintext in
# memory at once.
IN_MEMORY_PARSE_BYTES = 64 * 1024**2


def _parquet_source(reader: BlobReader) -> BlobReader | pa.BufferReader:
    """What pyarrow parses: the decrypted plaintext in memory when small enough, else the
    random-access reader over the encrypted blob."""
    if reader.size <= IN_MEMORY_PARSE_BYTES:
        return pa.BufferReader(pa.py_buffer(reader.read_all()))
    return reader


def new_upload_id() -> str:
    return f"upl_{secrets.token_hex(10)}"


@dataclass(frozen=True)
class ValidatedUpload:
    metadata: FileMetadata
    writer: BlobWriter  # the blob to store (the incoming one, or the Parquet conversion)


def _reject(code: str, message: str) -> ServiceError:
    return UnprocessableUpload(code, message)


def _short(v: str) -> str:
    return v[:12] + "…" if len(v) > 16 else v


def _raw_metadata(reader: BlobReader, fmt: str) -> dict:
    """The file's ``pprl`` metadata as a dict, before full validation (for precise errors)."""
    try:
        if fmt == "parquet":
            kv = pq.read_metadata(reader).metadata or {}
            raw = kv[METADATA_KEY]
            head = json.loads(raw)
        else:
            reader.seek(0)
            line = reader.readline(1 << 20)
            head = json.loads(line)["pprl"]
        if not isinstance(head, dict):
            raise TypeError
        return head
    except DecryptionError:
        raise
    except (OSError, pa.ArrowException, KeyError, ValueError, TypeError):
        raise _reject("malformed_file",
                      f"not an encoded {fmt} file (no readable pprl metadata)") from None
    finally:
        reader.seek(0)


def check_against_project(head: dict, project: Project, declared_count: int) -> FileMetadata:
    version = head.get("format_version")
    if version != FORMAT_VERSION:
        raise _reject("unsupported_format_version",
                      f"format version {version!r} is not supported (this service reads "
                      f"version {FORMAT_VERSION})")
    try:
        md = FileMetadata.from_json(json.dumps(head), source="upload")
    except EncodedFileError as exc:
        raise _reject("malformed_file", str(exc)) from None
    if md.schema_fingerprint != project.schema_fingerprint:
        raise _reject("schema_mismatch",
                      f"schema fingerprint {_short(md.schema_fingerprint)} does not match the "
                      f"project's {_short(project.schema_fingerprint)}; encode with the "
                      "project's schema")
    if md.key_id != project.key_id:
        raise _reject("key_mismatch",
                      f"key id {md.key_id!r} does not match the project's {project.key_id!r}; "
                      "encode with the project's linkage key")
    if md.filter_bits != project.filter_bits:
        raise _reject("filter_length_mismatch",
                      f"filter length {md.filter_bits} does not match the project's "
                      f"{project.filter_bits} bits")
    if md.record_count != declared_count:
        raise _reject("record_count_mismatch",
                      f"the file's metadata says {md.record_count} records but the request "
                      f"declared {declared_count}")
    return md


def _full_read(reader_or_path, label: str) -> tuple[FileMetadata, EncodedData]:
    try:
        return read_encoded(reader_or_path)
    except EncodedFileError as exc:
        msg = str(exc).replace(str(reader_or_path), label)
        raise _reject("malformed_file", msg) from None
    except (OSError, pa.ArrowException, ValueError):
        raise _reject("malformed_file", f"{label}: the file cannot be parsed") from None


def _check_parquet(reader: BlobReader, md: FileMetadata, label: str) -> None:
    """Check a Parquet upload by the rules of ``linkage.format.read_encoded`` with columnar
    Arrow operations, a batch at a time (the references column whole, for uniqueness), so
    the check is fast and never materialises the records as Python objects.
    ``tests/service/test_uploads.py`` checks that it agrees with ``read_encoded``."""
    try:
        pf = pq.ParquetFile(_parquet_source(reader))
        if not same_columns(pf.schema_arrow, arrow_schema(md)):
            raise _reject("malformed_file", f"{label}: columns do not match format version "
                          f"{FORMAT_VERSION}")
        if pf.metadata.num_rows != md.record_count:
            raise _reject("malformed_file",
                          f"{label}: holds {pf.metadata.num_rows} records but its metadata says "
                          f"{md.record_count} (truncated or altered file)")
        refs = pf.read(columns=["ref"]).column("ref")
        if len(refs):
            lengths = pc.utf8_length(refs)
            if refs.null_count or pc.min(lengths).as_py() < 1 or \
                    pc.max(lengths).as_py() > MAX_REF_LENGTH:
                raise _reject("malformed_file", f"{label}: invalid record reference")
            if len(pc.unique(refs)) != len(refs):
                raise _reject("malformed_file", f"{label}: duplicate record references")
        del refs
        widths = {"clk": md.filter_bits // 8} | {f"f.{n}": b // 8 for n, b in md.field_bits.items()}
        others = ["n_variants", *widths, *(f"bk.{n}" for n in md.blocking_keys)]
        for batch in pf.iter_batches(batch_size=65_536, columns=others):
            _check_batch(batch, md, widths, label)
    except DecryptionError:
        raise
    except ServiceError:
        raise
    except (OSError, pa.ArrowException, ValueError, TypeError):
        raise _reject("malformed_file", f"{label}: the file cannot be parsed") from None


def _check_batch(batch: pa.RecordBatch, md: FileMetadata, widths: dict[str, int],
                 label: str) -> None:
    counts = batch.column("n_variants")
    if counts.null_count or pc.min(counts).as_py() < 1 or \
            pc.max(counts).as_py() > md.max_variants:
        raise _reject("malformed_file", f"{label}: variant count outside 1..{md.max_variants}")
    counts64 = pc.cast(counts, pa.int64())
    for col, width in widths.items():
        values = batch.column(col)
        ok = pc.equal(pc.binary_length(values), pc.multiply(counts64, width))
        if values.null_count or not pc.all(ok).as_py():
            raise _reject("malformed_file", f"{label}: column {col!r} has the wrong length")
    for name in md.blocking_keys:
        keys = batch.column(f"bk.{name}")
        if keys.null_count or pc.list_flatten(keys).null_count:
            raise _reject("malformed_file", f"{label}: blocking key {name!r} has missing values")


def _private_tmp(tmp_dir: Path, suffix: str) -> Path:
    tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return tmp_dir / f"{secrets.token_hex(8)}{suffix}"


def validate(store: BlobStore, incoming: BlobWriter, *, fmt: str, project: Project,
             declared_count: int, upload_id: str, tmp_dir: Path) -> ValidatedUpload:
    """Check a closed incoming blob; returns the blob to store. Raises a 422 ServiceError."""
    label = f"upload {upload_id}"
    with store.open_incoming(incoming, label=label) as reader:
        head = _raw_metadata(reader, fmt)
        md = check_against_project(head, project, declared_count)
        if fmt == "parquet":
            _check_parquet(reader, md, label)
            return ValidatedUpload(md, incoming)
        plain = _private_tmp(tmp_dir, ".ndjson")
        try:
            fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                for piece in reader.iter_plaintext():
                    fh.write(piece)
            md, data = _full_read(plain, label)
        finally:
            plain.unlink(missing_ok=True)
    return ValidatedUpload(md, _to_parquet_blob(store, md, data, project.id, upload_id, tmp_dir))


def _to_parquet_blob(store: BlobStore, md: FileMetadata, data: EncodedData, project_id: str,
                     upload_id: str, tmp_dir: Path) -> BlobWriter:
    """Re-encode validated NDJSON as a Parquet blob (plaintext file removed at once)."""
    plain = _private_tmp(tmp_dir, ".parquet")
    try:
        with EncodedFileWriter(plain, replace(md, record_count=0), fmt="parquet") as w:
            w.write(data)
        os.chmod(plain, 0o600)
        writer = store.writer(project_id, upload_id)
        try:
            with open(plain, "rb") as fh:
                while piece := fh.read(store.chunk_size):
                    writer.write(piece)
            writer.close()
        except BaseException:
            writer.discard()
            raise
        return writer
    finally:
        with contextlib.suppress(OSError):
            plain.unlink()


def load_encoded(store: BlobStore, blob_name: str, upload_id: str) -> EncodedData:
    """Decrypt and parse a stored upload (in memory only).

    Stored blobs are Parquet files that passed ``validate`` (and AES-GCM authenticates
    them), so they are parsed column by column straight from the Arrow buffers instead of
    through Python objects (``read_encoded``); the structural checks are repeated cheaply.
    The result equals ``read_encoded``'s."""
    with store.reader(blob_name, upload_id) as reader:
        try:
            return _load_columnar(reader)
        except DecryptionError:
            raise
        except EncodedFileError as exc:
            raise EncodedFileError(str(exc)) from None
        except (OSError, pa.ArrowException, ValueError, TypeError, KeyError):
            raise EncodedFileError(f"{reader}: the stored file cannot be parsed") from None


def _load_columnar(reader: BlobReader) -> EncodedData:
    """The stored upload's records, read column by column (``linkage.format.table_to_data``:
    Arrow buffers, no Python object per record)."""
    src = str(reader)
    md = read_metadata(reader)
    table = pq.read_table(_parquet_source(reader))
    if table.num_rows != md.record_count:
        raise EncodedFileError(f"{src}: holds {table.num_rows} records but its metadata says "
                               f"{md.record_count} (truncated or altered file)")
    return table_to_data(md, table, src)


# --- deletion and retention ----------------------------------------------------------------

log = logging.getLogger("service.uploads")


def delete_after(project: Project, received: datetime | None) -> datetime | None:
    """When an upload received at ``received`` is due for deletion (None: no date, kept until
    the agency replaces or deletes it)."""
    if project.retention_days is None or received is None:
        return None
    return received + timedelta(days=project.retention_days)


def erase_upload(session: Session, up: Upload, actor: audit.Actor, action: str,
                 outcome: str | None = None) -> str | None:
    """Mark ``up`` deleted and audit it, in the caller's transaction; returns the blob to
    delete from the store once the transaction has committed (the one deletion path of
    agency deletions and expiry)."""
    blob = up.blob_name
    if outcome is None:
        outcome = "success" if up.status != "deleted" else "already_deleted"
    up.status, up.blob_name = "deleted", None
    up.ended_at = up.ended_at or utcnow()
    audit.record(session, actor, action, f"upload {up.id}", outcome, project_id=up.project_id)
    return blob


def purge_expired(db, store: BlobStore, now: datetime | None = None) -> int:
    """Erase every current upload whose deletion date has passed (audit ``upload.expired``).
    Returns how many. Runs in the worker loop and on start-up."""
    now = now or utcnow()
    with db.read_session() as s:
        ids = s.execute(select(Upload.id).where(
            Upload.status == "current", Upload.delete_after.is_not(None),
            Upload.delete_after <= now)).scalars().all()
        s.commit()
    purged = 0
    for upload_id in ids:
        with db.transaction() as s:
            up = s.execute(select(Upload).where(
                Upload.id == upload_id, Upload.status == "current").with_for_update()
            ).scalar_one_or_none()
            if up is None or up.delete_after is None or up.delete_after > now:
                continue  # replaced, deleted or given a new date meanwhile
            blob = erase_upload(s, up, audit.SYSTEM, "upload.expired", "success")
        store.delete(blob)
        purged += 1
    if purged:
        log.info("erased %d expired upload(s)", purged)
    return purged
