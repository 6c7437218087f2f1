"""The HTML report: figures, the small-count rule, escaping, accessibility, self-containment."""

from __future__ import annotations

import itertools

import pytest
from _report_html import assert_self_contained, body_rows, read_html
from _report_sample import sample_report

from service.reports.model import AgencyCount, AuditVerification, ProjectReport, RunSummary
from service.reports.render import (
    PageChrome,
    export_report,
    render_page,
    render_project_report,
    render_run_report,
)


@pytest.fixture(scope="module")
def exported() -> str:
    return export_report(sample_report()).decode("utf-8")


def test_export_is_one_self_contained_file(exported):
    assert_self_contained(exported)
    assert exported.startswith("<!doctype html>")
    assert '<html lang="en">' in exported and '<meta charset="utf-8">' in exported
    assert "<style>" in exported and ":root" in exported  # the stylesheet is inline
    assert exported.count("<svg ") == 1
    doc = read_html(exported)
    assert not [v for t, n, v in doc.attrs if t == "a" and n == "href" and not v.startswith("#")]


def test_export_is_deterministic():
    assert export_report(sample_report()) == export_report(sample_report())


def test_headline_figures(exported):
    doc = read_html(exported)
    assert doc.testids["matches-total"] == "146"
    assert doc.testids["possible-total"] == "< 5"
    assert doc.testids["precision"] == "98.7 %"


def test_agency_table_hides_small_counts(exported):
    rows = body_rows(read_html(exported).tables["agencies"])
    assert rows == {"police": ["1200", "150", "< 5"], "labour": ["800", "140", "< 5"],
                    "ngo": ["90", "< 5", "0"]}


def test_pair_and_cluster_tables(exported):
    doc = read_html(exported)
    assert body_rows(doc.tables["pairs"]) == {
        "labour – ngo": ["< 5", "0"], "labour – police": ["139", "< 5"],
        "ngo – police": ["< 5", "0"]}
    # 146 matches = 145 pairs + 1 triple: with the total shown, 145 would give the 1 away.
    assert body_rows(doc.tables["clusters"]) == {
        "2": ["hidden", "< 5"], "3": ["< 5", "0"], "All groups": ["146", "< 5"]}


def test_band_totals_and_bins_hide_small_counts(exported):
    doc = read_html(exported)
    bands = body_rows(doc.tables["bands"])
    assert bands["below the thresholds"] == ["0 to 0.7", "6932"]
    assert bands["possible-match band"] == ["0.7 to 0.8", "158"]
    assert bands["match band"] == ["0.8 to 1", "52"]
    bins = next(t for name, t in doc.tables.items() if t and t[0] == ["From", "Below", "Count"])
    counts = [row[2] for row in bins[1:]]
    assert "< 5" in counts
    assert not {"1", "2", "3", "4"} & set(counts)
    # Every band total is published, so no band may have exactly one hidden bin.
    shown = {(row[0], row[2]) for row in bins[1:]}
    for lo, hi in ((0.0, 0.7), (0.7, 0.8), (0.8, 1.0)):
        hidden = [c for f, c in shown if lo <= float(f) < hi and c in ("< 5", "hidden")]
        assert len(hidden) != 1, (lo, hi, hidden)


def test_settings_and_sections(exported):
    doc = read_html(exported)
    assert "ab" * 32 in exported and "1024 bits" in exported
    titles = [t for level, t in doc.headings if level == 2]
    assert titles == ["Participating agencies", "Settings", "Matches",
                      "Similarity scores and thresholds", "Run durations", "Data retention",
                      "Privacy evaluation", "Audit timeline"]
    assert doc.testids["audit-check-entries"] == "3"
    assert "frequency attack: re-identified" in exported and "0 of 1000" in exported
    assert "held until deletion date" in exported and "replaces or deletes it" in exported
    assert "report viewed" in exported and "dpo (dora)" in exported
    assert "cd" * 32 in exported  # the chain head, anchored in the exported file


def test_headings_and_tables_are_accessible(exported):
    doc = read_html(exported)
    levels = [level for level, _ in doc.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert doc.tags.count("table") == doc.tags.count("caption")
    assert all(v in ("col", "row") for t, n, v in doc.attrs if t == "th" and n == "scope")
    assert 'aria-labelledby="scores-title"' in exported


def test_k_is_configurable():
    html = export_report(sample_report(), k=10).decode()
    rows = body_rows(read_html(html).tables["agencies"])
    assert rows["ngo"] == ["90", "< 10", "0"]
    assert "counts from 1 to 9" in html


def test_text_is_escaped():
    html = export_report(sample_report(project='<script>alert("x")</script>')).decode()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_missing_parts_are_explained():
    html = export_report(sample_report(histogram=None, estimated_precision=None,
                                       privacy=(), hardening={}, audit=(), retention=(),
                                       audit_check=None)).decode()
    assert_self_contained(html)
    assert "<svg" not in html and "recorded no score distribution" in html
    assert "not estimated" in html and "No agency has shared" in html
    assert "Hardening: not reported to the service" in html and "No audit entries" in html


def _chrome(**kw) -> PageChrome:
    urls = {"projects": "/dpo/projects", "signout": "/dpo/signout", "project": "/dpo/projects/p1",
            "download": "/dpo/projects/p1/runs/r1/report.html",
            "verify": "/dpo/projects/p1/runs/r1/verify", "run_prefix": "/dpo/projects/p1/runs/"}
    return PageChrome(user="dora", csrf="tok123", urls=urls, **kw)


def test_page_has_actions_and_forms_with_csrf():
    html = render_run_report(sample_report(), chrome=_chrome())
    doc = read_html(html)
    forms = [v for t, n, v in doc.attrs if t == "form" and n == "action"]
    assert forms == ["/dpo/signout", "/dpo/projects/p1/runs/r1/verify"]
    assert html.count('name="csrf" value="tok123"') == 2
    assert 'href="/dpo/projects/p1/runs/r1/report.html"' in html
    assert "Signed in as DPO" in html and "dora" in html
    assert "script" not in doc.tags


@pytest.mark.parametrize("ok", [True, False])
def test_verification_notice(ok):
    v = (AuditVerification(True, 12, 12, "e" * 64) if ok else
         AuditVerification(False, 6, 12, "e" * 64, first_broken=7, reason="content was altered"))
    doc = read_html(render_run_report(sample_report(), chrome=_chrome(notice=v)))
    if ok:
        assert doc.testids["audit-result-entries"] == "12"
    else:
        assert doc.testids["audit-result-first-broken"] == "7"


def test_project_page_lists_runs_with_links_for_finished_ones():
    report = ProjectReport(
        project="Balkans", agencies=(AgencyCount("police", 1200), AgencyCount("ngo", 3)),
        runs=(RunSummary("r2", "running", None, 0, 0), RunSummary("r1", "succeeded", None, 146, 3, 0.8)),
    )
    html = render_project_report(report, chrome=_chrome())
    doc = read_html(html)
    assert body_rows(doc.tables["runs"]) == {
        "Run r2": ["-", "running", "-", "0", "0"], "Run r1": ["-", "succeeded", "0.8", "146", "< 5"]}
    assert 'href="/dpo/projects/p1/runs/r1"' in html and "/runs/r2" not in html
    assert "< 5" in body_rows(doc.tables["table1"])["ngo"]


def test_sign_in_page_labels_its_field():
    html = render_page("signin.html", chrome=None, action="/dpo/signin", error="", session_hours=8)
    doc = read_html(html)
    assert ("label", "for", "token") in doc.attrs and ("input", "id", "token") in doc.attrs
    assert ("input", "type", "password") in doc.attrs
    assert_self_contained(html)


def test_formatting():
    from service.reports.render import format_percent, format_seconds, format_time

    assert format_percent(0.987) == "98.7 %" and format_percent(0.99995) == "> 99.9 %"
    assert format_percent(1.0) == "100.0 %" and format_percent(None) == "-"
    assert format_seconds(0.123) == "0.12 s" and format_seconds(75) == "75.0 s"
    assert format_seconds(3725) == "62 min 05 s" and format_seconds(9000) == "2 h 30 min"
    assert format_time("2025-03-04T09:30:00+00:00") == "2025-03-04 09:30:00 UTC"
