"""One JSON error shape for every error: ``{"error": {"code": ..., "message": ...}}``.

Route code raises a ``ServiceError`` subclass; the handlers registered by
``install_error_handlers`` turn it, request validation errors, unknown routes and
unexpected exceptions into that shape. A ``ServiceError`` may carry an audit event (failed
authentication, denied access, rejected upload), which the handler writes in its own
transaction after the request's transaction was rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from linkage.errors import DecryptionError

__all__ = [
    "AuditEvent",
    "Conflict",
    "ErrorBody",
    "ErrorResponse",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "ServiceError",
    "Unauthenticated",
    "UnprocessableUpload",
    "error_responses",
    "install_error_handlers",
]

log = logging.getLogger("service")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable error code.")
    message: str = Field(description="Human-readable explanation (never contains data values).")
    details: list[dict[str, Any]] | None = Field(
        None, description="Validation errors: location and reason of each invalid input."
    )


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorBody


@dataclass
class AuditEvent:
    actor_role: str
    actor_name: str | None
    action: str
    object: str
    outcome: str
    project_id: str | None = None
    detail: dict[str, Any] | None = None


class ServiceError(Exception):
    """An error with an HTTP status, a stable code and a message (never a data value)."""

    def __init__(self, status: int, code: str, message: str, *,
                 headers: dict[str, str] | None = None, audit: AuditEvent | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.audit = audit


class Unauthenticated(ServiceError):
    """One response for unknown, malformed, wrong, expired and revoked tokens."""

    def __init__(self, audit: AuditEvent | None = None):
        super().__init__(401, "unauthenticated", "authentication failed",
                         headers={"WWW-Authenticate": "Bearer"}, audit=audit)


class Forbidden(ServiceError):
    def __init__(self, message: str = "this credential may not do this", *,
                 audit: AuditEvent | None = None):
        super().__init__(403, "forbidden", message, audit=audit)


class NotFound(ServiceError):
    def __init__(self, what: str, *, audit: AuditEvent | None = None):
        super().__init__(404, "not_found", f"{what} not found", audit=audit)


class Conflict(ServiceError):
    def __init__(self, code: str, message: str):
        super().__init__(409, code, message)


class PayloadTooLarge(ServiceError):
    def __init__(self, limit: int, *, audit: AuditEvent | None = None):
        super().__init__(413, "too_large", f"upload exceeds the limit of {limit} bytes",
                         audit=audit)


class UnprocessableUpload(ServiceError):
    def __init__(self, code: str, message: str, *, audit: AuditEvent | None = None):
        super().__init__(422, code, message, audit=audit)


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, unknown, expired or revoked credential (always the same response)",
    403: "The credential's role may not do this",
    404: "Not found, or not visible to this credential",
    409: "Conflicts with the current state",
    413: "Upload larger than the configured limit",
    415: "Unsupported upload media type",
    422: "Invalid request or rejected upload",
    500: "Internal error",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries in the common error shape."""
    return {s: {"model": ErrorResponse, "description": _DESCRIPTIONS[s]} for s in statuses}


def _body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def _write_audit(request: Request, event: AuditEvent) -> None:
    from service import audit  # local import: audit imports this module's types

    db = request.app.state.db
    with db.transaction() as session:
        audit.record(session, audit.Actor(event.actor_role, event.actor_name), event.action,
                     event.object, event.outcome, project_id=event.project_id,
                     detail=event.detail)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if exc.audit is not None:
            try:
                await run_in_threadpool(_write_audit, request, exc.audit)
            except Exception:
                log.exception("could not write audit entry for a failed request")
                return JSONResponse(_body("internal_error", "internal error"), status_code=500)
        return JSONResponse(_body(exc.code, exc.message), status_code=exc.status,
                            headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]  # input values are left out on purpose
        return JSONResponse(_body("validation_error", "invalid request", details),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        code = codes.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.status_code != 404 else "not found"
        return JSONResponse(_body(code, message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(DecryptionError)
    async def _decryption(request: Request, exc: DecryptionError) -> JSONResponse:
        log.error("stored data failed authentication during %s %s", request.method,
                  request.url.path)
        return JSONResponse(_body("decryption_failed", "stored data could not be decrypted"),
                            status_code=500)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s during %s %s", type(exc).__name__, request.method,
                  request.url.path)
        return JSONResponse(_body("internal_error", "internal error"), status_code=500)
