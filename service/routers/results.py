"""Results: each agency reads its own records only.

A row holds the agency's own record reference, the match id (the same for every agency in
the group), the other agencies in the group and the decision. Scores only when the project
releases them and the agency agreed; never another agency's references.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import AgencyPrincipal, Principal, ReadSessionDep, audit_now
from service.db.models import Project, ProjectAgency, Run
from service.db.session import Database
from service.errors import AuditEvent, Conflict, NotFound, ServiceError, error_responses
from service.results_store import ResultRecord, read_rows
from service.routers.runs import find_run
from service.schemas import ResultRow, ResultsPage

__all__ = ["router"]

router = APIRouter(prefix="/projects/{project_id}/runs/{run_id}/results", tags=["results"])

_BATCH = 10_000


def _resolve(session: Session, principal: Principal, project_id: str, run_id: str,
             request: Request) -> tuple[Run, bool]:
    """The succeeded run to read and whether this agency may see scores. One query checks
    the project, the agency's membership and its score consent together."""
    found = session.execute(
        select(Project.release_scores, ProjectAgency.scores_agreed)
        .join(ProjectAgency, ProjectAgency.project_id == Project.id)
        .where(Project.id == project_id, ProjectAgency.agency == principal.subject)
    ).first()
    if found is None:
        raise NotFound("project", audit=AuditEvent(
            principal.role, principal.subject, "access.denied",
            f"{request.method} {request.url.path}", "denied", project_id=project_id))
    if run_id == "latest":
        run = session.execute(
            select(Run).where(Run.project_id == project_id, Run.status == "succeeded")
            .order_by(Run.finished_at.desc(), Run.id).limit(1)
        ).scalar_one_or_none()
        if run is None:
            raise NotFound("finished run")
    else:
        run = find_run(session, project_id, run_id)
    if run.status != "succeeded":
        raise Conflict("run_not_finished", f"the run is {run.status}; results exist only for "
                       "succeeded runs")
    return run, bool(found.release_scores and found.scores_agreed)


def _row(r: ResultRecord, scores: bool) -> ResultRow:
    return ResultRow(record_ref=r.record_ref, match_id=r.match_id,
                     decision=r.decision,  # type: ignore[arg-type]
                     other_agencies=r.other_agencies.split(",") if r.other_agencies else [],
                     score=round(r.score, 6) if scores else None)


def _parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise ServiceError(422, "validation_error", "invalid cursor")
    return int(cursor)


@router.get("", response_model=ResultsPage, summary="A page of this agency's results",
            description="`run_id` may be `latest` (the newest succeeded run).",
            responses=error_responses(401, 403, 404, 409, 422))
def results_page(project_id: str, run_id: str, request: Request, principal: AgencyPrincipal,
                 session: ReadSessionDep, cursor: str | None = None,
                 limit: Annotated[int | None, Query(ge=1)] = None) -> ResultsPage:
    settings = request.app.state.settings
    size = min(limit or settings.results_page_size, settings.results_page_max)
    start = _parse_cursor(cursor)
    run, scores = _resolve(session, principal, project_id, run_id, request)
    rows = read_rows(session, run, principal.subject, start, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    total = int((run.summary or {}).get("result_rows", {}).get(principal.subject, 0))
    page = ResultsPage(run_id=run.id, agency=principal.subject, total=total,
                       items=[_row(r, scores) for r in rows],
                       next_cursor=str(rows[-1].position + 1) if more else None)
    session.commit()
    audit_now(request, principal.actor, "results.read", f"run {run.id}",
              project_id=project_id, detail={"from": start, "rows": len(rows)})
    return page


def _stream_rows(db: Database, run: Run, agency: str) -> Iterator[list[ResultRecord]]:
    start = 0
    while True:
        with db.read_session() as s:
            rows = read_rows(s, run, agency, start, _BATCH)
            s.commit()
        if not rows:
            return
        yield rows
        start = rows[-1].position + 1


def _csv(db: Database, run: Run, agency: str, scores: bool) -> Iterator[bytes]:
    header = ["record_ref", "match_id", "decision", "other_agencies"] + (["score"] if scores
                                                                        else [])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    yield buf.getvalue().encode()
    for rows in _stream_rows(db, run, agency):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        for r in rows:
            line = [r.record_ref, r.match_id, r.decision, r.other_agencies.replace(",", ";")]
            if scores:
                line.append(f"{r.score:.6f}")
            w.writerow(line)
        yield buf.getvalue().encode()


def _parquet(db: Database, run: Run, agency: str, scores: bool) -> bytes:
    cols: dict[str, list] = {"record_ref": [], "match_id": [], "decision": [],
                             "other_agencies": [], "score": []}
    for rows in _stream_rows(db, run, agency):
        for r in rows:
            cols["record_ref"].append(r.record_ref)
            cols["match_id"].append(r.match_id)
            cols["decision"].append(r.decision)
            cols["other_agencies"].append(r.other_agencies.split(",") if r.other_agencies
                                          else [])
            cols["score"].append(r.score)
    fields = [pa.field("record_ref", pa.string()), pa.field("match_id", pa.string()),
              pa.field("decision", pa.string()),
              pa.field("other_agencies", pa.list_(pa.string()))]
    if scores:
        fields.append(pa.field("score", pa.float64()))
    else:
        del cols["score"]
    table = pa.Table.from_pydict(cols, schema=pa.schema(fields))
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


@router.get(
    "/download",
    summary="All of this agency's results as CSV or Parquet",
    description="`run_id` may be `latest`.",
    response_class=Response,
    responses={
        200: {"description": "The results file",
              "content": {"text/csv": {"schema": {"type": "string"}},
                          "application/vnd.apache.parquet": {
                              "schema": {"type": "string", "format": "binary"}}}},
        **error_responses(401, 403, 404, 409, 422),
    },
)
def download_results(project_id: str, run_id: str, request: Request,
                     principal: AgencyPrincipal, session: ReadSessionDep,
                     format: Literal["csv", "parquet"] = "csv") -> Response:
    run, scores = _resolve(session, principal, project_id, run_id, request)
    session.commit()
    audit_now(request, principal.actor, "results.downloaded", f"run {run.id}",
              project_id=project_id, detail={"format": format})
    db = request.app.state.db
    name = f"results-{run.id}-{principal.subject}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        return StreamingResponse(_csv(db, run, principal.subject, scores),
                                 media_type="text/csv", headers=headers)
    return Response(_parquet(db, run, principal.subject, scores),
                    media_type="application/vnd.apache.parquet", headers=headers)
