"""Credentials, authentication and role checks.

Tokens look like ``lk_<id>_<secret>``: ``id`` is 16 hex digits, a public lookup handle;
``secret`` is 32 random bytes (URL-safe base64). Only SHA-256 of the whole token is stored
(the token has 256 bits of entropy, so no slow hash is needed) and it is compared with
``hmac.compare_digest``. Unknown, malformed, wrong, expired and revoked tokens get the same
401 response, after the same work.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.audit import Actor
from service.db.models import Credential, Project, ProjectAgency, ProjectDpo, utcnow
from service.errors import AuditEvent, Forbidden, NotFound, Unauthenticated

__all__ = [
    "TOKEN_PREFIX",
    "AgencyPrincipal",
    "CurrentPrincipal",
    "OperatorPrincipal",
    "Principal",
    "ReadSessionDep",
    "SessionDep",
    "audit_now",
    "get_session",
    "hash_token",
    "issue_credential",
    "new_token",
    "parse_token",
    "project_for",
    "require_roles",
]

TOKEN_PREFIX = "lk_"  # noqa: S105 - a prefix, not a secret
_TOKEN_RE = re.compile(r"^lk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"no such credential").hexdigest()


@dataclass(frozen=True)
class Principal:
    role: str  # operator | agency | dpo
    subject: str
    credential_id: str
    expires_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(self.role, self.subject)


def new_token() -> tuple[str, str]:
    """A fresh (credential id, token)."""
    cid = secrets.token_hex(8)
    return cid, f"{TOKEN_PREFIX}{cid}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def parse_token(token: str) -> str | None:
    """The credential id of a well-formed token, else None."""
    m = _TOKEN_RE.match(token)
    return m.group(1) if m else None


def issue_credential(session: Session, *, role: str, subject: str, label: str, days: int,
                     created_by: str) -> tuple[Credential, str]:
    cid, token = new_token()
    now = utcnow()
    cred = Credential(id=cid, secret_hash=hash_token(token), role=role, subject=subject,
                      label=label, created_by=created_by, created_at=now,
                      expires_at=now + timedelta(days=days), revoked_at=None)
    session.add(cred)
    session.flush()
    return cred, token


# --- dependencies ------------------------------------------------------------------------


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; route code commits explicitly, errors roll back.

    The session closes before the response is sent (scope "function"), so nothing a
    client sees can still be waiting to commit. (An async dependency: creating a session
    does no I/O, and routes end their transactions themselves, so this saves a thread hop
    per request.)
    """
    session = request.app.state.db.session()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for routes that only read (on SQLite it never takes the write lock)."""
    session = request.app.state.db.read_session()
    try:
        yield session
    finally:
        session.close()


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


def audit_now(request: Request, actor: Actor, action: str, object: str,
              outcome: str = "success", *, project_id: str | None = None,
              detail: dict | None = None) -> None:
    """Record an audit entry in its own short transaction (for routes that only read)."""
    with request.app.state.db.transaction() as session:
        audit.record(session, actor, action, object, outcome, project_id=project_id,
                     detail=detail)

_bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer lk_...`")


def _fail(request: Request) -> Exception:
    return Unauthenticated(AuditEvent("anonymous", None, "auth.failed",
                                      f"{request.method} {request.url.path}", "denied"))


def authenticate(
    request: Request,
    session: ReadSessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = creds.credentials if creds is not None and creds.scheme.lower() == "bearer" else ""
    cid = parse_token(token) if token else None
    row = session.get(Credential, cid) if cid else None
    # Same comparison whether or not the id exists, so timing says nothing either.
    stored = row.secret_hash if row is not None else _DUMMY_HASH
    hash_ok = hmac.compare_digest(stored, hash_token(token) if token.isascii() else "")
    now = utcnow()
    valid = (row is not None and hash_ok and row.revoked_at is None and row.expires_at > now)
    session.commit()  # end the read transaction before the route's own work
    if not valid:
        raise _fail(request)
    assert row is not None
    return Principal(row.role, row.subject, row.id, row.expires_at)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def _denied(principal: Principal, request: Request, project_id: str | None = None) -> AuditEvent:
    return AuditEvent(principal.role, principal.subject, "access.denied",
                      f"{request.method} {request.url.path}", "denied", project_id=project_id)


def require_roles(*roles: str):
    """Dependency: the principal, when its role is one of ``roles``; else 403."""

    async def check(principal: CurrentPrincipal, request: Request) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"the {principal.role} role may not do this",
                            audit=_denied(principal, request))
        return principal

    return check


OperatorPrincipal = Annotated[Principal, Depends(require_roles("operator"))]
AgencyPrincipal = Annotated[Principal, Depends(require_roles("agency"))]


def is_member(session: Session, principal: Principal, project_id: str) -> bool:
    if principal.role == "operator":
        return True
    if principal.role == "agency":
        model, col = ProjectAgency, ProjectAgency.agency
    elif principal.role == "dpo":
        model, col = ProjectDpo, ProjectDpo.dpo  # type: ignore[assignment]
    else:
        return False
    found = session.execute(
        select(model.project_id).where(model.project_id == project_id, col == principal.subject)
    ).first()
    return found is not None


def project_for(session: Session, principal: Principal, project_id: str, request: Request,
                *, lock: bool = False) -> Project:
    """The project, if the principal may see it; 404 otherwise (existence is not revealed)."""
    stmt = select(Project).where(Project.id == project_id)
    if lock:
        stmt = stmt.with_for_update()
    project = session.execute(stmt).scalar_one_or_none()
    if project is None or not is_member(session, principal, project_id):
        raise NotFound("project", audit=_denied(principal, request, project_id))
    return project
