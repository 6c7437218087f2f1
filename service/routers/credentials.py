"""Credentials: issued and revoked by the operator. The token is shown once."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from service import audit
from service.auth import OperatorPrincipal, ReadSessionDep, SessionDep, issue_credential
from service.db.models import Credential, utcnow
from service.errors import NotFound, ServiceError, error_responses
from service.schemas import CredentialCreate, CredentialIssued, CredentialOut

__all__ = ["credential_out", "router"]

router = APIRouter(prefix="/credentials", tags=["credentials"])


def credential_out(c: Credential) -> CredentialOut:
    return CredentialOut(id=c.id, role=c.role, subject=c.subject, label=c.label,  # type: ignore[arg-type]
                         created_by=c.created_by, created_at=c.created_at,
                         expires_at=c.expires_at, revoked_at=c.revoked_at,
                         active=c.revoked_at is None and c.expires_at > utcnow())


@router.post("", status_code=201, response_model=CredentialIssued,
             summary="Issue a credential (operator)", responses=error_responses(401, 403, 422))
def create_credential(body: CredentialCreate, request: Request, principal: OperatorPrincipal,
                      session: SessionDep) -> CredentialIssued:
    settings = request.app.state.settings
    days = body.expires_in_days or settings.token_default_days
    if days > settings.token_max_days:
        raise ServiceError(422, "validation_error",
                           f"expires_in_days may be at most {settings.token_max_days}")
    cred, token = issue_credential(session, role=body.role, subject=body.subject,
                                   label=body.label, days=days,
                                   created_by=f"{principal.role}:{principal.subject}")
    audit.record(session, principal.actor, "credential.issued", f"credential {cred.id}",
                 detail={"role": body.role, "subject": body.subject, "days": days})
    out = CredentialIssued(**credential_out(cred).model_dump(), token=token)
    session.commit()
    return out


@router.get("", response_model=list[CredentialOut], summary="List credentials (operator)",
            responses=error_responses(401, 403))
def list_credentials(principal: OperatorPrincipal, session: ReadSessionDep) -> list[CredentialOut]:
    rows = session.execute(select(Credential).order_by(Credential.created_at)).scalars().all()
    session.commit()
    return [credential_out(c) for c in rows]


@router.delete("/{credential_id}", status_code=204, response_class=Response,
               summary="Revoke a credential (operator)", responses=error_responses(401, 403, 404))
def revoke_credential(credential_id: str, principal: OperatorPrincipal, session: SessionDep
                      ) -> Response:
    cred = session.get(Credential, credential_id, with_for_update=True)
    if cred is None:
        raise NotFound("credential")
    if cred.revoked_at is None:
        cred.revoked_at = utcnow()
        audit.record(session, principal.actor, "credential.revoked", f"credential {cred.id}",
                     detail={"role": cred.role, "subject": cred.subject})
    session.commit()
    return Response(status_code=204)
