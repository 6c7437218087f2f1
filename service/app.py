"""The FastAPI application factory.

``create_app(settings)`` builds the app; nothing happens until its lifespan starts: then the
data folder and master key are prepared, migrations run (embedded SQLite by default),
leftovers of interrupted uploads are swept, uploads past their retention are erased,
interrupted runs are recovered and the run worker starts.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from linkage import __version__
from service.db.migrate import upgrade
from service.db.models import Upload
from service.db.session import Database
from service.errors import install_error_handlers
from service.routers import audit as audit_router
from service.routers import (
    credentials,
    dpo_pages,
    misc,
    privacy,
    projects,
    results,
    runs,
    uploads,
)
from service.runs import RunManager
from service.settings import Settings, load_master_key
from service.storage import BlobStore

__all__ = ["API_PREFIX", "ServiceState", "create_app", "freeze_startup_objects", "open_state"]

log = logging.getLogger("service")

API_PREFIX = "/api/v1"
_LEFTOVER_AGE = 3600.0


class ServiceState:
    """What the running service holds: settings, database, blob store and run worker."""

    def __init__(self, settings: Settings, *, migrate: bool | None = None):
        self.settings = settings
        _private_dir(settings.data_dir)
        self.db = Database(settings.effective_database_url, settings=settings)
        if settings.should_migrate if migrate is None else migrate:
            upgrade(self.db)
        self.store = BlobStore(settings.blob_dir, load_master_key(settings),
                               chunk_size=settings.blob_chunk_bytes)
        self.store.ensure_dirs()
        _private_dir(settings.tmp_dir)
        self.runs = RunManager(self.db, self.store, settings)

    def sweep_leftovers(self, older_than: float = _LEFTOVER_AGE) -> None:
        """Remove incoming blobs of unfinished uploads, plaintext temporary files and blobs
        no upload refers to (all older than ``older_than`` seconds)."""
        self.store.sweep_incoming(older_than)
        with self.db.read_session() as s:
            known = set(s.execute(select(Upload.blob_name).where(
                Upload.blob_name.is_not(None))).scalars())
            s.commit()
        self.store.sweep_orphans(known, older_than)
        _sweep_tmp(self.settings, older_than)

    def close(self) -> None:
        self.runs.stop()
        self.db.dispose()


def open_state(settings: Settings | None = None, *, migrate: bool | None = None) -> ServiceState:
    return ServiceState(settings or Settings(), migrate=migrate)


def _private_dir(path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def _sweep_tmp(settings: Settings, older_than: float) -> None:
    cutoff = time.time() - older_than
    for p in settings.tmp_dir.glob("*"):
        try:
            if p.is_file() and p.stat().st_mtime < cutoff:
                os.unlink(p)
        except OSError:
            pass


def freeze_startup_objects() -> None:
    """Exclude the objects that exist after start-up (modules, the app, its routes, the
    ORM mappings: a few hundred thousand) from the cyclic garbage collector's scans. They
    live as long as the process; without this, every full collection during a run (the
    engine allocates hundreds of thousands of result objects) walks them again, about 0.1 s
    each. Only for long-lived server processes (``linkage-service serve`` and ``worker``):
    objects frozen here are never freed by the cycle collector."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None,
               freeze_gc: bool = False) -> FastAPI:
    """The ASGI app. ``freeze_gc``: once started, exclude the start-up objects from
    garbage collection (``freeze_startup_objects``; the ``serve`` command sets it)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: ServiceState = await run_in_threadpool(open_state, settings)
        app.state.service = state
        app.state.settings, app.state.db = state.settings, state.db
        app.state.store, app.state.runs = state.store, state.runs
        await run_in_threadpool(state.sweep_leftovers)
        await run_in_threadpool(state.runs.purge_expired)  # uploads past their retention
        await run_in_threadpool(state.runs.recover_interrupted)
        if freeze_gc:
            freeze_startup_objects()
        if settings.run_worker if run_worker is None else run_worker:
            state.runs.start()
        try:
            yield
        finally:
            await run_in_threadpool(state.close)

    app = FastAPI(
        title="PPRL central linkage service",
        version=__version__,
        description="Links agencies' encodings (never plaintext or keys). Every endpoint "
        "except /health needs `Authorization: Bearer <token>`. Every error has the shape "
        '`{"error": {"code": ..., "message": ...}}`.',
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (misc, projects, credentials, uploads, privacy, runs, results, audit_router):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(dpo_pages.router)  # the DPO's HTML pages under /dpo (issue 6)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with FastAPI's default validation error replaced by the one
    error shape the service actually returns."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path in schema.get("paths", {}).values():
        for op in path.values():
            responses = op.get("responses", {})
            if "422" in responses:
                responses["422"] = {
                    "description": responses["422"].get("description", "Invalid request")
                    if responses["422"].get("description") != "Validation Error"
                    else "Invalid request",
                    "content": {"application/json": {"schema": ref}},
                }
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema
