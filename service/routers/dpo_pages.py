"""The data-protection officer's pages: server-rendered HTML, no JavaScript.

Mount with ``app.include_router(dpo_pages.router)`` (the router carries its ``/dpo`` prefix).

Sign-in: the DPO posts the API token the operator issued. It is checked like a bearer token
(``service.auth``) and never stored: the session cookie holds the credential id, the times,
a random nonce and an HMAC over them and the credential's stored token hash, under a key derived from the
server master key. Every request re-reads the credential, so revoking or expiring it ends
the session at once; a changed master key ends every session. The cookie is HttpOnly,
SameSite=Strict, Secure over https, and scoped to ``/dpo``; forms also carry a CSRF token
derived from the session.

Every page view, download, chain check, sign-in and sign-out is an audit entry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.auth import SessionDep, hash_token, parse_token
from service.db.models import Credential, Project, ProjectDpo, Run, utcnow
from service.reports.build import (
    assigned_projects,
    build_project_report,
    build_run_report,
    verification,
)
from service.reports.model import DEFAULT_K, AuditVerification
from service.reports.render import (
    PageChrome,
    export_report,
    render_page,
    render_project_report,
    render_run_report,
)
from service.settings import load_master_key

__all__ = ["COOKIE", "PREFIX", "SESSION_SECONDS", "router"]

PREFIX = "/dpo"
COOKIE = "pprl_dpo_session"
SESSION_SECONDS = 8 * 3600
_DUMMY_HASH = hashlib.sha256(b"no such credential").hexdigest()
_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")

router = APIRouter(prefix=PREFIX, include_in_schema=False)


# --- session cookie ------------------------------------------------------------------------


@dataclass(frozen=True)
class DpoSession:
    subject: str
    credential_id: str
    mac: str
    csrf: str

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor("dpo", self.subject)


def _session_key(request: Request) -> bytes:
    # Derived per request from the master key (keys are never cached in memory).
    master = load_master_key(request.app.state.settings)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"pprl-linkage dpo session cookie v1").derive(master)


def _mac(key: bytes, cid: str, issued: int, expires: int, nonce: str, secret_hash: str) -> str:
    msg = f"{cid}.{issued}.{expires}.{nonce}.{secret_hash}".encode("ascii")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def _csrf(key: bytes, mac: str) -> str:
    return hmac.new(key, f"csrf.{mac}".encode("ascii"), hashlib.sha256).hexdigest()


_COOKIE_RE = re.compile(r"^([0-9a-f]{16})\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{16})\.([0-9a-f]{64})$")


def _current(request: Request, session: Session) -> DpoSession | None:
    """The signed-in DPO, or None: bad, expired or forged cookie, or a credential that is no
    longer a valid DPO credential."""
    m = _COOKIE_RE.match(request.cookies.get(COOKIE, ""))
    if m is None:
        return None
    cid, issued, expires, nonce, mac = (m.group(1), int(m.group(2)), int(m.group(3)),
                                        m.group(4), m.group(5))
    row = session.get(Credential, cid)
    key = _session_key(request)
    expected = _mac(key, cid, issued, expires, nonce, row.secret_hash if row else _DUMMY_HASH)
    now = utcnow()
    valid = (hmac.compare_digest(expected, mac) and row is not None and row.role == "dpo"
             and row.revoked_at is None and row.expires_at > now and expires > time.time())
    session.rollback()
    if not valid:
        return None
    assert row is not None
    return DpoSession(row.subject, cid, mac, _csrf(key, mac))


def _signed_in_cookie(request: Request, row: Credential) -> tuple[str, int]:
    issued = int(time.time())
    expires = min(issued + SESSION_SECONDS, int(row.expires_at.timestamp()))
    nonce = secrets.token_hex(8)  # every sign-in is its own session (and CSRF token)
    mac = _mac(_session_key(request), row.id, issued, expires, nonce, row.secret_hash)
    return f"{row.id}.{issued}.{expires}.{nonce}.{mac}", max(0, expires - issued)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


# --- responses -------------------------------------------------------------------------------


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=_headers())


def _headers() -> dict[str, str]:
    return {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
            "Cache-Control": "no-store"}


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=_headers())


def _to_signin() -> RedirectResponse:
    return _redirect(f"{PREFIX}/signin")


def _urls(project_id: str | None = None, run_id: str | None = None) -> dict[str, str]:
    urls = {"projects": f"{PREFIX}/projects", "signout": f"{PREFIX}/signout"}
    if project_id is not None:
        base = f"{PREFIX}/projects/{quote(project_id, safe='')}"
        urls.update(project=base, run_prefix=f"{base}/runs/", verify=f"{base}/verify")
        if run_id is not None:
            run = f"{base}/runs/{quote(run_id, safe='')}"
            urls.update(run=run, download=f"{run}/report.html", verify=f"{run}/verify")
    return urls


def _chrome(dpo: DpoSession, urls: dict[str, str],
            notice: AuditVerification | None = None) -> PageChrome:
    return PageChrome(user=dpo.subject, csrf=dpo.csrf, urls=urls, notice=notice)


def _k(request: Request) -> int:
    # The small-count threshold: the service setting ``report_min_count`` when it exists.
    return int(getattr(request.app.state.settings, "report_min_count", DEFAULT_K))


def _not_found(session: Session, dpo: DpoSession, request: Request, project_id: str) -> HTMLResponse:
    """Unassigned and missing projects or runs look the same (existence is not revealed)."""
    audit.record(session, dpo.actor, "access.denied", f"{request.method} {request.url.path}",
                 "denied", project_id=project_id)
    session.commit()
    body = render_page("error.html", chrome=_chrome(dpo, _urls()), title="Not found",
                       message="There is no such project or run among the projects assigned to you.")
    return _html(body, 404)


def _assigned(session: Session, dpo: DpoSession, project_id: str) -> Project | None:
    found = session.execute(
        select(Project).join(ProjectDpo, ProjectDpo.project_id == Project.id)
        .where(Project.id == project_id, ProjectDpo.dpo == dpo.subject)
    ).scalar_one_or_none()
    return found


def _run(session: Session, project_id: str, run_id: str) -> Run | None:
    return session.execute(select(Run).where(Run.id == run_id, Run.project_id == project_id,
                                             Run.status == "succeeded")).scalar_one_or_none()


def _csrf_ok(dpo: DpoSession, token: str) -> bool:
    return hmac.compare_digest(dpo.csrf, token or "")


# --- sign in / out -----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    return _redirect(f"{PREFIX}/projects" if _current(request, session) else f"{PREFIX}/signin")


def _signin_page(error: str = "", status: int = 200) -> HTMLResponse:
    body = render_page("signin.html", chrome=None, action=f"{PREFIX}/signin", error=error,
                       session_hours=SESSION_SECONDS // 3600)
    return _html(body, status)


@router.get("/signin", response_class=HTMLResponse)
def signin_form() -> HTMLResponse:
    return _signin_page()


@router.post("/signin", response_class=HTMLResponse)
def signin(request: Request, session: SessionDep, token: Annotated[str, Form(max_length=200)] = ""
           ) -> Response:
    token = token.strip()
    cid = parse_token(token) if token.isascii() else None
    row = session.get(Credential, cid) if cid else None
    stored = row.secret_hash if row is not None else _DUMMY_HASH
    hash_ok = hmac.compare_digest(stored, hash_token(token) if token.isascii() else "")
    valid = (row is not None and hash_ok and row.revoked_at is None and row.expires_at > utcnow())
    if not valid or row is None or row.role != "dpo":
        actor = audit.Actor(row.role, row.subject) if valid and row else audit.Actor("anonymous")
        action = "access.denied" if valid else "auth.failed"
        audit.record(session, actor, action, f"POST {PREFIX}/signin", "denied")
        session.commit()
        # One message for unknown, wrong, expired, revoked and non-DPO tokens.
        return _signin_page("Sign-in failed. Check that you pasted your whole DPO token, and "
                            "ask the service operator if it has expired.", 401)
    value, max_age = _signed_in_cookie(request, row)
    audit.record(session, audit.Actor("dpo", row.subject), "auth.signed_in", "dpo pages")
    session.commit()
    response = _redirect(f"{PREFIX}/projects")
    response.set_cookie(COOKIE, value, max_age=max_age, path=PREFIX, httponly=True,
                        samesite="strict", secure=_secure(request))
    return response


@router.post("/signout")
def signout(request: Request, session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    dpo = _current(request, session)
    if dpo is not None and _csrf_ok(dpo, csrf):
        audit.record(session, dpo.actor, "auth.signed_out", "dpo pages")
        session.commit()
    response = _to_signin()
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict",
                           secure=_secure(request))
    return response


# --- pages -----------------------------------------------------------------------------------------


@router.get("/projects", response_class=HTMLResponse)
def projects(request: Request, session: SessionDep) -> Response:
    dpo = _current(request, session)
    if dpo is None:
        return _to_signin()
    rows = assigned_projects(session, dpo.subject)
    for p in rows:
        p["url"] = _urls(p["id"])["project"]
    audit.record(session, dpo.actor, "report.viewed", "project list")
    session.commit()
    return _html(render_page("projects.html", chrome=_chrome(dpo, _urls()), projects=rows))


def _project_page(request: Request, session: Session, project_id: str,
                  notice: AuditVerification | None = None) -> Response:
    dpo = _current(request, session)
    if dpo is None:
        return _to_signin()
    project = _assigned(session, dpo, project_id)
    if project is None:
        return _not_found(session, dpo, request, project_id)
    report = build_project_report(session, project)
    if notice is None:
        audit.record(session, dpo.actor, "report.viewed", f"project {project_id}",
                     project_id=project_id)
        session.commit()
    body = render_project_report(report, k=_k(request),
                                 chrome=_chrome(dpo, _urls(project_id), notice))
    return _html(body)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
def project_page(project_id: str, request: Request, session: SessionDep) -> Response:
    return _project_page(request, session, project_id)


def _run_page(request: Request, session: Session, project_id: str, run_id: str,
              notice: AuditVerification | None = None) -> Response:
    dpo = _current(request, session)
    if dpo is None:
        return _to_signin()
    project = _assigned(session, dpo, project_id)
    run = _run(session, project_id, run_id) if project is not None else None
    if project is None or run is None:
        return _not_found(session, dpo, request, project_id)
    if notice is None:
        audit.record(session, dpo.actor, "report.viewed", f"run {run_id}", project_id=project_id)
        session.commit()
    report = build_run_report(session, project, run)
    session.rollback()
    body = render_run_report(report, k=_k(request),
                             chrome=_chrome(dpo, _urls(project_id, run_id), notice))
    return _html(body)


@router.get("/projects/{project_id}/runs/{run_id}", response_class=HTMLResponse)
def run_page(project_id: str, run_id: str, request: Request, session: SessionDep) -> Response:
    return _run_page(request, session, project_id, run_id)


@router.get("/projects/{project_id}/runs/{run_id}/report.html")
def download_report(project_id: str, run_id: str, request: Request, session: SessionDep
                    ) -> Response:
    """The run report as one self-contained HTML file, with the audit chain checked now and
    its head recorded in the file."""
    dpo = _current(request, session)
    if dpo is None:
        return _to_signin()
    project = _assigned(session, dpo, project_id)
    run = _run(session, project_id, run_id) if project is not None else None
    if project is None or run is None:
        return _not_found(session, dpo, request, project_id)
    check = verification(audit.verify(session))
    session.rollback()
    report = build_run_report(session, project, run, audit_check=check)
    session.rollback()
    data = export_report(report, k=_k(request))
    audit.record(session, dpo.actor, "report.downloaded", f"run {run_id}", project_id=project_id,
                 detail={"audit_head_seq": check.head_seq, "audit_chain_ok": check.ok})
    session.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"dpo-report-{run_id}-{stamp}.html")
    headers = {**_headers(), "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type="text/html; charset=utf-8", headers=headers)


def _verify(request: Request, session: Session, project_id: str, csrf: str
            ) -> tuple[DpoSession | None, AuditVerification | None, Response | None]:
    dpo = _current(request, session)
    if dpo is None:
        return None, None, _to_signin()
    if _assigned(session, dpo, project_id) is None:
        return dpo, None, _not_found(session, dpo, request, project_id)
    if not _csrf_ok(dpo, csrf):
        body = render_page("error.html", chrome=_chrome(dpo, _urls()), title="Request refused",
                           message="The form has expired. Open the page again and retry.")
        return dpo, None, _html(body, 403)
    result = verification(audit.verify(session))
    session.rollback()
    audit.record(session, dpo.actor, "audit.verified", "audit trail",
                 "success" if result.ok else "broken", project_id=project_id,
                 detail={"entries": result.entries, "first_broken": result.first_broken})
    session.commit()
    return dpo, result, None


@router.post("/projects/{project_id}/verify", response_class=HTMLResponse)
def verify_from_project(project_id: str, request: Request, session: SessionDep,
                        csrf: Annotated[str, Form()] = "") -> Response:
    _, result, early = _verify(request, session, project_id, csrf)
    return early or _project_page(request, session, project_id, notice=result)


@router.post("/projects/{project_id}/runs/{run_id}/verify", response_class=HTMLResponse)
def verify_from_run(project_id: str, run_id: str, request: Request, session: SessionDep,
                    csrf: Annotated[str, Form()] = "") -> Response:
    _, result, early = _verify(request, session, project_id, csrf)
    return early or _run_page(request, session, project_id, run_id, notice=result)
