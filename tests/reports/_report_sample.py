"""A realistic run report built by hand, shared by the report unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.reports.model import (
    AgencyCount,
    AuditEntry,
    AuditVerification,
    ClusterSize,
    PairCount,
    PrivacyEvaluation,
    RetentionItem,
    RunReport,
    ScoreHistogram,
    StageDuration,
)

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
EDGES = tuple(round(i / 40, 3) for i in range(41))
# Non-matches around 0.45, matches around 0.92; a few small bins on purpose.
COUNTS = (0,) * 8 + (3, 40, 200, 900, 1500, 1800, 1300, 700, 300, 120, 45, 12, 6, 2, 0,
                     1, 0, 0, 0, 3, 8, 20, 60, 70, 40, 9, 2, 1, 0, 0, 0, 0)


def sample_report(**overrides) -> RunReport:
    fields = dict(
        project="Western Balkans 2025",
        run="r-7f3a",
        status="succeeded",
        agencies=(
            AgencyCount("police", 1200, matched=150, possible=3),
            AgencyCount("labour", 800, matched=140, possible=4),
            AgencyCount("ngo", 90, matched=2, possible=0),
        ),
        schema_fingerprint="ab" * 32,
        filter_bits=1024,
        threshold=0.8,
        possible_threshold=0.7,
        hardening={"balancing": "off", "xor_folding": "off", "salt": "none"},
        blocking={"method": "lsh", "lsh_bands": "64", "lsh_rows": "24"},
        matching={"solver": "greedy", "metric": "dice"},
        matches_total=146,
        possible_total=3,
        pairs=(
            PairCount("labour", "ngo", 1, 0),
            PairCount("labour", "police", 139, 3),
            PairCount("ngo", "police", 2, 0),
        ),
        cluster_sizes=(ClusterSize(2, 145, 3), ClusterSize(3, 1, 0)),
        histogram=ScoreHistogram(EDGES, COUNTS),
        estimated_precision=0.987,
        precision_note="Two-component beta mixture fitted to the candidate-pair scores.",
        created_at=T0,
        started_at=T0 + timedelta(seconds=2),
        finished_at=T0 + timedelta(seconds=14.5),
        durations=(StageDuration("blocking", 1.2), StageDuration("scoring", 9.8),
                   StageDuration("solving", 0.4)),
        retention=(
            RetentionItem("police", T0 - timedelta(days=1), T0 + timedelta(days=29)),
            RetentionItem("labour", T0 - timedelta(days=2), T0 + timedelta(days=28),
                          T0 + timedelta(days=1)),
            RetentionItem("ngo", T0 - timedelta(days=3), None),
        ),
        privacy=(PrivacyEvaluation("police", T0, {"frequency attack: re-identified": "0 of 1000"},
                                   "passed"),),
        audit=(
            AuditEntry(1, T0, "operator", "admin", "project created", "project p1", "success"),
            AuditEntry(2, T0, "agency", "police", "upload", "project p1 upload u1", "success"),
            AuditEntry(3, T0, "dpo", "dora", "report viewed", "run r-7f3a", "success"),
        ),
        audit_check=AuditVerification(True, 3, 3, "cd" * 32, checked_at=T0),
        generated_at=T0 + timedelta(hours=1),
    )
    fields.update(overrides)
    return RunReport(**fields)
