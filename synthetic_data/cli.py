"""Command line: ``python -m synthetic_data --agencies 3 --people 100000 --seed 7 --out data/``.

Settings come from a preset, then a JSON config file, then the flags (each overriding the
one before). Prints a progress bar while writing and a summary table at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from synthetic_data.agencies import default_agencies
from synthetic_data.config import GeneratorConfig, config_from_dict, config_to_dict
from synthetic_data.presets import PRESETS, preset
from synthetic_data.writer import FORMATS, DatasetSummary, write_dataset

__all__ = ["build_config", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m synthetic_data",
        description="Generate synthetic multi-agency identity records with ground truth.",
    )
    p.add_argument("--preset", choices=PRESETS, help="start from a named configuration")
    p.add_argument("--config", type=Path, help="JSON configuration (as in manifest.json)")
    p.add_argument("--agencies", type=int, help="number of agencies (1-20, default 3)")
    p.add_argument("--people", type=int, help="number of distinct people")
    p.add_argument("--overlap", type=float, help="share of people held by 2+ agencies")
    p.add_argument("--duplicates", type=float, help="share of memberships with a duplicate")
    p.add_argument("--error-scale", type=float,
                   help="multiply every corruption rate (0 = clean records)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("data"), help="output directory")
    p.add_argument("--format", choices=FORMATS, default="csv", help="file format")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="worker processes (the data does not depend on it)")
    p.add_argument("--log-corruptions", action="store_true",
                   help="also write the corruptions applied to each record")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return p


def build_config(args: argparse.Namespace) -> GeneratorConfig:
    config = preset(args.preset) if args.preset else GeneratorConfig()
    if args.config:
        data = json.loads(args.config.read_text(encoding="utf-8"))
        config = config_from_dict({**config_to_dict(config), **data.get("config", data)})
    changes: dict[str, object] = {}
    if args.agencies is not None:
        changes["agencies"] = default_agencies(args.agencies)
    if args.people is not None:
        changes["people"] = args.people
    if args.overlap is not None:
        changes["overlap"] = args.overlap
    if args.duplicates is not None:
        changes["duplicate_rate"] = args.duplicates
    if args.error_scale is not None:
        if args.error_scale < 0:
            raise ValueError("--error-scale must be >= 0")
        changes["corruption"] = config.corruption.scaled(args.error_scale)
    return dataclasses.replace(config, **changes)


def _summary_table(summary: DatasetSummary, config: GeneratorConfig) -> Table:
    table = Table(title=f"{summary.total_records:,} records, {summary.people:,} people, "
                        f"seed {summary.seed}, {summary.seconds:.1f} s "
                        f"({summary.total_records / max(summary.seconds, 1e-9):,.0f} records/s)")
    for col in ("agency", "country", "role", "records", "file"):
        table.add_column(col)
    for a in config.agencies:
        table.add_row(a.name, a.country, a.role, f"{summary.records[a.name]:,}",
                      summary.files[a.name])
    table.add_row("truth", "", "", f"{summary.total_records:,}", summary.files["truth"])
    return table


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console(stderr=True, quiet=args.quiet)
    try:
        config = build_config(args)
    except (ValueError, TypeError, OSError, json.JSONDecodeError) as exc:
        console.print(f"[red]invalid configuration:[/red] {exc}", highlight=False)
        return 2
    columns = (TextColumn("[bold]generating"), BarColumn(), MofNCompleteColumn(),
               TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=args.quiet) as progress:
        task = progress.add_task("records", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = write_dataset(config, args.seed, args.out, fmt=args.format,
                                workers=args.workers, log_corruptions=args.log_corruptions,
                                progress=report)
    console.print(_summary_table(summary, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
