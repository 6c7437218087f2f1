"""The audit trail: the operator reads all of it, a DPO the entries of its projects."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from service import audit
from service.auth import Principal, ReadSessionDep, audit_now, project_for, require_roles
from service.db.models import AuditEntry, ProjectDpo
from service.errors import ServiceError, error_responses
from service.schemas import AuditEntryOut, AuditPage, AuditVerifyOut

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])

AuditReader = Annotated[Principal, Depends(require_roles("operator", "dpo"))]


def _entry_out(e: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(seq=e.seq, at=e.at, actor_role=e.actor_role, actor_name=e.actor_name,
                         action=e.action, object=e.object, outcome=e.outcome,
                         project_id=e.project_id,
                         detail=json.loads(e.detail) if e.detail else None,
                         entry_hash=e.entry_hash)


@router.get("", response_model=AuditPage, summary="Audit entries, oldest first",
            description="A DPO sees the entries of its projects only (all of them, or the one "
            "given as project_id).",
            responses=error_responses(401, 403, 404, 422))
def list_audit(request: Request, principal: AuditReader, session: ReadSessionDep,
               project_id: str | None = None, cursor: str | None = None,
               limit: Annotated[int, Query(ge=1)] = 200) -> AuditPage:
    settings = request.app.state.settings
    limit = min(limit, settings.audit_page_max)
    if cursor is not None and not cursor.isdigit():
        raise ServiceError(422, "validation_error", "invalid cursor")
    after = int(cursor) if cursor else 0
    stmt = select(AuditEntry).where(AuditEntry.seq > after)
    if project_id is not None:
        project_for(session, principal, project_id, request)
        stmt = stmt.where(AuditEntry.project_id == project_id)
    elif principal.role == "dpo":
        mine = select(ProjectDpo.project_id).where(ProjectDpo.dpo == principal.subject)
        stmt = stmt.where(AuditEntry.project_id.in_(mine))
    rows = session.execute(stmt.order_by(AuditEntry.seq).limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    page = AuditPage(items=[_entry_out(e) for e in rows],
                     next_cursor=str(rows[-1].seq) if more else None)
    session.commit()
    audit_now(request, principal.actor, "audit.viewed",
              f"project {project_id}" if project_id else "audit trail",
              project_id=project_id, detail={"from": after, "entries": len(rows)})
    return page


@router.get("/verify", response_model=AuditVerifyOut, summary="Check the hash chain",
            responses=error_responses(401, 403))
def verify_audit(principal: AuditReader, session: ReadSessionDep) -> AuditVerifyOut:
    result = audit.verify(session)
    session.commit()
    return AuditVerifyOut(ok=result.ok, entries=result.entries, head_seq=result.head_seq,
                          head_hash=result.head_hash, first_broken=result.first_broken,
                          reason=result.reason)
