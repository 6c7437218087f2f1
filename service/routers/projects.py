"""Linkage projects: created and changed by the operator, visible to their members."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from linkage.schema import LinkageSchema
from service import audit
from service.auth import (
    CurrentPrincipal,
    OperatorPrincipal,
    Principal,
    ReadSessionDep,
    SessionDep,
    audit_now,
    project_for,
    require_roles,
)
from service.db.models import (
    AuditEntry,
    PrivacyEvaluation,
    Project,
    ProjectAgency,
    ProjectDpo,
    Run,
    RunResult,
    RunResultBlock,
    Upload,
    utcnow,
)
from service.errors import Conflict, ServiceError, error_responses
from service.schemas import (
    AgencyOut,
    AgencyUploadFigures,
    ProjectCreate,
    ProjectOut,
    ProjectReport,
    ProjectUpdate,
)
from service.uploads import delete_after

__all__ = ["project_out", "router"]

router = APIRouter(prefix="/projects", tags=["projects"])


def project_out(session: Session, p: Project) -> ProjectOut:
    agencies = session.execute(
        select(ProjectAgency).where(ProjectAgency.project_id == p.id).order_by(ProjectAgency.agency)
    ).scalars().all()
    dpos = session.execute(
        select(ProjectDpo.dpo).where(ProjectDpo.project_id == p.id).order_by(ProjectDpo.dpo)
    ).scalars().all()
    return ProjectOut(
        id=p.id, name=p.name, schema_fingerprint=p.schema_fingerprint, key_id=p.key_id,
        filter_bits=p.filter_bits, format_version=p.format_version,
        agencies=[AgencyOut(name=a.agency, scores_agreed=a.scores_agreed) for a in agencies],
        dpos=list(dpos), matching=p.matching, allow_agency_runs=p.allow_agency_runs,
        release_scores=p.release_scores, retention_days=p.retention_days,
        linkage_schema=p.linkage_schema, created_at=p.created_at, updated_at=p.updated_at,
    )


def _checked_schema(body: ProjectCreate) -> dict[str, Any] | None:
    """The schema document, validated, and its fingerprint checked against the project's."""
    if body.linkage_schema is None:
        return None
    try:
        schema = LinkageSchema.model_validate(body.linkage_schema)
    except ValidationError as exc:
        n = exc.error_count()
        raise ServiceError(422, "invalid_linkage_schema",
                           f"linkage_schema is not a valid linkage schema ({n} problem(s); "
                           "check it with `linkage schema check`)") from None
    fingerprint = schema.fingerprint()
    if fingerprint != body.schema_fingerprint:
        raise ServiceError(422, "linkage_schema_mismatch",
                           f"the fingerprint of linkage_schema ({fingerprint[:12]}...) does "
                           "not equal schema_fingerprint")
    return schema.model_dump(mode="json")


def _set_members(session: Session, project_id: str, body: ProjectCreate | ProjectUpdate) -> None:
    if body.agencies is not None:
        session.execute(delete(ProjectAgency).where(ProjectAgency.project_id == project_id))
        session.add_all(ProjectAgency(project_id=project_id, agency=a.name,
                                      scores_agreed=a.scores_agreed) for a in body.agencies)
    if body.dpos is not None:
        session.execute(delete(ProjectDpo).where(ProjectDpo.project_id == project_id))
        session.add_all(ProjectDpo(project_id=project_id, dpo=d) for d in body.dpos)


@router.post("", status_code=201, response_model=ProjectOut, summary="Create a project",
             responses=error_responses(401, 403, 422))
def create_project(body: ProjectCreate, principal: OperatorPrincipal, session: SessionDep
                   ) -> ProjectOut:
    linkage_schema = _checked_schema(body)
    now = utcnow()
    project = Project(
        id=f"prj_{secrets.token_hex(8)}", name=body.name,
        schema_fingerprint=body.schema_fingerprint, key_id=body.key_id,
        filter_bits=body.filter_bits, format_version=ProjectOut.model_fields[
            "format_version"].default,
        matching=body.matching.model_dump(mode="json"), allow_agency_runs=body.allow_agency_runs,
        release_scores=body.release_scores, created_at=now, updated_at=now,
        linkage_schema=linkage_schema, retention_days=body.retention_days,
    )
    session.add(project)
    session.flush()
    _set_members(session, project.id, body)
    audit.record(session, principal.actor, "project.created", f"project {project.id}",
                 project_id=project.id,
                 detail={"agencies": [a.name for a in body.agencies], "dpos": body.dpos,
                         "release_scores": body.release_scores,
                         "retention_days": body.retention_days,
                         "linkage_schema": linkage_schema is not None})
    out = project_out(session, project)
    session.commit()
    return out


@router.get("", response_model=list[ProjectOut], summary="Projects visible to the caller",
            responses=error_responses(401))
def list_projects(principal: CurrentPrincipal, session: ReadSessionDep) -> list[ProjectOut]:
    stmt = select(Project).order_by(Project.created_at, Project.id)
    if principal.role == "agency":
        stmt = stmt.join(ProjectAgency, ProjectAgency.project_id == Project.id).where(
            ProjectAgency.agency == principal.subject)
    elif principal.role == "dpo":
        stmt = stmt.join(ProjectDpo, ProjectDpo.project_id == Project.id).where(
            ProjectDpo.dpo == principal.subject)
    out = [project_out(session, p) for p in session.execute(stmt).scalars()]
    session.commit()
    return out


@router.get("/{project_id}", response_model=ProjectOut, summary="One project",
            responses=error_responses(401, 404))
def get_project(project_id: str, request: Request, principal: CurrentPrincipal,
                session: ReadSessionDep) -> ProjectOut:
    out = project_out(session, project_for(session, principal, project_id, request))
    session.commit()
    return out


@router.patch("/{project_id}", response_model=ProjectOut, summary="Change project settings",
              responses=error_responses(401, 403, 404, 409, 422))
def update_project(project_id: str, body: ProjectUpdate, request: Request,
                   principal: OperatorPrincipal, session: SessionDep) -> ProjectOut:
    project = project_for(session, principal, project_id, request, lock=True)
    changed = sorted(body.model_dump(exclude_unset=True))
    if body.agencies is not None:
        keep = {a.name for a in body.agencies}
        holding = session.execute(
            select(Upload.agency).where(Upload.project_id == project_id,
                                        Upload.status == "current", Upload.agency.not_in(keep))
        ).scalars().all()
        if holding:
            raise Conflict("agency_has_uploads",
                           f"agency {sorted(holding)[0]!r} still has a current upload; it must "
                           "delete it before it can be removed from the project")
    for name in ("name", "allow_agency_runs", "release_scores"):
        value = getattr(body, name)
        if value is not None:
            setattr(project, name, value)
    if body.matching is not None:
        project.matching = body.matching.model_dump(mode="json")
    if "retention_days" in body.model_fields_set:
        project.retention_days = body.retention_days
        for up in session.execute(select(Upload).where(
                Upload.project_id == project_id, Upload.status == "current")).scalars():
            up.delete_after = delete_after(project, up.created_at)
    _set_members(session, project_id, body)
    project.updated_at = utcnow()
    audit.record(session, principal.actor, "project.updated", f"project {project_id}",
                 project_id=project_id, detail={"changed": changed})
    session.flush()
    out = project_out(session, project)
    session.commit()
    return out


@router.delete("/{project_id}", status_code=204, summary="Delete a project and all its data",
               responses=error_responses(401, 403, 404), response_class=Response)
def delete_project(project_id: str, request: Request, principal: OperatorPrincipal,
                   session: SessionDep) -> Response:
    project_for(session, principal, project_id, request, lock=True)
    run_ids = session.execute(select(Run.id).where(Run.project_id == project_id)).scalars().all()
    uploads = session.execute(select(func.count()).select_from(Upload).where(
        Upload.project_id == project_id)).scalar_one()
    if run_ids:
        session.execute(delete(RunResult).where(RunResult.run_id.in_(run_ids)))
        session.execute(delete(RunResultBlock).where(RunResultBlock.run_id.in_(run_ids)))
    session.execute(delete(Run).where(Run.project_id == project_id))
    session.execute(delete(Upload).where(Upload.project_id == project_id))
    session.execute(delete(PrivacyEvaluation).where(PrivacyEvaluation.project_id == project_id))
    session.execute(delete(ProjectAgency).where(ProjectAgency.project_id == project_id))
    session.execute(delete(ProjectDpo).where(ProjectDpo.project_id == project_id))
    session.execute(delete(Project).where(Project.id == project_id))
    audit.record(session, principal.actor, "project.deleted", f"project {project_id}",
                 project_id=project_id, detail={"uploads": uploads, "runs": len(run_ids)})
    session.commit()
    state = request.app.state
    for rid in run_ids:
        state.runs.request_cancel(rid)
    state.store.delete_project(project_id)
    return Response(status_code=204)


ReportReader = Annotated[Principal, Depends(require_roles("operator", "dpo"))]


@router.get("/{project_id}/report", response_model=ProjectReport,
            summary="Aggregate figures of a project (operator, DPO)",
            responses=error_responses(401, 403, 404))
def project_report(project_id: str, request: Request, principal: ReportReader,
                   session: ReadSessionDep) -> ProjectReport:
    from service.routers.runs import run_out  # runs imports this module

    project = project_for(session, principal, project_id, request)
    pout = project_out(session, project)
    current = {u.agency: u for u in session.execute(
        select(Upload).where(Upload.project_id == project_id, Upload.status == "current")
    ).scalars()}
    figures = [
        AgencyUploadFigures(
            agency=a.name, has_upload=a.name in current,
            record_count=current[a.name].record_count if a.name in current else None,
            size_bytes=current[a.name].size_bytes if a.name in current else None,
            uploaded_at=current[a.name].created_at if a.name in current else None,
            delete_after=current[a.name].delete_after if a.name in current else None)
        for a in pout.agencies
    ]
    by_status = dict(session.execute(
        select(Run.status, func.count()).where(Run.project_id == project_id).group_by(Run.status)
    ).all())
    latest = session.execute(select(Run).where(Run.project_id == project_id)
                             .order_by(Run.created_at.desc()).limit(1)).scalar_one_or_none()
    entries = session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.project_id == project_id)).scalar_one()
    report = ProjectReport(project=pout, uploads=figures, runs_total=sum(by_status.values()),
                           runs_by_status={k: int(v) for k, v in by_status.items()},
                           latest_run=run_out(latest) if latest else None,
                           audit_entries=int(entries))
    session.commit()
    audit_now(request, principal.actor, "report.viewed", f"project {project_id}",
              project_id=project_id)
    return report
