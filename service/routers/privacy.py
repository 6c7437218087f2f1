"""Privacy evaluations shared by agencies: the aggregate summary of `linkage privacy-check`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from service import audit
from service.auth import AgencyPrincipal, SessionDep, project_for
from service.db.models import PrivacyEvaluation, utcnow
from service.errors import ServiceError, error_responses
from service.schemas import PrivacyEvaluationIn, PrivacyEvaluationOut

__all__ = ["router"]

router = APIRouter(prefix="/projects/{project_id}/privacy-evaluation", tags=["privacy"])


def stored_summary(body: PrivacyEvaluationIn) -> dict:
    """What is kept: the aggregate numbers, without the attacks' free-text notes."""
    return body.model_dump(mode="json", exclude={"attacks": {"__all__": {"note"}}})


@router.post(
    "", status_code=201, response_model=PrivacyEvaluationOut,
    summary="Share this agency's privacy-check summary (aggregate numbers only)",
    description="The JSON that `linkage privacy-check --json` writes: per attack the guesses, "
    "correct guesses, precision and rate, the structural statistics of the encodings, the "
    "limits and the verdict. Unknown fields are rejected. Replaces the agency's previous "
    "summary; the DPO reports show the latest one of each agency.",
    responses=error_responses(401, 403, 404, 422),
)
def share_privacy_evaluation(project_id: str, body: PrivacyEvaluationIn, request: Request,
                             principal: AgencyPrincipal, session: SessionDep
                             ) -> PrivacyEvaluationOut:
    project = project_for(session, principal, project_id, request)
    if body.schema_fingerprint != project.schema_fingerprint:
        raise ServiceError(422, "schema_mismatch",
                           f"schema fingerprint {body.schema_fingerprint[:12]}... of the "
                           "privacy check does not match the project's")
    now = utcnow()
    row = session.execute(select(PrivacyEvaluation).where(
        PrivacyEvaluation.project_id == project_id,
        PrivacyEvaluation.agency == principal.subject).with_for_update()).scalar_one_or_none()
    if row is None:
        row = PrivacyEvaluation(project_id=project_id, agency=principal.subject)
        session.add(row)
    row.shared_at, row.summary = now, stored_summary(body)
    audit.record(session, principal.actor, "privacy.shared", f"project {project_id}",
                 project_id=project_id,
                 detail={"passed": body.passed, "attacks": [a.attack for a in body.attacks]})
    session.commit()
    return PrivacyEvaluationOut(project_id=project_id, agency=principal.subject, shared_at=now,
                                passed=body.passed, attacks=[a.attack for a in body.attacks])
