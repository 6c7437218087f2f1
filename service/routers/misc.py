"""Health and identity."""

from __future__ import annotations

from fastapi import APIRouter, Request

from linkage import __version__
from service.auth import CurrentPrincipal
from service.errors import error_responses
from service.schemas import HealthOut, MeOut

__all__ = ["router"]

router = APIRouter(tags=["service"])


@router.get("/health", response_model=HealthOut, summary="Liveness (no authentication)")
def health() -> HealthOut:
    return HealthOut(version=__version__)


@router.get("/me", response_model=MeOut, summary="The caller's role and name",
            responses=error_responses(401))
def me(principal: CurrentPrincipal, request: Request) -> MeOut:
    return MeOut(role=principal.role, subject=principal.subject,  # type: ignore[arg-type]
                 credential_id=principal.credential_id, expires_at=principal.expires_at,
                 max_upload_bytes=request.app.state.settings.max_upload_bytes)
