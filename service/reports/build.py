"""Build report models from the service database: aggregate queries only.

No query here selects a record reference or a match id: results are read as counts grouped
in the database (per agency and decision, per pair of agencies, per group size), so nothing
about single records leaves it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from linkage.matching.threshold import ScoreHistogram as EngineHistogram
from linkage.matching.threshold import suggest_threshold
from linkage.schema import LinkageSchema
from service.db.models import AuditEntry as AuditRow
from service.db.models import PrivacyEvaluation as PrivacyRow
from service.db.models import Project, ProjectAgency, ProjectDpo, Run, RunResult, Upload
from service.reports.model import (
    AgencyCount,
    AuditEntry,
    AuditVerification,
    ClusterSize,
    PairCount,
    PrivacyAttack,
    PrivacyEvaluation,
    ProjectReport,
    RetentionItem,
    RunReport,
    RunSummary,
    ScoreHistogram,
    StageDuration,
)

__all__ = [
    "AUDIT_LIMIT",
    "assigned_projects",
    "audit_entries",
    "build_project_report",
    "build_run_report",
    "display_histogram",
    "precision_at",
    "privacy_evaluations",
    "schema_settings",
    "verification",
]

AUDIT_LIMIT = 500  # entries shown on a page; the count of all of them is shown too
DISPLAY_BINS = 40  # the engine keeps 200 bins; 40 keep thresholds on multiples of 0.025 on edges


# --- projects ------------------------------------------------------------------------------


def assigned_projects(session: Session, dpo: str) -> list[dict[str, Any]]:
    """The projects this DPO is assigned to, with agency and run counts."""
    rows = session.execute(
        select(Project).join(ProjectDpo, ProjectDpo.project_id == Project.id)
        .where(ProjectDpo.dpo == dpo).order_by(Project.name, Project.id)
    ).scalars().all()
    out = []
    for p in rows:
        agencies = session.execute(select(func.count()).select_from(ProjectAgency)
                                   .where(ProjectAgency.project_id == p.id)).scalar_one()
        runs, latest = session.execute(select(func.count(), func.max(Run.created_at))
                                       .where(Run.project_id == p.id)).one()
        out.append({"id": p.id, "name": p.name, "agencies": int(agencies), "runs": int(runs),
                    "latest": latest})
    return out


def build_project_report(session: Session, project: Project) -> ProjectReport:
    agencies = session.execute(select(ProjectAgency.agency).where(
        ProjectAgency.project_id == project.id).order_by(ProjectAgency.agency)).scalars().all()
    current = dict(session.execute(select(Upload.agency, Upload.record_count).where(
        Upload.project_id == project.id, Upload.status == "current")).all())
    runs = session.execute(select(Run).where(Run.project_id == project.id)
                           .order_by(Run.created_at.desc(), Run.id)).scalars().all()
    uploads = session.execute(select(Upload).where(Upload.project_id == project.id)
                              .order_by(Upload.created_at)).scalars().all()
    entries, total = audit_entries(session, project.id)
    schema = schema_settings(project)
    return ProjectReport(
        project=project.name,
        agencies=tuple(AgencyCount(a, int(current.get(a, 0))) for a in agencies),
        runs=tuple(_run_summary(r) for r in runs),
        schema_fingerprint=project.schema_fingerprint,
        filter_bits=project.filter_bits,
        hardening=schema["hardening"],
        schema_filter=schema["filter"],
        schema_fields=schema["fields"],
        schema_blocking_keys=schema["blocking_keys"],
        retention_days=project.retention_days,
        retention=tuple(_retention(u) for u in uploads),
        privacy=privacy_evaluations(session, project),
        audit=entries,
        audit_total=total,
    )


def _run_summary(run: Run) -> RunSummary:
    s = run.summary or {}
    return RunSummary(run=run.id, status=run.status, created_at=run.created_at,
                      matches_total=int(s.get("matches", 0)),
                      possible_total=int(s.get("possible_matches", 0)),
                      threshold=(run.config or {}).get("threshold"))


# --- runs ----------------------------------------------------------------------------------


def build_run_report(session: Session, project: Project, run: Run, *,
                     audit_check: AuditVerification | None = None) -> RunReport:
    summary: dict[str, Any] = run.summary or {}
    config: dict[str, Any] = run.config or {}
    stored = summary.get("report")  # aggregates stored with the run (absent: older runs)
    clusters = _cluster_sizes(session, run, stored)
    uploads = _uploads(session, run)
    hist_raw = summary.get("score_histogram")
    threshold = config.get("threshold")
    precision, note = precision_at(hist_raw, threshold)
    entries, total = audit_entries(session, project.id)
    schema = schema_settings(project)
    return RunReport(
        project=project.name,
        run=run.id,
        status=run.status,
        agencies=_agency_counts(session, run, summary, stored),
        schema_fingerprint=project.schema_fingerprint,
        filter_bits=project.filter_bits,
        threshold=threshold,
        possible_threshold=config.get("possible_threshold"),
        hardening=schema["hardening"] or _hardening(uploads),
        schema_filter=schema["filter"],
        schema_fields=schema["fields"],
        schema_blocking_keys=schema["blocking_keys"],
        blocking=_flatten(config.get("blocking") or {}),
        matching=_flatten({k: v for k, v in config.items()
                           if k not in ("blocking", "threshold", "possible_threshold")}),
        matches_total=sum(c.matches for c in clusters),
        possible_total=sum(c.possible for c in clusters),
        pairs=_pair_counts(session, run, stored),
        cluster_sizes=clusters,
        histogram=display_histogram(hist_raw),
        estimated_precision=precision,
        precision_note=note,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        durations=_durations(summary.get("durations") or {}),
        retention=tuple(_retention(u) for u in uploads),
        privacy=privacy_evaluations(session, project),
        audit=entries,
        audit_total=total,
        audit_check=audit_check,
    )


def _durations(raw: Mapping[str, Any]) -> tuple[StageDuration, ...]:
    stages = [StageDuration(k, float(v)) for k, v in raw.items() if k != "total"]
    if "total" in raw:
        stages.append(StageDuration("matching engine, all stages", float(raw["total"])))
    return tuple(stages)


def _agency_counts(session: Session, run: Run, summary: Mapping[str, Any],
                   stored: Mapping[str, Any] | None = None) -> tuple[AgencyCount, ...]:
    """Per agency: records of its input and the groups (by decision) holding its records."""
    records = summary.get("records") or {a: v.get("record_count", 0) for a, v in run.inputs.items()}
    if stored is not None:
        linked = {(a, d): int(n) for a, c in stored["agency_groups"].items()
                  for d, n in c.items()}
    else:
        linked = {(a, d): int(n) for a, d, n in session.execute(
            select(RunResult.agency, RunResult.decision,
                   func.count(func.distinct(RunResult.match_id)))
            .where(RunResult.run_id == run.id).group_by(RunResult.agency, RunResult.decision))}
    return tuple(AgencyCount(a, int(records.get(a, 0)), matched=linked.get((a, "match"), 0),
                             possible=linked.get((a, "possible"), 0)) for a in sorted(run.inputs))


def _pair_counts(session: Session, run: Run, stored: Mapping[str, Any] | None = None
                 ) -> tuple[PairCount, ...]:
    """Per pair of agencies: the groups holding records of both (stored with the run, or a
    self-join on the group for older runs)."""
    if stored is not None:
        counts = {(*k.split("|", 1), d): int(n) for k, c in stored["pair_groups"].items()
                  for d, n in c.items()}
    else:
        a, b = aliased(RunResult), aliased(RunResult)
        rows = session.execute(
            select(a.agency, b.agency, a.decision, func.count(func.distinct(a.match_id)))
            .join(b, (b.run_id == a.run_id) & (b.match_id == a.match_id)
                  & (b.agency > a.agency))
            .where(a.run_id == run.id).group_by(a.agency, b.agency, a.decision))
        counts = {(x, y, d): int(n) for x, y, d, n in rows}
    return tuple(PairCount(x, y, counts.get((x, y, "match"), 0), counts.get((x, y, "possible"), 0))
                 for x, y in itertools.combinations(sorted(run.inputs), 2))


def _cluster_sizes(session: Session, run: Run, stored: Mapping[str, Any] | None = None
                   ) -> tuple[ClusterSize, ...]:
    """Groups by their number of records, per decision."""
    if stored is not None:
        return tuple(ClusterSize(int(n), int(c.get("match", 0)), int(c.get("possible", 0)))
                     for n, c in sorted(stored["cluster_sizes"].items(), key=lambda x: int(x[0])))
    per_group = (select(RunResult.decision.label("decision"), func.count().label("size"))
                 .where(RunResult.run_id == run.id)
                 .group_by(RunResult.match_id, RunResult.decision).subquery())
    rows = session.execute(select(per_group.c.size, per_group.c.decision, func.count())
                           .group_by(per_group.c.size, per_group.c.decision))
    by_size: dict[int, Counter[str]] = defaultdict(Counter)
    for size, decision, n in rows:
        by_size[int(size)][decision] += int(n)
    return tuple(ClusterSize(n, c["match"], c["possible"]) for n, c in sorted(by_size.items()))


def display_histogram(raw: Mapping[str, Any] | None) -> ScoreHistogram | None:
    """The run's candidate-pair histogram, merged into at most ``DISPLAY_BINS`` bins."""
    if not raw or not raw.get("counts"):
        return None
    edges = [float(x) for x in raw["edges"]]
    counts = [int(x) for x in raw["counts"]]
    n = len(counts)
    factor = -(-n // DISPLAY_BINS)
    # Prefer a factor that divides the bins evenly; else the last bin is narrower.
    factor = next((f for f in range(factor, 2 * factor + 1) if n % f == 0), factor)
    starts = range(0, n, factor)
    merged = [sum(counts[i : i + factor]) for i in starts]
    kept = [edges[i] for i in starts] + [edges[-1]]
    return ScoreHistogram(tuple(round(e, 6) for e in kept), tuple(merged))


def precision_at(raw: Mapping[str, Any] | None, threshold: float | None) -> tuple[float | None, str]:
    """Estimated precision at ``threshold`` from the beta mixture the engine fits to the
    candidate-pair scores (``linkage.matching.threshold``), and a note saying how or why not."""
    if threshold is None:
        return None, "The run has no match threshold."
    if not raw or not raw.get("counts"):
        return None, "The run recorded no score distribution to estimate it from."
    hist = EngineHistogram(np.asarray(raw["edges"], dtype=np.float64),
                           np.asarray(raw["counts"], dtype=np.int64))
    fit = suggest_threshold(hist)
    if fit is None:
        return None, "Too few candidate pairs were scored to fit the score model."
    if not fit.reliable:
        return None, ("The score distribution does not separate into matches and non-matches "
                      "clearly enough for an estimate.")
    s1 = float(1 - fit.match.cdf(threshold))
    s0 = float(1 - fit.non_match.cdf(threshold))
    above = fit.match.weight * s1 + fit.non_match.weight * s0
    precision = fit.match.weight * s1 / above if above > 0 else 1.0
    return precision, (
        "Estimated without ground truth: a two-component beta mixture fitted to the scores of "
        "all candidate pairs gives the expected share of true matches among pairs scoring at "
        f"least the threshold (the model suggests a threshold of {fit.threshold:g}).")


def _uploads(session: Session, run: Run) -> list[Upload]:
    ids = [v.get("upload_id") for v in run.inputs.values()]
    return list(session.execute(select(Upload).where(Upload.id.in_(ids))
                                .order_by(Upload.agency)).scalars())


def _retention(u: Upload) -> RetentionItem:
    erased = u.ended_at if u.blob_name is None and u.status != "current" else None
    label = {"current": "current upload", "superseded": "replaced upload",
             "deleted": "deleted upload"}.get(u.status, u.status)
    delete_after = u.delete_after if u.status == "current" else None
    return RetentionItem(u.agency, u.created_at, delete_after, erased, label)


def schema_settings(project: Project) -> dict[str, dict[str, str]]:
    """The public settings of the project's linkage schema shown to the DPO: hardening,
    filter, fields with their weights (names and weights only) and the encoded blocking
    keys. Empty mappings when the operator did not give the schema."""
    empty: dict[str, dict[str, str]] = {"hardening": {}, "filter": {}, "fields": {},
                                        "blocking_keys": {}}
    if not project.linkage_schema:
        return empty
    try:
        schema = LinkageSchema.model_validate(project.linkage_schema)
    except ValueError:
        return empty
    return {
        "hardening": _flatten(schema.hardening.model_dump(mode="json")),
        "filter": {"bits": str(schema.filter.bits),
                   "hash_function": schema.filter.hash_function,
                   "field_filters": json.dumps(schema.filter.field_filters),
                   **({"field_bits": str(schema.filter.field_bits)}
                      if schema.filter.field_filters else {}),
                   "max_variants": str(schema.max_variants)},
        "fields": {f.name: str(f.weight) for f in schema.fields},
        "blocking_keys": {k.name: " + ".join(f"{p.field} ({p.transform})" for p in k.parts)
                          for k in schema.blocking_keys},
    }


def privacy_evaluations(session: Session, project: Project) -> tuple[PrivacyEvaluation, ...]:
    """The latest privacy-check summary each agency shared (aggregate numbers only)."""
    rows = session.execute(select(PrivacyRow).where(PrivacyRow.project_id == project.id)
                           .order_by(PrivacyRow.agency)).scalars().all()
    out = []
    for row in rows:
        s: dict[str, Any] = row.summary or {}
        stats: dict[str, Any] = s.get("stats") or {}
        attacks = tuple(
            PrivacyAttack(str(a.get("attack", "")), int(a.get("encodings", 0)),
                          int(a.get("guesses", 0)), int(a.get("correct", 0)),
                          float(a.get("precision", 0.0)), float(a.get("rate", 0.0)))
            for a in s.get("attacks") or ())
        results = {
            "largest acceptable re-identification rate": f"{float(s.get('max_rate', 0)):.2%}",
            "guesses count above precision": f"{float(s.get('min_precision', 0)):.0%}",
            "filter bits": str(stats.get("bits", "-")),
            "mean share of bits set": _num(stats.get("mean_fill")),
            "bit frequency variation (CV)": _num(stats.get("bit_frequency_cv")),
            "bit frequency entropy (1 = uniform)": _num(stats.get("bit_frequency_entropy")),
            "share of identical encodings": _num(stats.get("identical_share")),
            "distinct filter weights": str(stats.get("distinct_weights", "-")),
            "filter weight spread (std)": _num(stats.get("weight_std")),
        }
        counts = {"encodings attacked": int(s.get("encodings", 0)),
                  "reference records": int(s.get("reference_records", 0))}
        verdict = ("passed: no attack exceeded the limits" if s.get("passed")
                   else "failed: an attack exceeded the limits")
        out.append(PrivacyEvaluation(row.agency, row.shared_at, results, verdict, counts,
                                     attacks))
    return tuple(out)


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4g}"


def _hardening(uploads: list[Upload]) -> dict[str, str]:
    """Hardening settings, where the uploads' metadata carries them (they are part of the
    schema, which the service otherwise knows only by its fingerprint)."""
    for u in uploads:
        value = (u.file_metadata or {}).get("hardening")
        if isinstance(value, Mapping):
            return _flatten(value)
    return {}


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        elif value is None:
            out[name] = "none"
        elif isinstance(value, (list, tuple)):
            out[name] = ", ".join(str(v) for v in value) or "none"
        else:
            out[name] = json.dumps(value) if isinstance(value, bool) else str(value)
    return out


# --- audit ---------------------------------------------------------------------------------


def audit_entries(session: Session, project_id: str, limit: int = AUDIT_LIMIT
                  ) -> tuple[tuple[AuditEntry, ...], int]:
    """The latest ``limit`` entries of a project (oldest first) and how many there are."""
    total = session.execute(select(func.count()).select_from(AuditRow)
                            .where(AuditRow.project_id == project_id)).scalar_one()
    rows = session.execute(select(AuditRow).where(AuditRow.project_id == project_id)
                           .order_by(AuditRow.seq.desc()).limit(limit)).scalars().all()
    entries = tuple(
        AuditEntry(seq=r.seq, time=_parse_time(r.at), actor_role=r.actor_role,
                   actor_name=r.actor_name, action=r.action, object=r.object,
                   outcome=r.outcome)
        for r in reversed(rows)
    )
    return entries, int(total)


def _parse_time(at: str) -> datetime:
    t = datetime.fromisoformat(at)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def verification(result: Any, checked_at: datetime | None = None) -> AuditVerification:
    """``service.audit.VerifyResult`` as shown in reports."""
    return AuditVerification(ok=bool(result.ok), entries=int(result.entries),
                             head_seq=int(result.head_seq), head_hash=str(result.head_hash),
                             first_broken=result.first_broken, reason=result.reason or "",
                             checked_at=checked_at or datetime.now(UTC))
