"""Credentials: random tokens stored only as hashes; every kind of bad token gets the same
401; revocation and expiry take effect at once; failed authentication is audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, text, update
from typer.testing import CliRunner

from service.auth import parse_token
from service.db.models import AuditEntry, Credential, utcnow


def _bad_tokens(service, good: str) -> dict[str, dict]:
    cid = parse_token(good)
    wrong_secret = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    return {
        "none": {},
        "not bearer": {"Authorization": f"Basic {good}"},
        "malformed": {"Authorization": "Bearer nonsense"},
        "unknown id": {"Authorization": f"Bearer lk_{'0' * 16}_{good.split('_', 2)[2]}"},
        "wrong secret": {"Authorization": f"Bearer {wrong_secret}"},
        "non-ascii": {"Authorization": "Bearer lk_\u00e4".encode("latin-1")},
        "known id only": {"Authorization": f"Bearer lk_{cid}"},
    }


def test_token_is_random_and_stored_as_hash_only(service):
    token = service.token("agency", "agency-a")
    assert token.startswith("lk_") and len(token) > 60
    assert parse_token(token) is not None
    other = service.token("agency", "agency-a")
    assert other != token
    with service.state.db.session() as s:
        cred = s.get(Credential, parse_token(token))
        assert cred.secret_hash == hashlib.sha256(token.encode()).hexdigest()
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM credentials")).all()
                        for v in row)
    assert token not in dump and token.split("_", 2)[2] not in dump


def test_every_bad_token_gets_the_same_401(service):
    good = service.token("agency", "agency-a")
    responses = {}
    for label, headers in _bad_tokens(service, good).items():
        r = service.client.get("/api/v1/me", headers=headers)
        responses[label] = (r.status_code, r.json(), r.headers.get("www-authenticate"))
    expected = (401, {"error": {"code": "unauthenticated", "message": "authentication failed"}},
                "Bearer")
    assert all(v == expected for v in responses.values()), responses
    assert service.client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}
                              ).status_code == 200


def test_expired_and_revoked_tokens_get_the_same_401(service):
    api, op = service.api, service.operator
    expired = service.token("agency", "agency-a")
    revoked = service.token("agency", "agency-b")
    with service.state.db.transaction() as s:
        s.execute(update(Credential).where(Credential.id == parse_token(expired))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert api.get("/me", revoked).status_code == 200
    assert api.req("DELETE", f"/credentials/{parse_token(revoked)}", op).status_code == 204
    for token in (expired, revoked):
        r = api.get("/me", token)
        assert r.status_code == 401
        assert r.json() == {"error": {"code": "unauthenticated",
                                      "message": "authentication failed"}}
    listed = {c["id"]: c for c in api.get("/credentials", op).json()}
    assert listed[parse_token(revoked)]["active"] is False
    assert listed[parse_token(revoked)]["revoked_at"] is not None
    assert listed[parse_token(expired)]["active"] is False


def test_failed_authentication_is_audited_without_the_token(service):
    good = service.token("agency", "agency-a")
    bad = good[:-1] + ("x" if good[-1] != "x" else "y")
    service.api.get("/projects", bad)
    with service.state.db.session() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "auth.failed")
                            ).scalars().all()
    assert len(entries) == 1
    e = entries[0]
    assert (e.actor_role, e.actor_name, e.outcome) == ("anonymous", None, "denied")
    assert e.object == "GET /api/v1/projects"
    assert bad not in (e.detail or "") and bad not in e.object


def test_credential_lifetime_is_bounded(service):
    r = service.api.post("/credentials", service.operator,
                         json={"role": "agency", "subject": "agency-a",
                               "expires_in_days": 10_000})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = service.api.post("/credentials", service.operator,
                         json={"role": "agency", "subject": "agency-a", "expires_in_days": 2})
    assert r.status_code == 201
    body = r.json()
    from datetime import datetime

    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["created_at"])
    assert timedelta(days=2) - timedelta(seconds=5) < lifetime <= timedelta(days=2)


def test_invalid_credential_request_uses_the_error_shape(service):
    r = service.api.post("/credentials", service.operator,
                         json={"role": "root", "subject": "a b"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert {tuple(d["loc"]) for d in err["details"]} == {("body", "role"), ("body", "subject")}
    assert "a b" not in r.text  # input values are not echoed


def test_operator_bootstrap_from_the_cli(make_settings, db_url, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.cli import app as cli

    settings = make_settings()
    monkeypatch.setenv("LINKAGE_SERVICE_DATABASE_URL", db_url)
    monkeypatch.setenv("LINKAGE_SERVICE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LINKAGE_SERVICE_MASTER_KEY", settings.master_key.get_secret_value())
    result = CliRunner().invoke(cli, ["operator", "create-token", "--name", "ops", "--days", "5"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert parse_token(token)
    with TestClient(create_app(settings)) as client:
        r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        assert r.json()["role"] == "operator" and r.json()["subject"] == "ops"
