"""Match runs: background execution with progress, per-agency results, reproducibility,
score release rules, cancellation, and recovery after an interruption."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from _service_helpers import party_data, population, three_agency_files, write_file
from sqlalchemy import select, update

import service.runs as runs_module
from service.db.models import Run, utcnow

AGENCIES = ("agency-a", "agency-b", "agency-c")


@pytest.fixture
def three(service, tmp_path):
    api, op = service.api, service.operator
    pid = api.project(op, agencies=AGENCIES)
    tokens = {a: service.token("agency", a) for a in AGENCIES}
    for a, raw in three_agency_files(tmp_path, n=150).items():
        assert api.upload(tokens[a], pid, raw).status_code == 201
    return dict(service=service, api=api, op=op, pid=pid, tokens=tokens)


def _run(ctx, token=None) -> dict:
    api = ctx["api"]
    r = api.start_run(token or ctx["op"], ctx["pid"])
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    return api.wait_run(ctx["op"], ctx["pid"], r.json()["id"])


def test_three_agency_run_and_results(three):
    api, pid, tokens = three["api"], three["pid"], three["tokens"]
    run = _run(three, tokens["agency-b"])
    assert run["status"] == "succeeded", run
    assert run["percent"] == 100.0 and run["comparisons"] > 0 and run["attempts"] == 1
    assert run["agencies"] == list(AGENCIES) and run["requested_by"] == "agency-b"
    s = run["summary"]
    assert s["records"] == dict.fromkeys(AGENCIES, 150)
    # a: 0..150, b: 50..200, c: 100..250 of one population.
    assert s["linked_records"] == {"agency-a": 100, "agency-b": 150, "agency-c": 100}
    assert s["groups"] == s["matches"] + s["possible_matches"] == 150
    rows = {a: api.all_results(tokens[a], pid, run["id"], limit=40) for a in AGENCIES}
    assert {a: len(v) for a, v in rows.items()} == s["linked_records"]
    for a, items in rows.items():
        assert all(r["record_ref"].startswith(a[-1] + "-") for r in items)
        assert all(set(r) == {"record_ref", "match_id", "decision", "other_agencies", "score"}
                   for r in items)
        assert all(r["score"] is None for r in items)
    # Every agency in a group sees the same match id, and the others it is told about.
    members: dict[str, set[str]] = {}
    for a, items in rows.items():
        for r in items:
            members.setdefault(r["match_id"], set()).add(a)
    for a, items in rows.items():
        for r in items:
            assert set(r["other_agencies"]) == members[r["match_id"]] - {a}
            # a-k, b-k, c-k are the same person k.
            assert r["record_ref"][2:] == next(iter(
                x["record_ref"][2:] for o in r["other_agencies"] for x in rows[o]
                if x["match_id"] == r["match_id"]))


def test_runs_are_reproducible(three):
    api, pid, tokens = three["api"], three["pid"], three["tokens"]
    first, second = _run(three), _run(three)
    assert first["id"] != second["id"]
    for a in AGENCIES:
        assert api.all_results(tokens[a], pid, first["id"]) == \
            api.all_results(tokens[a], pid, second["id"])
    assert api.all_results(tokens["agency-a"], pid, "latest") == \
        api.all_results(tokens["agency-a"], pid, second["id"])


def test_downloads_match_the_pages(three):
    api, pid, tok = three["api"], three["pid"], three["tokens"]["agency-c"]
    run = _run(three)
    pages = api.all_results(tok, pid, run["id"], limit=7)
    url = f"/projects/{pid}/runs/{run['id']}/results/download"
    r = api.get(url, tok, params={"format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["record_ref"], x["match_id"], x["decision"], x["other_agencies"]) for x in rows] \
        == [(p["record_ref"], p["match_id"], p["decision"], ";".join(p["other_agencies"]))
            for p in pages]
    table = pq.read_table(io.BytesIO(api.get(url, tok, params={"format": "parquet"}).content))
    assert table.column_names == ["record_ref", "match_id", "decision", "other_agencies"]
    assert table.column("record_ref").to_pylist() == [p["record_ref"] for p in pages]
    assert table.column("other_agencies").to_pylist() == [p["other_agencies"] for p in pages]


def test_pagination(three):
    api, pid, tok = three["api"], three["pid"], three["tokens"]["agency-b"]
    run = _run(three)
    url = f"/projects/{pid}/runs/{run['id']}/results"
    first = api.get(url, tok, params={"limit": 100}).json()
    assert first["total"] == 150 and len(first["items"]) == 100 and first["next_cursor"]
    rest = api.get(url, tok, params={"limit": 100, "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 50 and rest["next_cursor"] is None
    refs = [r["record_ref"] for r in first["items"] + rest["items"]]
    assert len(set(refs)) == 150
    assert api.get(url, tok, params={"cursor": "x1"}).status_code == 422
    assert api.get(url, tok, params={"limit": 0}).status_code == 422


def test_scores_only_when_released_and_agreed(three):
    api, pid, op, tokens = three["api"], three["pid"], three["op"], three["tokens"]
    api.req("PATCH", f"/projects/{pid}", op, json={
        "release_scores": True,
        "agencies": [{"name": "agency-a", "scores_agreed": True}, {"name": "agency-b"},
                     {"name": "agency-c", "scores_agreed": True}]})
    run = _run(three)
    a = api.all_results(tokens["agency-a"], pid, run["id"])
    b = api.all_results(tokens["agency-b"], pid, run["id"])
    assert all(0.8 <= r["score"] <= 1.0 for r in a)
    assert all(r["score"] is None for r in b)
    api.req("PATCH", f"/projects/{pid}", op, json={"release_scores": False})
    assert all(r["score"] is None for r in api.all_results(tokens["agency-a"], pid, run["id"]))
    csv_text = api.get(f"/projects/{pid}/runs/{run['id']}/results/download",
                       tokens["agency-a"]).text
    assert "score" not in csv_text.splitlines()[0]


def test_start_conflicts(start_service, tmp_path):
    service = start_service(run_worker=False)
    api, op = service.api, service.operator
    pid = api.project(op)
    tok = service.token("agency", "agency-a")
    tok_b = service.token("agency", "agency-b")
    pop = population(40, seed=2)
    api.upload(tok, pid, write_file(tmp_path / "a.parquet", party_data(pop, range(30), prefix="a")))
    r = api.start_run(tok, pid)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_enough_uploads"
    api.upload(tok_b, pid, write_file(tmp_path / "b.parquet",
                                      party_data(pop, range(10, 40), prefix="b")))
    first = api.start_run(tok, pid)
    assert first.status_code == 202
    again = api.start_run(op, pid)
    assert again.status_code == 409 and again.json()["error"]["code"] == "run_active"
    # No results before the run succeeded.
    r = api.get(f"/projects/{pid}/runs/{first.json()['id']}/results", tok)
    assert r.status_code == 409 and r.json()["error"]["code"] == "run_not_finished"
    assert api.get(f"/projects/{pid}/runs/latest/results", tok).status_code == 404
    # A queued run is cancelled at once.
    c = api.post(f"/projects/{pid}/runs/{first.json()['id']}/cancel", tok_b)
    assert c.status_code == 202 and c.json()["status"] == "cancelled"
    assert c.json()["restartable"] is True
    assert api.start_run(op, pid).status_code == 202


class Gate:
    """Holds the real matching engine at its first cancellation check until released."""

    def __init__(self, monkeypatch):
        self.entered = threading.Event()
        self.release = threading.Event()
        real = runs_module.link

        def gated(parties, config, *, progress=None, cancelled=None, **kw):
            def check() -> bool:
                self.entered.set()
                self.release.wait(30)
                return cancelled()

            return real(parties, config, progress=progress, cancelled=check, **kw)

        monkeypatch.setattr(runs_module, "link", gated)


def test_cancel_a_running_run(three, monkeypatch):
    gate = Gate(monkeypatch)
    api, pid, tok = three["api"], three["pid"], three["tokens"]["agency-a"]
    run = api.start_run(tok, pid).json()
    assert gate.entered.wait(20)
    assert api.get(f"/projects/{pid}/runs/{run['id']}", tok).json()["status"] == "running"
    r = api.post(f"/projects/{pid}/runs/{run['id']}/cancel", tok)
    assert r.status_code == 202 and r.json()["cancel_requested"] is True
    gate.release.set()
    done = api.wait_run(tok, pid, run["id"])
    assert done["status"] == "cancelled" and done["restartable"] is True
    assert api.get(f"/projects/{pid}/runs/{run['id']}/results", tok).status_code == 409
    again = _run(three)
    assert again["status"] == "succeeded"


def test_shutdown_during_a_run_requeues_and_resumes(make_settings, start_service, tmp_path,
                                                    monkeypatch):
    settings = make_settings()
    first = start_service(settings)
    api, op = first.api, first.operator
    pid = api.project(op, agencies=AGENCIES)
    for a, raw in three_agency_files(tmp_path, n=90).items():
        assert api.upload(first.token("agency", a), pid, raw).status_code == 201
    gate = Gate(monkeypatch)
    run = api.start_run(op, pid).json()
    assert gate.entered.wait(20)
    stopper = threading.Thread(target=first.client.__exit__, args=(None, None, None))
    stopper.start()
    gate.release.set()
    stopper.join(30)
    with first.state.db.session() as s:
        row = s.get(Run, run["id"])
        assert (row.status, row.worker_id) == ("queued", None)
    monkeypatch.undo()
    second = start_service(settings)
    done = second.api.wait_run(second.operator, pid, run["id"])
    assert done["status"] == "succeeded" and done["summary"]["groups"] > 0


def _orphan(service, run_id: str, **values) -> None:
    with service.state.db.transaction() as s:
        s.execute(update(Run).where(Run.id == run_id).values(
            status="running", worker_id="elsewhere:1:dead", attempts=1,
            heartbeat_at=utcnow() - timedelta(minutes=5), stage="scoring", percent=42.0,
            **values))


def test_interrupted_run_is_resumed_after_restart(make_settings, start_service, tmp_path):
    settings = make_settings()
    first = start_service(settings, run_worker=False)
    api, op = first.api, first.operator
    pid = api.project(op, agencies=AGENCIES)
    for a, raw in three_agency_files(tmp_path, n=60).items():
        api.upload(first.token("agency", a), pid, raw)
    run = api.start_run(op, pid).json()
    _orphan(first, run["id"])  # as left by a worker that crashed mid-run
    second = start_service(settings)
    done = second.api.wait_run(second.operator, pid, run["id"])
    assert done["status"] == "succeeded" and done["attempts"] == 2
    audit = second.api.get("/audit", op, params={"project_id": pid}).json()["items"]
    assert "run.resumed" in [e["action"] for e in audit]


def test_interrupted_run_with_replaced_input_fails_restartable(make_settings, start_service,
                                                               tmp_path):
    settings = make_settings()
    first = start_service(settings, run_worker=False)
    api, op = first.api, first.operator
    pid = api.project(op, agencies=AGENCIES)
    tokens = {a: first.token("agency", a) for a in AGENCIES}
    for a, raw in three_agency_files(tmp_path, n=60).items():
        api.upload(tokens[a], pid, raw)
    run = api.start_run(op, pid).json()
    _orphan(first, run["id"])
    replacement = party_data(population(70, seed=5), range(60), prefix="a")
    assert api.upload(tokens["agency-a"], pid,
                      write_file(tmp_path / "a2.parquet", replacement)).status_code == 201
    second = start_service(settings)
    done = second.api.wait_run(op, pid, run["id"])
    assert done["status"] == "failed" and done["restartable"] is True
    assert "replaced or deleted" in done["error"]
    assert _run(dict(api=second.api, op=op, pid=pid))["status"] == "succeeded"


def test_stale_heartbeat_is_recovered_without_restart(service, tmp_path):
    api, op = service.api, service.operator
    pid = api.project(op, agencies=AGENCIES)
    for a, raw in three_agency_files(tmp_path, n=60).items():
        api.upload(service.token("agency", a), pid, raw)
    run = _run(dict(api=api, op=op, pid=pid))
    with service.state.db.transaction() as s:  # pretend a finished run were still running
        s.execute(update(Run).where(Run.id == run["id"]).values(status="succeeded"))
    # A run left 'running' by a remote worker whose heartbeat stopped: max attempts used.
    with service.state.db.transaction() as s:
        row = s.get(Run, run["id"])
        row.status, row.worker_id, row.attempts = "running", "elsewhere:1:dead", 3
        row.heartbeat_at = utcnow() - timedelta(seconds=10)
    done = api.wait_run(op, pid, run["id"], timeout=20)
    assert done["status"] == "failed" and done["restartable"] is True
    with service.state.db.session() as s:
        assert s.execute(select(Run.status).where(Run.status == "running")).first() is None


def test_report_aggregates_stored_with_the_run_match_the_results(three):
    """The per-agency, per-pair and cluster-size counts stored with a run (read by the DPO
    reports) equal what the agencies' result rows give."""
    from collections import Counter
    from itertools import combinations

    from service.reports import build

    api, pid, tokens = three["api"], three["pid"], three["tokens"]
    run = _run(three)
    assert run["status"] == "succeeded", run
    rows = {a: api.all_results(tokens[a], pid, run["id"], limit=70) for a in AGENCIES}
    groups: dict[str, tuple[str, set[str]]] = {}
    sizes: Counter = Counter()
    for a, items in rows.items():
        for r in items:
            groups.setdefault(r["match_id"], (r["decision"], set()))[1].add(a)
            sizes[r["match_id"]] += 1

    def count(select) -> tuple[int, int]:
        picked = [d for mid, (d, ags) in groups.items() if select(ags)]
        return picked.count("match"), picked.count("possible")

    db = three["service"].app.state.db
    with db.read_session() as s:
        stored_run = s.get(Run, run["id"])
        summary = stored_run.summary
        stored = summary["report"]
        agencies = build._agency_counts(s, stored_run, summary, stored)
        pairs = build._pair_counts(s, stored_run, stored)
        clusters = build._cluster_sizes(s, stored_run, stored)
        s.commit()
    assert [(c.matched, c.possible) for c in agencies] == \
        [count(lambda ags, a=a: a in ags) for a in AGENCIES]
    assert [(p.matches, p.possible) for p in pairs] == \
        [count(lambda ags, x=x, y=y: {x, y} <= ags) for x, y in combinations(AGENCIES, 2)]
    by_size: dict[int, Counter] = {}
    for mid, n in sizes.items():
        by_size.setdefault(n, Counter())[groups[mid][0]] += 1
    assert [(c.size, c.matches, c.possible) for c in clusters] == \
        [(n, c["match"], c["possible"]) for n, c in sorted(by_size.items())]


def test_status_long_poll_answers_when_the_run_finishes(three, monkeypatch):
    """``GET .../runs/{run}?wait=`` holds the answer until the run has finished (signalled
    by the worker at once), or until ``wait`` has passed while it is still running."""
    import time

    gate = Gate(monkeypatch)
    api, pid, op = three["api"], three["pid"], three["op"]
    run = api.start_run(op, pid).json()
    path = f"/projects/{pid}/runs/{run['id']}"
    assert gate.entered.wait(20)
    t = time.monotonic()
    r = api.get(path, op, params={"wait": 0.3})
    assert r.status_code == 200 and r.json()["status"] == "running"
    assert time.monotonic() - t >= 0.3
    answer: dict = {}

    def poll() -> None:
        t0 = time.monotonic()
        answer["body"] = api.get(path, op, params={"wait": 30}).json()
        answer["seconds"] = time.monotonic() - t0

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()  # still held: the run has not finished
    gate.release.set()
    waiter.join(30)
    assert answer["body"]["status"] == "succeeded"
    assert answer["seconds"] < 15
    # A finished run answers at once, whatever the wait.
    t = time.monotonic()
    assert api.get(path, op, params={"wait": 30}).json()["status"] == "succeeded"
    assert time.monotonic() - t < 5
    bad = api.get(path, op, params={"wait": 61})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    # Another project's member sees the same 404 with or without a wait.
    assert api.get(f"/projects/nope/runs/{run['id']}", op, params={"wait": 1}).status_code \
        == 404


def test_client_waits_with_long_polls(three, monkeypatch):
    """``ServiceClient.wait_run`` asks the service to hold each status request (no
    client-side polling interval), and still paces its asks against a service that answers
    at once."""
    from linkage.client import ServiceClient

    api, pid, op = three["api"], three["pid"], three["op"]
    run = api.start_run(op, pid).json()
    client = ServiceClient("http://testserver", op, transport=api.client._transport)
    waits: list[float] = []
    real = ServiceClient.run

    def run_spy(self, project_id, run_id, *, wait=0.0):
        waits.append(wait)
        return real(self, project_id, run_id, wait=wait)

    monkeypatch.setattr(ServiceClient, "run", run_spy)
    done = client.wait_run(pid, run["id"], timeout=60)
    assert done["status"] == "succeeded"
    assert waits and all(w > 1 for w in waits)
    seen: list[str] = []
    again = client.wait_run(pid, run["id"], poll=0.5, progress=lambda r: seen.append(r["status"]))
    assert again["status"] == "succeeded" and seen == ["succeeded"]
    assert waits[-1] == 0.5


def test_serve_freezes_the_start_up_objects(make_settings):
    """``linkage-service serve`` builds the app with ``freeze_gc``: once started, the
    start-up objects are out of the garbage collector's scans."""
    import gc

    from fastapi.testclient import TestClient

    from service.app import create_app

    gc.unfreeze()
    try:
        with TestClient(create_app(make_settings(), freeze_gc=True)) as client:
            assert gc.get_freeze_count() > 0
            assert client.get("/api/v1/health").status_code == 200
    finally:
        gc.unfreeze()
