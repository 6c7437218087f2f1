"""The DPO pages against the real app and database (in-process HTTP client, real SQLite)."""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict

import pytest
from _report_html import assert_self_contained, body_rows, read_html
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from service import audit
from service.db.models import AuditEntry
from service.reports.model import suppress
from service.routers.dpo_pages import COOKIE

API = "/api/v1"


def new_client(app, base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, follow_redirects=False)


def signed_in(app, token: str) -> TestClient:
    client = new_client(app)
    r = client.post("/dpo/signin", data={"token": token})
    assert r.status_code == 303 and r.headers["location"] == "/dpo/projects", r.text
    return client


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def run_url(sc) -> str:
    return f"/dpo/projects/{sc.project_id}/runs/{sc.run_id}"


def audit_rows(app, **where):
    with app.state.db.session() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.seq)
        for k, v in where.items():
            stmt = stmt.where(getattr(AuditEntry, k) == v)
        rows = s.execute(stmt).scalars().all()
        s.expunge_all()  # keep the loaded values readable after the session ends
        s.rollback()
    return rows


# --- sign-in --------------------------------------------------------------------------------


def test_signin_sets_a_session_cookie_that_is_not_the_token(dpo_service):
    app, _, sc = dpo_service
    client = new_client(app)
    assert client.get("/dpo/signin").status_code == 200
    r = client.post("/dpo/signin", data={"token": sc.dpo_token})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attr in ("HttpOnly", "Path=/dpo", "SameSite=strict", "Max-Age="):
        assert attr in cookie, attr
    assert "Secure" not in cookie  # plain http on loopback; see the https case below
    secret = sc.dpo_token.rsplit("_", 1)[1]
    assert secret not in cookie and sc.dpo_token not in cookie
    assert client.get("/dpo/projects").status_code == 200


def test_cookie_is_secure_over_https(dpo_service):
    app, _, sc = dpo_service
    r = new_client(app, "https://testserver").post("/dpo/signin", data={"token": sc.dpo_token})
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_every_bad_token_fails_the_same_way(dpo_service):
    app, _client, sc = dpo_service
    bad = ["", "nonsense", sc.dpo_token[:-1] + ("A" if sc.dpo_token[-1] != "A" else "B"),
           sc.agency_tokens["police"], sc.operator]
    before = len(audit_rows(app))
    bodies = set()
    for token in bad:
        r = new_client(app).post("/dpo/signin", data={"token": token})
        assert r.status_code == 401 and "set-cookie" not in r.headers
        bodies.add(r.text)
    assert len(bodies) == 1 and "Sign-in failed" in bodies.pop()
    actions = [e.action for e in audit_rows(app)[before:]]
    assert actions == ["auth.failed"] * 3 + ["access.denied"] * 2


def test_pages_need_a_valid_session(dpo_service):
    app, _, sc = dpo_service
    anonymous = new_client(app)
    for url in ("/dpo/projects", f"/dpo/projects/{sc.project_id}", run_url(sc),
                run_url(sc) + "/report.html"):
        r = anonymous.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/dpo/signin", url
    client = signed_in(app, sc.dpo_token)
    value = client.cookies[COOKIE]
    forged = value[:-1] + ("0" if value[-1] != "0" else "1")
    longer = re.sub(r"\.(\d+)\.([0-9a-f]{16})\.([0-9a-f]{64})$",
                    lambda m: f".{int(m.group(1)) + 86400}.{m.group(2)}.{m.group(3)}", value)
    assert longer != value
    def status(cookie: str) -> int:
        return new_client(app).get("/dpo/projects", headers={"Cookie": f"{COOKIE}={cookie}"}).status_code

    assert status(value) == 200  # the genuine cookie works on its own
    for cookie in (forged, longer, "garbage", ""):
        assert status(cookie) == 303, cookie


def test_revoking_the_credential_ends_the_session(dpo_service):
    app, client, sc = dpo_service
    op = {"Authorization": f"Bearer {sc.operator}"}
    issued = client.post(f"{API}/credentials", headers=op, json={"role": "dpo", "subject": "dora"}).json()
    browser = signed_in(app, issued["token"])
    assert browser.get("/dpo/projects").status_code == 200
    assert client.delete(f"{API}/credentials/{issued['id']}", headers=op).status_code == 204
    assert browser.get("/dpo/projects").status_code == 303


def test_sign_out_clears_the_cookie(dpo_service):
    app, _, sc = dpo_service
    browser = signed_in(app, sc.dpo_token)
    page = browser.get("/dpo/projects").text
    r = browser.post("/dpo/signout", data={"csrf": csrf_of(page)})
    assert r.status_code == 303 and r.headers["location"] == "/dpo/signin"
    assert f'{COOKIE}=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert browser.get("/dpo/projects").status_code == 303
    assert audit_rows(app, action="auth.signed_out")


# --- pages ---------------------------------------------------------------------------------


def test_projects_page_lists_only_assigned_projects(dpo_service):
    app, _, sc = dpo_service
    html = signed_in(app, sc.dpo_token).get("/dpo/projects").text
    rows = body_rows(read_html(html).tables["projects"])
    assert list(rows) == ["Trafficking case review 2025"]
    assert rows["Trafficking case review 2025"][:2] == ["3", "1"]
    assert sc.other_project_id not in html and "Someone else" not in html


def test_unassigned_projects_look_missing(dpo_service):
    app, _, sc = dpo_service
    browser = signed_in(app, sc.dpo_token)
    for url in (f"/dpo/projects/{sc.other_project_id}", "/dpo/projects/nope",
                f"/dpo/projects/{sc.other_project_id}/runs/{sc.run_id}",
                f"/dpo/projects/{sc.project_id}/runs/run_nope",
                f"/dpo/projects/{sc.other_project_id}/runs/{sc.run_id}/report.html"):
        r = browser.get(url)
        assert r.status_code == 404 and "no such project or run" in r.text, url
    assert audit_rows(app, action="access.denied", actor_name="dora")


def _groups_seen_by_agencies(client, sc) -> dict[str, dict]:
    """The run's groups as the agencies see them through the results API (independent of
    the report code): match id -> decision and the agency of each member."""
    groups: dict[str, dict] = defaultdict(lambda: {"members": []})
    for agency, token in sc.agency_tokens.items():
        r = client.get(f"{API}/projects/{sc.project_id}/runs/{sc.run_id}/results",
                       headers={"Authorization": f"Bearer {token}"}, params={"limit": 1000})
        assert r.status_code == 200, r.text
        for item in r.json()["items"]:
            groups[item["match_id"]]["decision"] = item["decision"]
            groups[item["match_id"]]["members"].append(agency)
    return groups


def test_run_report_figures_agree_with_the_run(dpo_service):
    app, client, sc = dpo_service
    html = signed_in(app, sc.dpo_token).get(run_url(sc)).text
    doc = read_html(html)
    summary = sc.run["summary"]
    assert summary["matches"] > 5
    assert doc.testids["matches-total"] == suppress(summary["matches"])
    assert doc.testids["possible-total"] == suppress(summary["possible_matches"])

    groups = _groups_seen_by_agencies(client, sc)
    per_agency: Counter = Counter()
    pairs: Counter = Counter()
    sizes: Counter = Counter()
    for g in groups.values():
        agencies = sorted(set(g["members"]))
        for a in agencies:
            per_agency[(a, g["decision"])] += 1
        for a, b in itertools.combinations(agencies, 2):
            pairs[(a, b, g["decision"])] += 1
        sizes[(len(g["members"]), g["decision"])] += 1

    agencies = body_rows(doc.tables["agencies"])
    assert set(agencies) == set(sc.parties)
    for a, party in sc.parties.items():
        assert agencies[a] == [suppress(len(party.refs)), suppress(per_agency[(a, "match")]),
                               suppress(per_agency[(a, "possible")])]
    shown_pairs = body_rows(doc.tables["pairs"])
    for a, b in itertools.combinations(sorted(sc.parties), 2):
        assert shown_pairs[f"{a} – {b}"] == [suppress(pairs[(a, b, "match")]),
                                             suppress(pairs[(a, b, "possible")])]
    clusters = body_rows(doc.tables["clusters"])
    assert clusters["All groups"] == [suppress(summary["matches"]), suppress(summary["possible_matches"])]
    for size in {s for s, _ in sizes}:
        for shown, decision in zip(clusters[str(size)], ("match", "possible"), strict=True):
            assert shown in (suppress(sizes[(size, decision)]), "hidden")
    # Settings of the run
    assert "1024 bits" in html and sc.run["summary"] is not None
    assert "<svg " in html and 'id="scores-match-threshold"' in html


def test_band_totals_agree_with_the_engine_histogram(dpo_service):
    app, _, sc = dpo_service
    doc = read_html(signed_in(app, sc.dpo_token).get(run_url(sc)).text)
    with app.state.db.session() as s:
        summary = s.execute(text("SELECT summary FROM runs WHERE id = :id"), {"id": sc.run_id}).scalar()
        s.rollback()
    import json

    hist = (json.loads(summary) if isinstance(summary, str) else summary)["score_histogram"]
    edges, counts = hist["edges"], hist["counts"]
    match_band = sum(c for e, c in zip(edges, counts, strict=False) if e >= 0.8 - 1e-9)
    bands = body_rows(doc.tables["bands"])
    assert bands["match band"][1] == suppress(match_band)


def test_project_page(dpo_service):
    app, _, sc = dpo_service
    html = signed_in(app, sc.dpo_token).get(f"/dpo/projects/{sc.project_id}").text
    doc = read_html(html)
    runs = body_rows(doc.tables["runs"])
    assert list(runs) == [f"Run {sc.run_id}"]
    assert runs[f"Run {sc.run_id}"][1:] == ["succeeded", "0.8", suppress(sc.run["summary"]["matches"]),
                                            suppress(sc.run["summary"]["possible_matches"])]
    assert f'href="{run_url(sc)}"' in html
    assert "upload.received" in html and "run.finished" in html  # the audit timeline


def test_download_is_a_self_contained_attachment(dpo_service):
    app, _, sc = dpo_service
    r = signed_in(app, sc.dpo_token).get(run_url(sc) + "/report.html")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="dpo-report-run_[0-9a-f]+-\d{8}\.html"',
                        r.headers["content-disposition"])
    assert_self_contained(r.text)
    doc = read_html(r.text)
    assert doc.testids["matches-total"] == suppress(sc.run["summary"]["matches"])
    assert "Audit chain intact" in r.text  # checked at download, head recorded in the file
    assert "Sign out" not in r.text and "csrf" not in r.text
    downloads = audit_rows(app, action="report.downloaded", actor_name="dora")
    assert downloads and downloads[-1].object == f"run {sc.run_id}"
    assert downloads[-1].project_id == sc.project_id


def test_views_are_audited(dpo_service):
    app, _, sc = dpo_service
    browser = signed_in(app, sc.dpo_token)
    before = len(audit_rows(app))
    browser.get("/dpo/projects")
    browser.get(f"/dpo/projects/{sc.project_id}")
    browser.get(run_url(sc))
    new = audit_rows(app)[before:]
    assert [(e.actor_role, e.actor_name, e.action, e.object) for e in new] == [
        ("dpo", "dora", "report.viewed", "project list"),
        ("dpo", "dora", "report.viewed", f"project {sc.project_id}"),
        ("dpo", "dora", "report.viewed", f"run {sc.run_id}"),
    ]


def test_security_headers(dpo_service):
    app, _, sc = dpo_service
    r = signed_in(app, sc.dpo_token).get(run_url(sc))
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


# --- the audit chain -------------------------------------------------------------------------


def test_verify_needs_the_csrf_token(dpo_service):
    app, _, sc = dpo_service
    browser = signed_in(app, sc.dpo_token)
    assert browser.post(run_url(sc) + "/verify", data={"csrf": "0" * 64}).status_code == 403
    assert browser.post(run_url(sc) + "/verify").status_code == 403


def test_verify_reports_an_intact_chain_then_names_the_first_broken_entry(dpo_service):
    app, _, sc = dpo_service
    browser = signed_in(app, sc.dpo_token)
    page = browser.get(run_url(sc)).text
    r = browser.post(run_url(sc) + "/verify", data={"csrf": csrf_of(page)})
    assert r.status_code == 200
    doc = read_html(r.text)
    with app.state.db.session() as s:
        expected = audit.verify(s)
        s.rollback()
    assert expected.ok
    # The page shows the chain as checked, before its own "audit.verified" entry.
    assert int(doc.testids["audit-result-entries"]) == expected.entries - 1
    assert audit_rows(app, action="audit.verified")[-1].outcome == "success"

    with app.state.db.transaction() as s:
        original = s.execute(text("SELECT outcome FROM audit_log WHERE seq = 3")).scalar()
        s.execute(text("UPDATE audit_log SET outcome = 'tampered' WHERE seq = 3"))
    try:
        r = browser.post(f"/dpo/projects/{sc.project_id}/verify", data={"csrf": csrf_of(page)})
        doc = read_html(r.text)
        assert doc.testids["audit-result-first-broken"] == "3"
        assert "content was altered" in r.text
        assert audit_rows(app, action="audit.verified")[-1].outcome == "broken"
    finally:
        with app.state.db.transaction() as s:
            s.execute(text("UPDATE audit_log SET outcome = :o WHERE seq = 3"), {"o": original})


# --- nothing personal on any page ----------------------------------------------------------------


def _every_page(app, sc) -> dict[str, str]:
    browser = signed_in(app, sc.dpo_token)
    pages = {"signin": new_client(app).get("/dpo/signin").text}
    for url in ("/dpo/projects", f"/dpo/projects/{sc.project_id}", run_url(sc),
                run_url(sc) + "/report.html", f"/dpo/projects/{sc.other_project_id}"):
        pages[url] = browser.get(url).text
    page = pages[run_url(sc)]
    pages["verify"] = browser.post(run_url(sc) + "/verify", data={"csrf": csrf_of(page)}).text
    return pages


def test_no_page_shows_a_record_reference_or_a_name(dpo_service):
    app, _, sc = dpo_service
    pages = _every_page(app, sc)
    assert len(sc.refs) == 90 and len(sc.names) == 60
    needles = sc.refs + sc.names + [r.split(" / ")[1] for r in sc.refs]
    for url, html in pages.items():
        assert len(html) > 500, url
        for needle in needles:
            assert needle not in html, (url, needle)


@pytest.mark.postgres
def test_report_queries_on_postgres(dpo_service_pg):
    """The aggregate queries (distinct counts, the pair self-join) on the other backend."""
    test_run_report_figures_agree_with_the_run(dpo_service_pg)
    app, _, sc = dpo_service_pg
    browser = signed_in(app, sc.dpo_token)
    page = browser.get(run_url(sc)).text
    r = browser.post(run_url(sc) + "/verify", data={"csrf": csrf_of(page)})
    assert "Audit chain intact" in r.text
