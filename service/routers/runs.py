"""Match runs: started by the operator (or an agency when the project allows), watched by
every member, cancelled by whoever may start them."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service import audit
from service.auth import (
    CurrentPrincipal,
    Principal,
    ReadSessionDep,
    SessionDep,
    project_for,
    require_roles,
)
from service.db.models import ACTIVE_RUN_STATES, Project, Run, Upload, utcnow
from service.errors import AuditEvent, Conflict, Forbidden, NotFound, error_responses
from service.runs import new_run_id
from service.schemas import RunOut, RunSummary

__all__ = ["MAX_WAIT_SECONDS", "find_run", "router", "run_out"]

router = APIRouter(prefix="/projects/{project_id}/runs", tags=["runs"])

RunStarter = Annotated[Principal, Depends(require_roles("operator", "agency"))]

# Longest server-side wait of ``GET .../runs/{run}?wait=``.
MAX_WAIT_SECONDS = 60.0
# A long poll re-reads the run at least this often: changes made by a worker in another
# process are not signalled to this one (those made in this process end the wait at once).
_WAIT_SLICE = 0.5


def run_out(r: Run) -> RunOut:
    summary = RunSummary.model_validate(r.summary) if r.summary else None
    return RunOut(
        id=r.id, project_id=r.project_id, status=r.status, stage=r.stage,  # type: ignore[arg-type]
        percent=r.percent, comparisons=r.comparisons, done=r.done, total=r.total,
        eta_seconds=r.eta_seconds, requested_by_role=r.requested_by_role,
        requested_by=r.requested_by, created_at=r.created_at, started_at=r.started_at,
        finished_at=r.finished_at, attempts=r.attempts, cancel_requested=r.cancel_requested,
        error=r.error, restartable=r.restartable, agencies=sorted(r.inputs), summary=summary,
    )


def _may_run(principal: Principal, project: Project, request: Request) -> None:
    if principal.role == "agency" and not project.allow_agency_runs:
        raise Forbidden("this project does not let agencies start or cancel runs",
                        audit=AuditEvent(principal.role, principal.subject, "access.denied",
                                         f"{request.method} {request.url.path}", "denied",
                                         project_id=project.id))


def find_run(session: Session, project_id: str, run_id: str, *, lock: bool = False) -> Run:
    stmt = select(Run).where(Run.id == run_id, Run.project_id == project_id)
    if lock:
        stmt = stmt.with_for_update()
    run = session.execute(stmt).scalar_one_or_none()
    if run is None:
        raise NotFound("run")
    return run


@router.post("", status_code=202, response_model=RunOut,
             summary="Start a run over all current uploads",
             responses=error_responses(401, 403, 404, 409))
def start_run(project_id: str, request: Request, principal: RunStarter, session: SessionDep
              ) -> RunOut:
    project = project_for(session, principal, project_id, request, lock=True)
    _may_run(principal, project, request)
    active = session.execute(select(Run.id).where(
        Run.project_id == project_id, Run.status.in_(ACTIVE_RUN_STATES))).first()
    if active is not None:
        raise Conflict("run_active", f"run {active[0]} of this project is still queued or "
                       "running; wait for it or cancel it")
    uploads = session.execute(select(Upload).where(
        Upload.project_id == project_id, Upload.status == "current")).scalars().all()
    if len(uploads) < 2:
        raise Conflict("not_enough_uploads",
                       f"a run needs current uploads of at least two agencies ({len(uploads)} "
                       "so far)")
    inputs = {u.agency: {"upload_id": u.id, "sha256": u.sha256, "record_count": u.record_count}
              for u in uploads}
    run = Run(id=new_run_id(), project_id=project_id, status="queued",
              requested_by_role=principal.role, requested_by=principal.subject,
              config=dict(project.matching), inputs=inputs, created_at=utcnow(),
              started_at=None, finished_at=None, heartbeat_at=None, worker_id=None, attempts=0,
              stage="queued", done=0, total=0, comparisons=0, percent=0.0, eta_seconds=None,
              cancel_requested=False, error=None, restartable=False, summary=None)
    session.add(run)
    audit.record(session, principal.actor, "run.started", f"run {run.id}",
                 project_id=project_id,
                 detail={"agencies": sorted(inputs),
                         "records": sum(u.record_count for u in uploads)})
    out = run_out(run)
    try:
        session.commit()
    except IntegrityError:  # a concurrent start won (one active run per project)
        session.rollback()
        raise Conflict("run_active", "another run of this project was just started") from None
    request.app.state.runs.wake()
    return out


@router.get("", response_model=list[RunOut], summary="Runs of a project (newest first)",
            responses=error_responses(401, 404))
def list_runs(project_id: str, request: Request, principal: CurrentPrincipal,
              session: ReadSessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
              ) -> list[RunOut]:
    project_for(session, principal, project_id, request)
    rows = session.execute(select(Run).where(Run.project_id == project_id)
                           .order_by(Run.created_at.desc(), Run.id).limit(limit)).scalars().all()
    session.commit()
    return [run_out(r) for r in rows]


@router.get("/{run_id}", response_model=RunOut, summary="Status and progress of a run",
            description="With `wait` (seconds, at most 60) the answer waits until the run "
            "has finished (succeeded, failed or cancelled) or `wait` has passed, whichever "
            "comes first: a client watching a run learns of its end at once without polling "
            "quickly.",
            responses=error_responses(401, 404))
async def get_run(project_id: str, run_id: str, request: Request, principal: CurrentPrincipal,
                  session: ReadSessionDep,
                  wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS, description=(
                      "Seconds to wait for the run to finish before answering (long poll)"
                  ))] = 0.0) -> RunOut:
    manager = request.app.state.runs
    deadline = time.monotonic() + wait
    check: Principal | None = principal  # the visibility check, on the first read only
    while True:
        # The ticket is taken before the read, so a change in between is not missed.
        with manager.watch(run_id) as ticket:
            out = await run_in_threadpool(_read_run, session, check, project_id, run_id,
                                          request)
            check = None
            left = deadline - time.monotonic()
            if out.status not in ACTIVE_RUN_STATES or left <= 0 or \
                    await request.is_disconnected():
                return out
            await ticket.wait(min(left, _WAIT_SLICE))


def _read_run(session: Session, principal: Principal | None, project_id: str, run_id: str,
              request: Request) -> RunOut:
    """The run as the API shows it (``principal``: check the project's visibility first),
    in a read transaction of its own."""
    try:
        if principal is not None:
            project_for(session, principal, project_id, request)
        return run_out(find_run(session, project_id, run_id))
    finally:
        session.commit()


@router.post("/{run_id}/cancel", status_code=202, response_model=RunOut,
             summary="Cancel a queued or running run",
             responses=error_responses(401, 403, 404, 409))
def cancel_run(project_id: str, run_id: str, request: Request, principal: RunStarter,
               session: SessionDep) -> RunOut:
    project = project_for(session, principal, project_id, request)
    _may_run(principal, project, request)
    run = find_run(session, project_id, run_id, lock=True)
    if run.status not in ACTIVE_RUN_STATES:
        raise Conflict("run_finished", f"the run is already {run.status}")
    run.cancel_requested = True
    audit.record(session, principal.actor, "run.cancel_requested", f"run {run.id}",
                 project_id=project_id)
    if run.status == "queued":
        run.status, run.stage, run.finished_at, run.restartable = (
            "cancelled", "cancelled", utcnow(), True)
        audit.record(session, audit.SYSTEM, "run.cancelled", f"run {run.id}",
                     project_id=project_id)
    out = run_out(run)
    session.commit()
    request.app.state.runs.request_cancel(run.id)
    request.app.state.runs.notify(run.id)
    return out
