"""Fixtures of the service tests.

Every test that uses ``db_url`` (and so ``service``) runs on SQLite and, when reachable, on
PostgreSQL (``LINKAGE_TEST_POSTGRES_URL``, default postgres@127.0.0.1:5432/test); with
``LINKAGE_TEST_REQUIRE_POSTGRES=1`` an unreachable server fails the tests instead of
skipping them. Each test gets its own clean database: a fresh SQLite file, or a PostgreSQL
database created for the test (from a migrated template) and dropped afterwards.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _service_helpers import Api, operator_token

PG_URL = os.environ.get("LINKAGE_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("LINKAGE_TEST_REQUIRE_POSTGRES") == "1"



def pytest_configure(config):
    # starlette's TestClient warns that it will move from httpx to httpx2.
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


# --- PostgreSQL ----------------------------------------------------------------------------

_pg_state: dict = {}


def _pg_admin():
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    return psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432,
                           user=url.username or "postgres", password=url.password,
                           dbname=url.database or "postgres", autocommit=True,
                           connect_timeout=3)


def _pg_reachable() -> bool:
    if "reachable" not in _pg_state:
        try:
            with _pg_admin():
                _pg_state["reachable"] = True
        except Exception as exc:  # no server, no driver, refused
            _pg_state["reachable"] = False
            _pg_state["why"] = f"{type(exc).__name__}: {exc}"
    return _pg_state["reachable"]


def _pg_url(dbname: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_URL).set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template():
    """A migrated template database (per test session / xdist worker)."""
    if not _pg_reachable():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but unreachable ({_pg_state.get('why')})")
        pytest.skip(f"PostgreSQL unreachable ({_pg_state.get('why')})")
    from service.db.migrate import upgrade
    from service.db.session import Database

    name = f"pprl_tmpl_{secrets.token_hex(4)}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(_pg_url(name))
    upgrade(db)
    db.dispose()
    yield name
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend, tmp_path, request):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"pprl_test_{secrets.token_hex(6)}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the service ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for k in list(os.environ):
        if k.startswith("LINKAGE_SERVICE_"):
            monkeypatch.delenv(k)


@pytest.fixture
def make_settings(tmp_path, db_url):
    from service.settings import Settings

    def make(**overrides):
        values = dict(
            data_dir=tmp_path / "data",
            database_url=db_url,
            auto_migrate=True,
            master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
            run_heartbeat_seconds=0.2,
            run_stale_after_seconds=2.0,
            run_poll_seconds=0.05,
            max_upload_bytes=20 * 1024**2,
            blob_chunk_bytes=64 * 1024,
            sqlite_synchronous="NORMAL",
            run_threads=1,
        )
        values.update(overrides)
        return Settings(**values)

    return make


class Service:
    """A running app (TestClient with lifespan) plus an operator token."""

    def __init__(self, app, client, operator: str):
        self.app = app
        self.client = client
        self.api = Api(client)
        self.operator = operator

    @property
    def state(self):
        return self.app.state.service

    def token(self, role: str, subject: str) -> str:
        return self.api.credential(self.operator, role, subject)


@pytest.fixture
def start_service(make_settings):
    from fastapi.testclient import TestClient

    from service.app import create_app

    started: list = []

    def start(settings=None, **overrides) -> Service:
        settings = (make_settings(**overrides) if settings is None
                    else settings.model_copy(update=overrides))
        app = create_app(settings)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        started.append(client)
        return Service(app, client, operator_token(app.state.service))

    yield start
    for client in reversed(started):
        client.__exit__(None, None, None)


@pytest.fixture
def service(start_service) -> Service:
    return start_service()
