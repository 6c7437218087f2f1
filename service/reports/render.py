"""HTML rendering of DPO pages and reports (Jinja2, autoescaped, no JavaScript).

Templates live in ``service/templates``, the stylesheet in ``service/static``. Every page
carries its stylesheet and plots inline, so a page saved from the browser and the exported
report are each one self-contained file that opens offline: no CDN, no web fonts, no
external references at all (``tests/reports`` checks this).

Templates never see a raw count: ``run_view`` turns a ``RunReport`` into display values
with the small-count rule of ``service.reports.model`` already applied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from service.reports.model import (
    DEFAULT_K,
    AuditVerification,
    PrivacyEvaluation,
    ProjectReport,
    RunReport,
    ScoreHistogram,
    present_count,
    present_partition,
)
from service.reports.plots import histogram_svg

__all__ = [
    "PageChrome",
    "export_report",
    "project_view",
    "render_page",
    "render_project_report",
    "render_run_report",
    "run_view",
]


@dataclass(frozen=True)
class PageChrome:
    """What an in-service page adds around a report: who is signed in, links, CSRF token."""

    user: str
    csrf: str
    urls: Mapping[str, str] = field(default_factory=dict)
    notice: AuditVerification | None = None


_ENV: list[Environment] = []  # built on first use (nothing happens at import time)


def _environment() -> Environment:
    if _ENV:
        return _ENV[0]
    env = Environment(
        loader=PackageLoader("service", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_time
    env.filters["seconds"] = format_seconds
    env.filters["score"] = lambda v: "-" if v is None else f"{v:.3f}".rstrip("0").rstrip(".")
    env.filters["percent"] = format_percent
    _ENV.append(env)
    return env


def _css() -> Markup:
    text = resources.files("service").joinpath("static/report.css").read_text(encoding="utf-8")
    # Our own file; a stray "</style" would end the element early, so refuse it.
    if "</" in text:
        raise ValueError("report.css must not contain '</'")
    return Markup(text)  # noqa: S704 - trusted package file, not user input


def render_page(template: str, **context: Any) -> str:
    """Render one of the DPO page templates with the shared stylesheet inline."""
    env = _environment()
    return env.get_template(template).render(css=_css(), **context)


# --- formatting ----------------------------------------------------------------------------


def format_time(t: datetime | str | None) -> str:
    if t is None:
        return "-"
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_percent(v: float | None) -> str:
    if v is None:
        return "-"
    if 0.999 <= v < 1:  # an estimate that rounds to 100 % is still not certainty
        return "> 99.9 %"
    return f"{100 * v:.1f} %"


def format_seconds(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "-"
    if s < 10:
        return f"{s:.2f} s"
    if s < 120:
        return f"{s:.1f} s"
    minutes, sec = divmod(round(s), 60)
    if minutes < 120:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# --- views: display values only -------------------------------------------------------------


@dataclass(frozen=True)
class HistogramView:
    svg: Markup
    rows: list[dict[str, Any]]
    what: str
    cut: list[dict[str, Any]]


def _histogram_view(report: RunReport, hist: ScoreHistogram, k: int, id_prefix: str) -> HistogramView:
    """Bins grouped into the bands the thresholds cut; each band's total is published, so
    the bins of a band are suppressed as a partition of it (see ``present_partition``)."""
    band_of = _band_of_bins(report, hist)
    bars = [present_count(0, k)] * len(hist.counts)
    cut = []
    for band, name in enumerate(_band_names(report)):
        idx = [i for i, b in enumerate(band_of) if b == band]
        for i, shown in zip(idx, present_partition([hist.counts[i] for i in idx], k), strict=True):
            bars[i] = shown
        cut.append({
            "band": name,
            "low": hist.edges[idx[0]] if idx else None,
            "high": hist.edges[idx[-1] + 1] if idx else None,
            "count": present_count(sum(hist.counts[i] for i in idx), k),
        })
    svg = histogram_svg(
        hist.edges, bars, k=k, threshold=report.threshold,
        possible_threshold=report.possible_threshold,
        title=f"Similarity scores of {hist.what}", id_prefix=id_prefix,
    )
    rows = [
        {"low": lo, "high": hi, "count": b}
        for lo, hi, b, c in zip(hist.edges, hist.edges[1:], bars, hist.counts, strict=False)
        if c
    ]
    return HistogramView(Markup(svg), rows, hist.what, cut)  # noqa: S704 - our own SVG


def _band_names(report: RunReport) -> list[str]:
    names = ["below the thresholds"]
    if report.possible_threshold is not None and report.possible_threshold != report.threshold:
        names.append("possible-match band")
    if report.threshold is not None:
        names.append("match band")
    return names


def _band_of_bins(report: RunReport, hist: ScoreHistogram) -> list[int]:
    """Band of each bin by its lower edge (a bin straddling a threshold goes below it)."""
    cuts = []
    if report.possible_threshold is not None and report.possible_threshold != report.threshold:
        cuts.append(report.possible_threshold)
    if report.threshold is not None:
        cuts.append(report.threshold)
    return [sum(lo >= t - 1e-9 for t in cuts) for lo in hist.edges[:-1]]


def _cluster_rows(report: RunReport, k: int) -> list[dict[str, Any]]:
    sizes = sorted(report.cluster_sizes, key=lambda c: c.size)
    matches = present_partition([c.matches for c in sizes], k)
    possible = present_partition([c.possible for c in sizes], k)
    return [{"size": c.size, "matches": m, "possible": p}
            for c, m, p in zip(sizes, matches, possible, strict=True)]


def privacy_view(items: tuple[PrivacyEvaluation, ...], k: int = DEFAULT_K
                 ) -> list[dict[str, Any]]:
    """Shared privacy checks with every count under the k rule. Where guesses or correct
    guesses are hidden, their precision and rate are hidden too (either would give the count
    away together with the number of encodings)."""
    out = []
    for ev in items:
        attacks = []
        for a in ev.attacks:
            guesses, correct = present_count(a.guesses, k), present_count(a.correct, k)
            hide = guesses.suppressed or correct.suppressed
            attacks.append({
                "attack": a.attack.replace("_", " "),
                "encodings": present_count(a.encodings, k),
                "guesses": guesses, "correct": correct,
                "precision": "hidden" if hide else f"{a.precision:.1%}",
                "rate": "hidden" if hide else f"{a.rate:.2%}",
            })
        out.append({"ev": ev, "attacks": attacks,
                    "counts": {name: present_count(c, k) for name, c in ev.counts.items()}})
    return out


def run_view(report: RunReport, k: int = DEFAULT_K) -> dict[str, Any]:
    """The display values of a run report, with every count passed through the k rule."""
    return {
        "r": report,
        "k": k,
        "matches_total": present_count(report.matches_total, k),
        "possible_total": present_count(report.possible_total, k),
        "agencies": [
            {"agency": a.agency, "records": present_count(a.records, k),
             "matched": present_count(a.matched, k), "possible": present_count(a.possible, k)}
            for a in report.agencies
        ],
        "pairs": [
            {"a": p.agency_a, "b": p.agency_b, "matches": present_count(p.matches, k),
             "possible": present_count(p.possible, k)}
            for p in report.pairs
        ],
        "clusters": _cluster_rows(report, k),
        "histogram": (_histogram_view(report, report.histogram, k, "scores")
                      if report.histogram is not None else None),
        "total_seconds": report.total_seconds,
        "retention": [
            {"item": item, "status": item.status(report.generated_at)} for item in report.retention
        ],
        "privacy": privacy_view(report.privacy, k),
    }


def project_view(report: ProjectReport, k: int = DEFAULT_K) -> dict[str, Any]:
    return {
        "p": report,
        "k": k,
        "agencies": [{"agency": a.agency, "records": present_count(a.records, k)}
                     for a in report.agencies],
        "runs": [{"run": r, "matches": present_count(r.matches_total, k),
                  "possible": present_count(r.possible_total, k)} for r in report.runs],
        "retention": [
            {"item": item, "status": item.status(report.generated_at)} for item in report.retention
        ],
        "privacy": privacy_view(report.privacy, k),
    }


# --- entry points ------------------------------------------------------------------------------


def render_run_report(report: RunReport, *, k: int = DEFAULT_K, chrome: PageChrome | None = None) -> str:
    """The run report as an HTML page: inside the service (with ``chrome``) or standalone."""
    return render_page("run_report.html", chrome=chrome, exported=chrome is None, **run_view(report, k))


def render_project_report(report: ProjectReport, *, k: int = DEFAULT_K,
                          chrome: PageChrome | None = None) -> str:
    return render_page("project.html", chrome=chrome, exported=chrome is None, **project_view(report, k))


def export_report(report: RunReport, *, k: int = DEFAULT_K) -> bytes:
    """The run report as one self-contained HTML file (CSS and SVG inline), UTF-8."""
    return render_run_report(report, k=k).encode("utf-8")
