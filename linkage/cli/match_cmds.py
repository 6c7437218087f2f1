"""Offline matching commands: ``match``, ``evaluate``, ``suggest-threshold``.

They read encoded files only (never plaintext) and refuse files that cannot be compared.
The party of a file is its file name up to ".clk" (``agency_a.clk.parquet`` -> ``agency_a``)
unless ``--party`` names are given, one per file in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from linkage.cli.encode_cmds import fail
from linkage.errors import LinkageError
from linkage.format import EncodedData, check_compatible, read_encoded, read_metadata
from linkage.matching import BlockingConfig, LinkProgress, LinkResult, MatchConfig, link
from linkage.matching.evaluate import (
    Evaluation,
    evaluate_link,
    evaluate_matches,
    load_truth,
    read_table,
)
from linkage.matching.results import matches_table

__all__ = ["party_name", "register"]

console = Console(stderr=True)
out = Console()

Files = Annotated[list[Path], typer.Argument(help="Encoded files (.clk.parquet or .ndjson).",
                                             exists=True, dir_okay=False)]
Parties = Annotated[list[str] | None, typer.Option(
    "--party", help="Party names, one per file in order (default: file name before .clk).")]
Threshold = Annotated[float, typer.Option(help="Score for a match.")]
Possible = Annotated[float | None, typer.Option(
    help="Score for a possible match (review) [default: 0.7, or --threshold if lower].")]
NoPossible = Annotated[bool, typer.Option("--no-possible", help="No possible-match band.")]
Solver = Annotated[str, typer.Option(
    help="greedy (clusters) | optimal (two parties, one-to-one) | many_to_many.")]
Duplicates = Annotated[bool, typer.Option(help="Clusters may hold several records of a party.")]
Blocking = Annotated[str, typer.Option(help="lsh | keys | lsh+keys | none.")]
Bands = Annotated[int, typer.Option(help="LSH bands.")]
Rows = Annotated[int, typer.Option(help="Sampled bits per LSH band.")]
Seed = Annotated[int, typer.Option(help="Seed of the LSH bit positions.")]
MaxBucket = Annotated[int, typer.Option(
    help="Buckets larger than this are reduced to nearest partners (or skipped, see --oversized).")]
Oversized = Annotated[str, typer.Option(
    help="nearest: pair each record of an oversized bucket with its --nearest-k most similar "
         "other-party records there; skip: drop oversized buckets.")]
NearestK = Annotated[int, typer.Option(help="Partners kept per record in an oversized bucket.")]
Keys = Annotated[list[str] | None, typer.Option("--key", help="Blocking key to use (repeat).")]
Weights = Annotated[list[str] | None, typer.Option(
    "--field-weight", help="FIELD=WEIGHT: score with field-level filters (repeat).")]
Metric = Annotated[str, typer.Option(help="dice | jaccard.")]
Threads = Annotated[int | None, typer.Option(help="Threads (default: all cores).")]


# Command-line defaults come from the models, so the CLI and the library never disagree.
_DEFAULT = MatchConfig()
_DEFAULT_BLOCKING = _DEFAULT.blocking


def party_name(path: Path) -> str:
    """``a.clk.parquet`` -> ``a``; without ".clk", the name up to its first dot."""
    name = path.name
    return name[: name.index(".clk")] if ".clk" in name else name.split(".")[0]


def _party_names(files: list[Path], parties: list[str] | None) -> list[str]:
    names = list(parties) if parties else [party_name(f) for f in files]
    if len(names) != len(files):
        raise typer.BadParameter(f"{len(names)} --party names for {len(files)} files")
    if len(set(names)) != len(names):
        raise typer.BadParameter("party names must differ (use --party)")
    return names


def _config(threshold: float, possible: float | None, no_possible: bool, solver: str,
            allow_duplicates: bool, blocking: str, bands: int, rows: int, seed: int,
            max_bucket: int, keys: list[str] | None, weights: list[str] | None,
            metric: str, threads: int | None, *,
            oversized: str = _DEFAULT_BLOCKING.oversized,
            nearest_k: int = _DEFAULT_BLOCKING.nearest_k) -> MatchConfig:
    field_weights = None
    if weights:
        field_weights = {}
        for item in weights:
            name, sep, value = item.partition("=")
            if not sep:
                raise typer.BadParameter(f"--field-weight {item!r}: expected FIELD=WEIGHT")
            field_weights[name] = float(value)
    try:
        return MatchConfig(
            threshold=threshold,
            possible_threshold=None if no_possible else (
                possible if possible is not None
                else min(_DEFAULT.possible_threshold or threshold, threshold)),
            solver=solver,
            allow_duplicates=allow_duplicates,
            blocking=BlockingConfig(method=blocking, lsh_bands=bands, lsh_rows=rows, seed=seed,
                                    max_bucket=max_bucket, keys=keys or None,
                                    oversized=oversized, nearest_k=nearest_k),
            field_weights=field_weights,
            metric=metric,
            threads=threads,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc).split("\n", 1)[-1]) from None


def load_parties(files: list[Path], names: list[str]) -> dict[str, EncodedData]:
    """Check compatibility on the metadata first (cheap), then read every file."""
    check_compatible({str(f): read_metadata(f) for f in files})
    return {name: read_encoded(f)[1] for f, name in zip(files, names, strict=True)}


def _run(parties: dict[str, EncodedData], config: MatchConfig, *,
         keep_candidates: bool = False) -> LinkResult:
    with Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[comparisons]:>14,} comparisons"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(p: LinkProgress) -> None:
            if p.stage not in tasks:
                tasks[p.stage] = bar.add_task(p.stage, total=max(p.total, 1), comparisons=0)
            bar.update(tasks[p.stage], completed=p.done, total=max(p.total, 1),
                       comparisons=p.comparisons)

        return link(parties, config, progress=progress, keep_candidates=keep_candidates)


def _summary(result: LinkResult) -> Table:
    s = result.blocking_stats
    t = Table(title="linkage", show_header=False)
    d = result.decisions()
    rows = [
        ("parties", ", ".join(result.parties)),
        ("blocking", s.method + (f" ({s.lsh_bands} bands x {s.lsh_rows} bits)"
                                 if s.lsh_bands else "")),
        ("candidate pairs", f"{result.candidate_pairs:,} of {s.total_pairs:,}"),
        ("reduction ratio", f"{s.reduction_ratio:.6f}"),
        ("oversized buckets refined", f"{s.refined_buckets:,} ({s.nearest_pairs:,} nearest pairs)"),
        ("oversized buckets skipped", f"{s.oversized_buckets:,} (largest {s.largest_bucket:,})"),
        ("comparisons", f"{result.comparisons:,}"),
        ("groups", f"{d['match']:,} match, {d['possible']:,} possible"),
    ]
    sug = result.threshold_suggestion
    if sug is not None:
        rows.append(("suggested thresholds",
                     f"match {sug.threshold:.3f} (est. precision {sug.estimated_precision:.4f}, "
                     f"recall {sug.estimated_recall:.4f}); possible {sug.possible_threshold:.3f}"
                     + ("" if sug.reliable else " [unreliable: no clear second mode]")))
    rows.append(("time", ", ".join(f"{k} {v:.2f}s" for k, v in result.durations.items())))
    for k, v in rows:
        t.add_row(k, v)
    return t


def _write(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.part")
    if path.suffix.lower() == ".parquet":
        df.to_parquet(tmp, index=False)
    else:
        df.to_csv(tmp, index=False)
    tmp.replace(path)


def match(
    files: Files,
    out_path: Annotated[Path, typer.Option("--out", help="Matches file (.parquet or .csv).")],
    party: Parties = None,
    threshold: Threshold = _DEFAULT.threshold,
    possible_threshold: Possible = None,
    no_possible: NoPossible = False,
    solver: Solver = _DEFAULT.solver,
    allow_duplicates: Duplicates = _DEFAULT.allow_duplicates,
    blocking: Blocking = _DEFAULT_BLOCKING.method,
    lsh_bands: Bands = _DEFAULT_BLOCKING.lsh_bands,
    lsh_rows: Rows = _DEFAULT_BLOCKING.lsh_rows,
    seed: Seed = _DEFAULT_BLOCKING.seed,
    max_bucket: MaxBucket = _DEFAULT_BLOCKING.max_bucket,
    oversized: Oversized = _DEFAULT_BLOCKING.oversized,
    nearest_k: NearestK = _DEFAULT_BLOCKING.nearest_k,
    key: Keys = None,
    field_weight: Weights = None,
    metric: Metric = _DEFAULT.metric,
    threads: Threads = None,
) -> None:
    """Link two or more encoded files; write one row per group member.

    Columns: match_id, decision (match | possible), party, ref, score (of the group),
    cluster_size.
    """
    if len(files) < 2:
        raise fail(ValueError("give at least two encoded files"))
    names = _party_names(files, party)
    config = _config(threshold, possible_threshold, no_possible, solver, allow_duplicates,
                     blocking, lsh_bands, lsh_rows, seed, max_bucket, key, field_weight,
                     metric, threads, oversized=oversized, nearest_k=nearest_k)
    try:
        parties = load_parties(files, names)
        result = _run(parties, config)
        _write(matches_table(result, parties), out_path)
    except LinkageError as exc:
        raise fail(exc) from None
    out.print(_summary(result))
    out.print(f"wrote {out_path}")


def _metrics_table(ev: Evaluation) -> Table:
    t = Table(title="evaluation (record pairs across parties)")
    for col in ("", "precision", "recall", "F1", "TP", "FP", "FN"):
        t.add_column(col, justify="right")
    for label, m in (("match", ev.matches), ("match + possible", ev.matches_and_possible)):
        t.add_row(label, f"{m.precision:.4f}", f"{m.recall:.4f}", f"{m.f1:.4f}",
                  f"{m.true_positives:,}", f"{m.false_positives:,}", f"{m.false_negatives:,}")
    if ev.blocking is not None:
        b = ev.blocking
        t.caption = (f"blocking: pair completeness {b.pair_completeness:.4f}, reduction ratio "
                     f"{b.reduction_ratio:.6f} ({b.candidate_pairs:,} candidates, "
                     f"{b.true_pairs_found:,} of {b.true_pairs:,} true pairs)")
    return t


def evaluate(
    files: Annotated[list[Path] | None, typer.Argument(
        help="Encoded files: link them (or, with --matches, only measure blocking).")] = None,
    truth: Annotated[Path, typer.Option(
        help="Truth CSV/Parquet: party (or agency), ref (or record_id), entity_id.")] = ...,
    mapping: Annotated[Path | None, typer.Option(
        help="CSV: party (or agency), record_id, ref — when refs are pseudonyms.")] = None,
    matches: Annotated[Path | None, typer.Option(
        help="Evaluate this matches file instead of linking.")] = None,
    party: Parties = None,
    threshold: Threshold = _DEFAULT.threshold,
    possible_threshold: Possible = None,
    no_possible: NoPossible = False,
    solver: Solver = _DEFAULT.solver,
    allow_duplicates: Duplicates = _DEFAULT.allow_duplicates,
    blocking: Blocking = _DEFAULT_BLOCKING.method,
    lsh_bands: Bands = _DEFAULT_BLOCKING.lsh_bands,
    lsh_rows: Rows = _DEFAULT_BLOCKING.lsh_rows,
    seed: Seed = _DEFAULT_BLOCKING.seed,
    max_bucket: MaxBucket = _DEFAULT_BLOCKING.max_bucket,
    oversized: Oversized = _DEFAULT_BLOCKING.oversized,
    nearest_k: NearestK = _DEFAULT_BLOCKING.nearest_k,
    key: Keys = None,
    field_weight: Weights = None,
    metric: Metric = _DEFAULT.metric,
    threads: Threads = None,
) -> None:
    """Precision, recall and F1 against ground truth, and the blocking's pair completeness
    and reduction ratio. Pairs are counted between records of different parties."""
    files = files or []
    if matches is None and len(files) < 2:
        raise fail(ValueError("give at least two encoded files, or --matches"))
    try:
        truth_df = load_truth(truth, mapping)
        ev = None
        if files:
            names = party = _party_names(files, party)
            config = _config(threshold, possible_threshold, no_possible, solver,
                             allow_duplicates, blocking, lsh_bands, lsh_rows, seed, max_bucket,
                             key, field_weight, metric, threads, oversized=oversized,
                             nearest_k=nearest_k)
            parties = load_parties(files, names)
            result = _run(parties, config, keep_candidates=True)
            out.print(_summary(result))
            ev = evaluate_link(result, parties, truth_df)
        if matches is not None:
            ev = evaluate_matches(read_table(matches), truth_df, parties=party or None,
                                  blocking=None if ev is None else ev.blocking)
    except LinkageError as exc:
        raise fail(exc) from None
    out.print(_metrics_table(ev))


def suggest_threshold(
    files: Files,
    party: Parties = None,
    blocking: Blocking = _DEFAULT_BLOCKING.method,
    lsh_bands: Bands = _DEFAULT_BLOCKING.lsh_bands,
    lsh_rows: Rows = _DEFAULT_BLOCKING.lsh_rows,
    seed: Seed = _DEFAULT_BLOCKING.seed,
    max_bucket: MaxBucket = _DEFAULT_BLOCKING.max_bucket,
    oversized: Oversized = _DEFAULT_BLOCKING.oversized,
    nearest_k: NearestK = _DEFAULT_BLOCKING.nearest_k,
    key: Keys = None,
    field_weight: Weights = None,
    metric: Metric = _DEFAULT.metric,
    threads: Threads = None,
) -> None:
    """Suggest match and possible-match thresholds without ground truth (beta mixture fitted
    to the candidate scores), with the precision and recall the fitted model expects."""
    names = _party_names(files, party)
    config = _config(0.99, None, True, "greedy", False, blocking, lsh_bands, lsh_rows, seed,
                     max_bucket, key, field_weight, metric, threads, oversized=oversized,
                     nearest_k=nearest_k)
    try:
        result = _run(load_parties(files, names), config)
    except LinkageError as exc:
        raise fail(exc) from None
    sug = result.threshold_suggestion
    if sug is None:
        raise fail(ValueError("too few candidate pairs to fit a mixture"))
    t = Table(title=f"threshold suggestion ({sug.method}, {result.candidate_pairs:,} pairs)")
    for col in ("", "threshold", "est. precision", "est. recall"):
        t.add_column(col, justify="right")
    t.add_row("match", f"{sug.threshold:.3f}", f"{sug.estimated_precision:.4f}",
              f"{sug.estimated_recall:.4f}")
    t.add_row("possible", f"{sug.possible_threshold:.3f}",
              f"{sug.possible_estimated_precision:.4f}", f"{sug.possible_estimated_recall:.4f}")
    t.caption = (f"non-match mean {sug.non_match.mean:.3f} (weight {sug.non_match.weight:.4f}), "
                 f"match mean {sug.match.mean:.3f} (weight {sug.match.weight:.4f}); "
                 f"expected matching pairs {sug.estimated_matches:,.0f}"
                 + ("" if sug.reliable else "; UNRELIABLE: the scores show no clear second mode"))
    out.print(t)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("match")(match)
    app.command("evaluate")(evaluate)
    app.command("suggest-threshold")(suggest_threshold)
