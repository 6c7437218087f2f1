"""The DPO report's project settings: the linkage schema, retention of uploads (with the
purge of expired uploads) and privacy evaluations shared by agencies. Both backends."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from _service_helpers import (
    FINGERPRINT,
    metadata,
    party_data,
    population,
    three_agency_files,
    write_file,
)
from sqlalchemy import select, update

from linkage.schema import default_schema
from service.db.models import AuditEntry, Project, Upload, utcnow
from service.reports.build import build_project_report, build_run_report
from service.reports.render import render_project_report, render_run_report

AGENCIES = ("agency-a", "agency-b", "agency-c")


def _project_row(service, pid: str) -> Project:
    with service.state.db.read_session() as s:
        p = s.get(Project, pid)
        s.expunge(p)
        s.commit()
    return p


def _reports(service, pid: str, run_id: str | None = None) -> tuple[str, str | None]:
    from service.db.models import Run

    with service.state.db.read_session() as s:
        project = s.get(Project, pid)
        html = render_project_report(build_project_report(s, project))
        run_html = None
        if run_id is not None:
            run_html = render_run_report(build_run_report(s, project, s.get(Run, run_id)))
        s.commit()
    return html, run_html


# --- linkage schema ----------------------------------------------------------------------


def test_schema_is_validated_stored_and_shown(service, tmp_path):
    api, op = service.api, service.operator
    schema = default_schema()
    doc = schema.model_dump(mode="json")
    fp = schema.fingerprint()
    pid = api.project(op, schema_fingerprint=fp, linkage_schema=doc)
    got = api.get(f"/projects/{pid}", op).json()
    assert got["linkage_schema"] == doc and got["schema_fingerprint"] == fp

    # a run over uploads of this schema: the run report shows its settings
    pop = population(40, seed=3)
    tokens = {a: service.token("agency", a) for a in ("agency-a", "agency-b")}
    for k, a in enumerate(tokens):
        raw = write_file(tmp_path / f"{a}.parquet",
                         party_data(pop, range(30), prefix=a[-1], seed=k + 1),
                         metadata(schema_fingerprint=fp))
        assert api.upload(tokens[a], pid, raw).status_code == 201
    run = api.start_run(op, pid).json()
    assert api.wait_run(op, pid, run["id"])["status"] == "succeeded"
    project_html, run_html = _reports(service, pid, run["id"])
    for html in (project_html, run_html):
        for f in schema.fields:
            assert f"<th scope=\"row\">{f.name}</th><td class=\"num\">{f.weight}</td>" in html
        for key in schema.blocking_keys:
            assert key.name in html
        assert "diffusion_inputs" in html and "hash_function" in html
        assert "not reported to the service" not in html
        assert "did not give the linkage schema" not in html


def test_schema_errors(service):
    api, op = service.api, service.operator
    doc = default_schema().model_dump(mode="json")
    body = {"name": "p", "key_id": "k", "filter_bits": 1024, "agencies": [{"name": "agency-a"}]}
    # the fingerprint must be the schema's
    r = api.post("/projects", op, json={**body, "schema_fingerprint": FINGERPRINT,
                                        "linkage_schema": doc})
    assert r.status_code == 422 and r.json()["error"]["code"] == "linkage_schema_mismatch"
    # an invalid schema document
    bad = copy.deepcopy(doc)
    bad["fields"][0]["weight"] = 1000
    r = api.post("/projects", op, json={**body, "schema_fingerprint": FINGERPRINT,
                                        "linkage_schema": bad})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_linkage_schema"
    bad = {**doc, "secret_key": "x"}
    r = api.post("/projects", op, json={**body, "schema_fingerprint": FINGERPRINT,
                                        "linkage_schema": bad})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_linkage_schema"
    assert "1 problem" in r.json()["error"]["message"]


def test_without_schema_the_report_explains(service):
    api, op = service.api, service.operator
    pid = api.project(op)
    assert api.get(f"/projects/{pid}", op).json()["linkage_schema"] is None
    html, _ = _reports(service, pid)
    assert "did not give the linkage schema" in html


# --- retention ---------------------------------------------------------------------------


@pytest.fixture
def three(service, tmp_path):
    api, op = service.api, service.operator
    pid = api.project(op, agencies=AGENCIES, retention_days=30)
    tokens = {a: service.token("agency", a) for a in AGENCIES}
    ups = {}
    for a, raw in three_agency_files(tmp_path, n=90).items():
        r = api.upload(tokens[a], pid, raw)
        assert r.status_code == 201
        ups[a] = r.json()
    return dict(service=service, api=api, op=op, pid=pid, tokens=tokens, uploads=ups)


def _dt(s: str):
    from datetime import datetime

    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_delete_after_follows_the_project_retention(three):
    api, op, pid = three["api"], three["op"], three["pid"]
    up = three["uploads"]["agency-a"]
    assert _dt(up["delete_after"]) - _dt(up["created_at"]) == timedelta(days=30)
    html, _ = _reports(three["service"], pid)
    assert "erased 30 days after" in html and "held until deletion date" in html
    # changing the retention recomputes the dates of current uploads; null removes them
    assert api.req("PATCH", f"/projects/{pid}", op, json={"retention_days": 10}).status_code == 200
    got = api.get(f"/projects/{pid}/uploads/{up['id']}", three["tokens"]["agency-a"]).json()
    assert _dt(got["delete_after"]) - _dt(got["created_at"]) == timedelta(days=10)
    assert api.req("PATCH", f"/projects/{pid}", op, json={"retention_days": None}
                   ).status_code == 200
    got = api.get(f"/projects/{pid}/uploads/{up['id']}", three["tokens"]["agency-a"]).json()
    assert got["delete_after"] is None
    assert api.get(f"/projects/{pid}", op).json()["retention_days"] is None
    html, _ = _reports(three["service"], pid)
    assert "No retention period is set" in html


def test_default_retention_is_90_days(service):
    pid = service.api.project(service.operator)
    assert service.api.get(f"/projects/{pid}", service.operator).json()["retention_days"] == 90


def test_expired_upload_is_purged_and_not_used(three):
    service, api, op, pid = three["service"], three["api"], three["op"], three["pid"]
    expired = three["uploads"]["agency-a"]
    with service.state.db.transaction() as s:
        s.execute(update(Upload).where(Upload.id == expired["id"]).values(
            delete_after=utcnow() - timedelta(minutes=1)))
    blob = service.state.settings.blob_dir
    before = sorted(p for p in blob.rglob("*") if p.is_file())
    assert service.state.runs.purge_expired() == 1
    assert service.state.runs.purge_expired() == 0
    after = sorted(p for p in blob.rglob("*") if p.is_file())
    assert len(after) == len(before) - 1
    got = api.get(f"/projects/{pid}/uploads/{expired['id']}", three["tokens"]["agency-a"]).json()
    assert got["status"] == "deleted" and got["ended_at"] is not None
    with service.state.db.read_session() as s:
        row = s.get(Upload, expired["id"])
        assert row.blob_name is None
        actions = s.execute(select(AuditEntry.action, AuditEntry.actor_role, AuditEntry.object)
                            .where(AuditEntry.action == "upload.expired")).all()
        s.commit()
    assert actions == [("upload.expired", "system", f"upload {expired['id']}")]
    # a run afterwards links only the agencies that still hold an upload
    r = api.start_run(op, pid)
    assert r.status_code == 202, r.text
    run = api.wait_run(op, pid, r.json()["id"])
    assert run["status"] == "succeeded"
    assert sorted(run["agencies"]) == ["agency-b", "agency-c"]
    html, _ = _reports(service, pid)
    assert "erased" in html


def test_expired_uploads_are_purged_on_start_up(three, start_service):
    service = three["service"]
    with service.state.db.transaction() as s:
        s.execute(update(Upload).where(Upload.project_id == three["pid"]).values(
            delete_after=utcnow() - timedelta(seconds=1)))
    settings = service.state.settings
    service.client.__exit__(None, None, None)
    again = start_service(settings)
    with again.state.db.read_session() as s:
        statuses = set(s.execute(select(Upload.status).where(
            Upload.project_id == three["pid"])).scalars())
        s.commit()
    assert statuses == {"deleted"}


# --- privacy evaluations -----------------------------------------------------------------


def privacy_summary(fingerprint: str = FINGERPRINT, **changes) -> dict:
    """The shape `linkage privacy-check --json` writes (PrivacyReport.as_dict)."""
    attacks = [
        {"attack": "frequency", "encodings": 2000, "guesses": 40, "correct": 3,
         "precision": 0.075, "rate": 0.0015, "seconds": 0.2, "note": ""},
        {"attack": "pattern_mining", "encodings": 2000, "guesses": 120, "correct": 60,
         "precision": 0.5, "rate": 0.03, "seconds": 3.1, "note": "q-gram fields only"},
    ]
    body = {
        "schema_fingerprint": fingerprint, "encodings": 2000, "reference_records": 2000,
        "complement_pairs": 0, "max_rate": 0.01, "min_precision": 0.5, "passed": True,
        "attacks": attacks,
        "stats": {"encodings": 2000, "bits": 1024, "mean_fill": 0.5, "bit_frequency_cv": 0.01,
                  "bit_frequency_min": 0.48, "bit_frequency_max": 0.52,
                  "bit_frequency_entropy": 0.9999, "identical_share": 0.0,
                  "distinct_weights": 1, "weight_std": 0.0},
    }
    body.update(changes)
    return body


def test_privacy_evaluation_is_stored_and_shown(service):
    api, op = service.api, service.operator
    pid = api.project(op)
    tok = service.token("agency", "agency-a")
    url = f"/projects/{pid}/privacy-evaluation"
    r = api.post(url, tok, json=privacy_summary(passed=False))
    assert r.status_code == 201, r.text
    r = api.post(url, tok, json=privacy_summary())  # the latest replaces the previous one
    assert r.status_code == 201 and r.json()["passed"] is True
    html, _ = _reports(service, pid)
    assert "agency-a" in html and "passed: no attack exceeded" in html
    assert "pattern mining" in html and "50.0%" in html
    # 3 correct guesses are hidden, and so are their precision and rate
    assert "&lt; 5" in html and "0.15%" not in html and "7.5%" not in html
    assert "q-gram fields only" not in html  # notes are not kept
    with service.state.db.read_session() as s:
        n = s.execute(select(AuditEntry).where(AuditEntry.action == "privacy.shared")).all()
        s.commit()
    assert len(n) == 2


@pytest.mark.parametrize("change, code", [
    ({"records": [{"ref": "a-000001", "name": "Jane Doe"}]}, "validation_error"),
    ({"attacks": [{**privacy_summary()["attacks"][0], "guessed_refs": ["a-1"]}]},
     "validation_error"),
    ({"attacks": [{**privacy_summary()["attacks"][0], "correct": 50}]}, "validation_error"),
    ({"attacks": [privacy_summary()["attacks"][0]] * 5}, "validation_error"),
    ({"max_rate": 2.0}, "validation_error"),
    ({"schema_fingerprint": "0" * 64}, "schema_mismatch"),
])
def test_privacy_evaluation_is_strict(service, change, code):
    api, op = service.api, service.operator
    pid = api.project(op)
    tok = service.token("agency", "agency-a")
    r = api.post(f"/projects/{pid}/privacy-evaluation", tok, json=privacy_summary(**change))
    assert r.status_code == 422 and r.json()["error"]["code"] == code
    assert "Jane Doe" not in r.text


def test_privacy_evaluation_is_for_member_agencies_only(service):
    api, op = service.api, service.operator
    pid = api.project(op)
    url = f"/projects/{pid}/privacy-evaluation"
    assert api.post(url, op, json=privacy_summary()).status_code == 403
    assert api.post(url, service.token("dpo", "dpo-1"), json=privacy_summary()).status_code == 403
    assert api.post(url, service.token("agency", "other"), json=privacy_summary()
                    ).status_code == 404


def test_agency_client_shares_the_summary(service):
    from linkage.client import ClientError, ServiceClient

    pid = service.api.project(service.operator)
    tok = service.token("agency", "agency-a")
    transport = service.client._transport  # the TestClient's in-process transport
    with ServiceClient("http://testserver", tok, transport=transport) as client:
        got = client.share_privacy_evaluation(pid, privacy_summary())
        assert got["agency"] == "agency-a" and got["passed"] is True
        with pytest.raises(ClientError, match="schema_mismatch"):
            client.share_privacy_evaluation(pid, privacy_summary("1" * 64))
