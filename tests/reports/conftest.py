"""Shared fixtures of the report tests; helper modules are importable by their unique names."""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config):
    # starlette's TestClient warns that it will move from httpx to httpx2.
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


def service_settings(tmp: Path, **overrides):
    from service.settings import Settings

    values = dict(
        data_dir=tmp / "data",
        database_url=f"sqlite:///{tmp / 'service.db'}",
        auto_migrate=True,
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        run_heartbeat_seconds=0.2,
        run_poll_seconds=0.05,
        sqlite_synchronous="NORMAL",
        run_threads=1,
    )
    values.update(overrides)
    return Settings(**values)


def operator_token(state) -> str:
    from service import audit
    from service.auth import issue_credential

    with state.db.transaction() as s:
        cred, token = issue_credential(s, role="operator", subject="root", label="tests",
                                       days=30, created_by="tests")
        audit.record(s, audit.Actor("system", "tests"), "credential.issued", f"credential {cred.id}")
    return token


@pytest.fixture(scope="module")
def dpo_service(tmp_path_factory):
    """A running app (TestClient, lifespan on) with the DPO pages and one finished run."""
    from _report_service import dpo_app, run_scenario
    from fastapi.testclient import TestClient

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("LINKAGE_SERVICE_")}
    tmp = tmp_path_factory.mktemp("dpo")
    app = dpo_app(service_settings(tmp))
    with TestClient(app, raise_server_exceptions=True) as client:
        scenario = run_scenario(client, operator_token(app.state.service), tmp)
        yield app, client, scenario
    os.environ.update(saved)


PG_URL = os.environ.get("LINKAGE_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin():
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    return psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432,
                           user=url.username or "postgres", password=url.password,
                           dbname=url.database or "postgres", autocommit=True, connect_timeout=3)


@pytest.fixture(scope="module")
def postgres_url():
    """A fresh PostgreSQL database for the module (skipped when unreachable, unless
    LINKAGE_TEST_REQUIRE_POSTGRES=1)."""
    from sqlalchemy.engine import make_url

    try:
        admin = _pg_admin()
    except Exception as exc:
        if os.environ.get("LINKAGE_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable ({type(exc).__name__}: {exc})")
        pytest.skip(f"PostgreSQL unreachable ({type(exc).__name__})")
    name = f"pprl_reports_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dpo_service_pg(tmp_path_factory, postgres_url):
    """As ``dpo_service``, on PostgreSQL."""
    from _report_service import dpo_app, run_scenario
    from fastapi.testclient import TestClient

    tmp = tmp_path_factory.mktemp("dpo-pg")
    app = dpo_app(service_settings(tmp, database_url=postgres_url))
    with TestClient(app, raise_server_exceptions=True) as client:
        yield app, client, run_scenario(client, operator_token(app.state.service), tmp)
