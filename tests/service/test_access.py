"""Every endpoint for every role: a matrix of role x endpoint -> expected status, plus what
each role may see in the answers (agency A never sees B's uploads, references or results;
the operator and DPO never see references)."""

from __future__ import annotations

import pytest
from _service_helpers import party_data, population, sha256, write_file

from service.auth import parse_token

ROLES = ["operator", "agency", "outsider", "dpo", "other_dpo", "anonymous"]


@pytest.fixture
def world(service, tmp_path):
    api, op = service.api, service.operator
    pid = api.project(op, agencies=("agency-a", "agency-b"), dpos=("dpo-1",))
    spare_project = api.project(op, agencies=("agency-a",), dpos=())
    tokens = {
        "operator": op,
        "agency": service.token("agency", "agency-a"),
        "agency_b": service.token("agency", "agency-b"),
        "outsider": service.token("agency", "agency-x"),
        "dpo": service.token("dpo", "dpo-1"),
        "other_dpo": service.token("dpo", "dpo-2"),
        "anonymous": None,
    }
    spare_cred = parse_token(service.token("agency", "agency-z"))
    pop = population(120, seed=3)
    raw_a = write_file(tmp_path / "a.parquet", party_data(pop, range(0, 80), prefix="a"))
    raw_b = write_file(tmp_path / "b.parquet", party_data(pop, range(40, 120), prefix="b"))
    ua = api.upload(tokens["agency"], pid, raw_a).json()["id"]
    ub = api.upload(tokens["agency_b"], pid, raw_b).json()["id"]
    rid = api.start_run(tokens["agency"], pid).json()["id"]
    assert api.wait_run(op, pid, rid)["status"] == "succeeded"
    return dict(service=service, pid=pid, spare_project=spare_project, tokens=tokens,
                spare_cred=spare_cred, raw_a=raw_a, ua=ua, ub=ub, rid=rid)


def _upload_kwargs(w):
    raw = w["raw_a"]
    return {"content": raw, "headers": {"Content-Type": "application/vnd.apache.parquet",
                                        "X-Content-SHA256": sha256(raw),
                                        "X-Record-Count": "80"}}


_NEW_PROJECT = {"name": "p", "schema_fingerprint": "0" * 64, "key_id": "k", "filter_bits": 1024,
                "agencies": [{"name": "agency-q"}]}

# name, method, path, request kwargs, {role: status}; anonymous gets 401 unless listed.
MATRIX = [
    ("health", "GET", "/health", None, dict.fromkeys(ROLES, 200)),
    ("me", "GET", "/me", None, {"operator": 200, "agency": 200, "outsider": 200, "dpo": 200,
                                "other_dpo": 200}),
    ("list projects", "GET", "/projects", None,
     {"operator": 200, "agency": 200, "outsider": 200, "dpo": 200, "other_dpo": 200}),
    ("create project", "POST", "/projects", lambda w: {"json": _NEW_PROJECT},
     {"operator": 201, "agency": 403, "outsider": 403, "dpo": 403, "other_dpo": 403}),
    ("get project", "GET", "/projects/{pid}", None,
     {"operator": 200, "agency": 200, "outsider": 404, "dpo": 200, "other_dpo": 404}),
    ("update project", "PATCH", "/projects/{pid}", lambda w: {"json": {"name": "renamed"}},
     {"operator": 200, "agency": 403, "outsider": 403, "dpo": 403, "other_dpo": 403}),
    ("report", "GET", "/projects/{pid}/report", None,
     {"operator": 200, "agency": 403, "outsider": 403, "dpo": 200, "other_dpo": 404}),
    ("issue credential", "POST", "/credentials",
     lambda w: {"json": {"role": "agency", "subject": "agency-y"}},
     {"operator": 201, "agency": 403, "outsider": 403, "dpo": 403, "other_dpo": 403}),
    ("list credentials", "GET", "/credentials", None,
     {"operator": 200, "agency": 403, "outsider": 403, "dpo": 403, "other_dpo": 403}),
    ("revoke credential", "DELETE", "/credentials/{spare_cred}", None,
     {"operator": 204, "agency": 403, "outsider": 403, "dpo": 403, "other_dpo": 403}),
    ("upload", "POST", "/projects/{pid}/uploads", _upload_kwargs,
     {"operator": 403, "agency": 200, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("list uploads", "GET", "/projects/{pid}/uploads", None,
     {"operator": 403, "agency": 200, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("own upload", "GET", "/projects/{pid}/uploads/{ua}", None,
     {"operator": 403, "agency": 200, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("other agency's upload", "GET", "/projects/{pid}/uploads/{ub}", None,
     {"operator": 403, "agency": 404, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("delete other agency's upload", "DELETE", "/projects/{pid}/uploads/{ub}", None,
     {"operator": 403, "agency": 404, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("start run", "POST", "/projects/{pid}/runs", None,
     {"operator": 202, "agency": 202, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("list runs", "GET", "/projects/{pid}/runs", None,
     {"operator": 200, "agency": 200, "outsider": 404, "dpo": 200, "other_dpo": 404}),
    ("get run", "GET", "/projects/{pid}/runs/{rid}", None,
     {"operator": 200, "agency": 200, "outsider": 404, "dpo": 200, "other_dpo": 404}),
    ("cancel finished run", "POST", "/projects/{pid}/runs/{rid}/cancel", None,
     {"operator": 409, "agency": 409, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("results", "GET", "/projects/{pid}/runs/{rid}/results", None,
     {"operator": 403, "agency": 200, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("latest results", "GET", "/projects/{pid}/runs/latest/results", None,
     {"operator": 403, "agency": 200, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("download csv", "GET", "/projects/{pid}/runs/{rid}/results/download", None,
     {"operator": 403, "agency": 200, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("download parquet", "GET", "/projects/{pid}/runs/{rid}/results/download",
     lambda w: {"params": {"format": "parquet"}},
     {"operator": 403, "agency": 200, "outsider": 404, "dpo": 403, "other_dpo": 403}),
    ("audit trail", "GET", "/audit", None,
     {"operator": 200, "agency": 403, "outsider": 403, "dpo": 200, "other_dpo": 200}),
    ("project audit trail", "GET", "/audit", lambda w: {"params": {"project_id": w["pid"]}},
     {"operator": 200, "agency": 403, "outsider": 403, "dpo": 200, "other_dpo": 404}),
    ("verify audit", "GET", "/audit/verify", None,
     {"operator": 200, "agency": 403, "outsider": 403, "dpo": 200, "other_dpo": 200}),
    ("delete project", "DELETE", "/projects/{spare_project}", None,
     {"operator": 204, "agency": 403, "outsider": 403, "dpo": 403, "other_dpo": 403}),
    ("delete own upload", "DELETE", "/projects/{pid}/uploads/{ua}", None,
     {"operator": 403, "agency": 204, "outsider": 404, "dpo": 403, "other_dpo": 403}),
]


def _order(expected: dict) -> list[str]:
    """Roles that are refused first, so an allowed (possibly destructive) call comes last."""
    return sorted(ROLES, key=lambda r: 200 <= expected.get(r, 401) < 300)


def test_role_endpoint_matrix(world):
    """Each endpoint, called by each role; failures are listed as role, endpoint, status."""
    api, pid = world["service"].api, world["pid"]
    failures = []
    for name, method, path, kwargs, expected in MATRIX:
        for role in _order(expected):
            want = expected.get(role, 401)
            r = api.req(method, path.format(**world), world["tokens"][role],
                        **(kwargs(world) if kwargs else {}))
            if r.status_code != want:
                failures.append(f"{role:>10} | {name:<28} | {method} {path} -> "
                                f"{r.status_code}, expected {want}")
            if r.status_code >= 400:
                body = r.json()
                assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
            if r.status_code == 202 and name == "start run":
                api.wait_run(world["tokens"]["operator"], pid, r.json()["id"])
            if role != "agency":
                assert "a-0000" not in r.text and "b-0000" not in r.text, (role, name)
    assert not failures, "\n" + "\n".join(failures)
    # Refusals are in the audit trail, with the actor and never a token.
    items = api.get("/audit", world["tokens"]["operator"], params={"limit": 1000}).json()["items"]
    denied = {(e["actor_role"], e["actor_name"], e["action"]) for e in items
              if e["outcome"] == "denied"}
    assert {("agency", "agency-a", "access.denied"), ("operator", "root", "access.denied"),
            ("dpo", "dpo-1", "access.denied"), ("anonymous", None, "auth.failed")} <= denied


def test_each_role_sees_only_its_own_data(world):
    api, pid, rid = world["service"].api, world["pid"], world["rid"]
    tok_a, tok_b = world["tokens"]["agency"], world["tokens"]["agency_b"]
    assert [u["id"] for u in api.get(f"/projects/{pid}/uploads", tok_a).json()] == [world["ua"]]
    assert [u["id"] for u in api.get(f"/projects/{pid}/uploads", tok_b).json()] == [world["ub"]]
    rows_a = api.all_results(tok_a, pid, rid)
    rows_b = api.all_results(tok_b, pid, rid)
    assert rows_a and rows_b
    assert all(r["record_ref"].startswith("a-") for r in rows_a)
    assert all(r["record_ref"].startswith("b-") for r in rows_b)
    assert all(r["score"] is None and r["other_agencies"] == ["agency-b"] for r in rows_a)
    # The same match id names the same group for both agencies.
    assert {r["match_id"] for r in rows_a} == {r["match_id"] for r in rows_b}
    for fmt in ("csv", "parquet"):
        r = api.get(f"/projects/{pid}/runs/{rid}/results/download", tok_a,
                    params={"format": fmt})
        assert r.status_code == 200 and b"b-0000" not in r.content
    csv_text = api.get(f"/projects/{pid}/runs/{rid}/results/download", tok_a).text
    assert csv_text.splitlines()[0] == "record_ref,match_id,decision,other_agencies"
    t = world["tokens"]
    assert api.get("/projects", t["outsider"]).json() == []
    assert api.get("/projects", t["other_dpo"]).json() == []
    assert [p["id"] for p in api.get("/projects", t["dpo"]).json()] == [pid]
    assert {p["id"] for p in api.get("/projects", t["agency"]).json()} == {
        pid, world["spare_project"]}
    assert api.get("/audit", t["other_dpo"]).json()["items"] == []
    dpo_items = api.get("/audit", t["dpo"]).json()["items"]
    assert dpo_items and all(e["project_id"] == pid for e in dpo_items)
