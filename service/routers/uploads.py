"""Uploads of encoded files: streamed, checked, stored encrypted; agencies see only their own."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from linkage.format import FORMAT_VERSION, FileMetadata
from service import audit
from service.auth import AgencyPrincipal, Principal, ReadSessionDep, SessionDep, project_for
from service.db.models import Project, Upload, utcnow
from service.errors import (
    AuditEvent,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    UnprocessableUpload,
    error_responses,
)
from service.schemas import UploadOut
from service.storage import BlobWriter
from service.uploads import (
    CONTENT_TYPES,
    ValidatedUpload,
    delete_after,
    erase_upload,
    new_upload_id,
    validate,
)

__all__ = ["router", "upload_out"]

router = APIRouter(prefix="/projects/{project_id}/uploads", tags=["uploads"])

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The encoded file exactly as the encoder wrote it, streamed.",
        "content": {
            "application/vnd.apache.parquet": _BINARY,
            "application/x-ndjson": _BINARY,
        },
    }
}


def upload_out(u: Upload, *, created: bool = True) -> UploadOut:
    return UploadOut(
        id=u.id, project_id=u.project_id, agency=u.agency, status=u.status,  # type: ignore[arg-type]
        source_format=u.source_format, sha256=u.sha256, size_bytes=u.size_bytes,  # type: ignore[arg-type]
        record_count=u.record_count,
        format_version=int(u.file_metadata.get("format_version", FORMAT_VERSION)),
        created_at=u.created_at, ended_at=u.ended_at,
        delete_after=u.delete_after if u.status == "current" else None, created=created,
    )


def _rejected(principal: Principal, project_id: str, code: str) -> AuditEvent:
    return AuditEvent(principal.role, principal.subject, "upload.received",
                      f"project {project_id}", "rejected", project_id=project_id,
                      detail={"reason": code})


def _visible_project(session: Session, principal: Principal, project_id: str,
                     request: Request) -> Project:
    project = project_for(session, principal, project_id, request)
    session.commit()  # no transaction stays open while the body streams in
    return project


def _current(session: Session, project_id: str, agency: str, *, lock: bool = False
             ) -> Upload | None:
    stmt = select(Upload).where(Upload.project_id == project_id, Upload.agency == agency,
                                Upload.status == "current")
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def _duplicate(session: Session, principal: Principal, project_id: str, sha: str,
               declared_count: int) -> UploadOut | None:
    cur = _current(session, project_id, principal.subject)
    if cur is None or cur.sha256 != sha:
        session.commit()
        return None
    if cur.record_count != declared_count:
        session.commit()
        raise UnprocessableUpload("record_count_mismatch",
                                  f"the file holds {cur.record_count} records but the request "
                                  f"declared {declared_count}")
    audit.record(session, principal.actor, "upload.received", f"upload {cur.id}",
                 "duplicate", project_id=project_id, detail={"records": cur.record_count})
    session.commit()
    return upload_out(cur, created=False)


def _make_current(request: Request, session: Session, principal: Principal, project_id: str,
                  upload_id: str, validated: ValidatedUpload, *, fmt: str, sha: str,
                  size: int) -> UploadOut:
    """Commit the blob and switch the agency's current upload in one transaction."""
    store = request.app.state.store
    project = session.execute(
        select(Project).where(Project.id == project_id).with_for_update()
    ).scalar_one_or_none()
    if project is None:
        raise NotFound("project")
    cur = _current(session, project_id, principal.subject, lock=True)
    if cur is not None and cur.sha256 == sha:  # a concurrent retry won the race
        session.commit()
        return upload_out(cur, created=False)
    validated.writer.commit()
    blob_name = store.blob_name(project_id, upload_id)
    old_blob = None
    try:
        now = utcnow()
        if cur is not None:
            old_blob = cur.blob_name
            cur.status, cur.ended_at, cur.blob_name = "superseded", now, None
            session.flush()  # before the insert: one current upload per agency
        md = validated.metadata
        up = Upload(id=upload_id, project_id=project_id, agency=principal.subject,
                    status="current", source_format=fmt, sha256=sha, size_bytes=size,
                    record_count=md.record_count,
                    file_metadata=_metadata_json(md), blob_name=blob_name,
                    created_at=now, ended_at=None,
                    delete_after=delete_after(project, now))
        session.add(up)
        detail = {"records": md.record_count, "bytes": size, "format": fmt}
        if cur is not None:
            detail["replaced"] = cur.id
        audit.record(session, principal.actor, "upload.received", f"upload {upload_id}",
                     project_id=project_id, detail=detail)
        if cur is not None:
            audit.record(session, principal.actor, "upload.replaced", f"upload {cur.id}",
                         project_id=project_id, detail={"by": upload_id})
        session.commit()
    except BaseException:
        session.rollback()
        store.delete(blob_name)
        raise
    store.delete(old_blob)
    return upload_out(up)


def _metadata_json(md: FileMetadata) -> dict:
    return json.loads(md.to_json())


@router.post(
    "",
    status_code=201,
    response_model=UploadOut,
    summary="Upload (or replace) this agency's encodings",
    description="Stream the encoded file as the body. The service checks the format version, "
    "schema fingerprint, key id and filter length against the project, the record count "
    "against `X-Record-Count` and the SHA-256 of the body against `X-Content-SHA256`. The "
    "checked file replaces the agency's current upload atomically. Repeating the current "
    "upload (same checksum) returns it with status 200 and changes nothing.",
    responses={
        200: {"model": UploadOut, "description": "Same checksum as the current upload"},
        **error_responses(401, 403, 404, 413, 415, 422),
    },
    openapi_extra=_UPLOAD_BODY,
)
async def upload(
    project_id: str,
    request: Request,
    principal: AgencyPrincipal,
    session: SessionDep,
    x_content_sha256: Annotated[str, Header(
        pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 (hex) of the whole body.")],
    x_record_count: Annotated[int, Header(ge=0, description="Records in the file.")],
    content_type: Annotated[str, Header(
        description="application/vnd.apache.parquet or application/x-ndjson")] = "",
) -> UploadOut | JSONResponse:
    settings, store = request.app.state.settings, request.app.state.store
    fmt = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    if fmt is None:
        raise ServiceError(415, "unsupported_media_type",
                           "send application/vnd.apache.parquet or application/x-ndjson")
    await run_in_threadpool(_visible_project, session, principal, project_id, request)
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit, audit=_rejected(principal, project_id, "too_large"))
    expected_sha = x_content_sha256.lower()
    upload_id = new_upload_id()
    incoming: BlobWriter = await run_in_threadpool(store.writer, project_id, upload_id)
    validated: ValidatedUpload | None = None
    try:
        sha, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(limit, audit=_rejected(principal, project_id, "too_large"))
            sha.update(chunk)
            incoming.write(chunk)
        await run_in_threadpool(incoming.close)
        if sha.hexdigest() != expected_sha:
            raise UnprocessableUpload(
                "checksum_mismatch", "the SHA-256 of the received body does not match "
                "X-Content-SHA256 (corrupted or incomplete transfer); upload again")
        dup = await run_in_threadpool(_duplicate, session, principal, project_id, expected_sha,
                                      x_record_count)
        if dup is not None:
            return JSONResponse(dup.model_dump(mode="json"), status_code=200)
        project = await run_in_threadpool(_visible_project, session, principal, project_id,
                                          request)
        validated = await run_in_threadpool(
            validate, store, incoming, fmt=fmt, project=project, declared_count=x_record_count,
            upload_id=upload_id, tmp_dir=settings.tmp_dir)
        if validated.writer is not incoming:
            incoming.discard()
        return await run_in_threadpool(_make_current, request, session, principal, project_id,
                                       upload_id, validated, fmt=fmt, sha=expected_sha,
                                       size=size)
    except ClientDisconnect:
        raise ServiceError(400, "client_disconnected",
                           "the client disconnected before the upload was complete; nothing "
                           "was kept") from None
    except ServiceError as exc:
        if exc.audit is None and exc.status in (413, 422):
            exc.audit = _rejected(principal, project_id, exc.code)
        raise
    finally:
        if incoming.tmp_path.exists():
            incoming.discard()
        if validated is not None and validated.writer.tmp_path.exists():
            validated.writer.discard()


@router.get("", response_model=list[UploadOut], summary="This agency's uploads (newest first)",
            responses=error_responses(401, 403, 404))
def list_uploads(project_id: str, request: Request, principal: AgencyPrincipal,
                 session: ReadSessionDep) -> list[UploadOut]:
    project_for(session, principal, project_id, request)
    rows = session.execute(
        select(Upload).where(Upload.project_id == project_id, Upload.agency == principal.subject)
        .order_by(Upload.created_at.desc())
    ).scalars().all()
    session.commit()
    return [upload_out(u) for u in rows]


def _own_upload(session: Session, principal: Principal, project_id: str, upload_id: str,
                request: Request, *, lock: bool = False) -> Upload:
    project_for(session, principal, project_id, request)
    stmt = select(Upload).where(Upload.id == upload_id, Upload.project_id == project_id,
                                Upload.agency == principal.subject)
    if lock:
        stmt = stmt.with_for_update()
    up = session.execute(stmt).scalar_one_or_none()
    if up is None:  # another agency's upload looks exactly like a missing one
        raise NotFound("upload", audit=AuditEvent(
            principal.role, principal.subject, "access.denied",
            f"{request.method} {request.url.path}", "denied", project_id=project_id))
    return up


@router.get("/{upload_id}", response_model=UploadOut, summary="One of this agency's uploads",
            responses=error_responses(401, 403, 404))
def get_upload(project_id: str, upload_id: str, request: Request, principal: AgencyPrincipal,
               session: ReadSessionDep) -> UploadOut:
    up = _own_upload(session, principal, project_id, upload_id, request)
    session.commit()
    return upload_out(up)


@router.delete("/{upload_id}", status_code=204, response_class=Response,
               summary="Delete one of this agency's uploads (its encodings are erased)",
               responses=error_responses(401, 403, 404))
def delete_upload(project_id: str, upload_id: str, request: Request,
                  principal: AgencyPrincipal, session: SessionDep) -> Response:
    up = _own_upload(session, principal, project_id, upload_id, request, lock=True)
    blob = erase_upload(session, up, principal.actor, "upload.deleted")
    session.commit()
    request.app.state.store.delete(blob)
    return Response(status_code=204)
