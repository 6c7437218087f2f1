"""Agency-side commands: ``keygen``, ``schema init|check``, ``encode``.

Nothing here prints a key or a plaintext value; errors name rows and fields only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from linkage.errors import LinkageError
from linkage.schema import default_schema, load_schema

console = Console(stderr=True)
out = Console()

schema_app = typer.Typer(help="Create and check linkage schemas.", no_args_is_help=True)


def fail(exc: Exception, code: int = 1) -> typer.Exit:
    """Print a one-line error (no traceback) and return the exit to raise."""
    console.print(f"[bold red]error:[/] {exc}", highlight=False)
    return typer.Exit(code)


def keygen(
    out_path: Annotated[Path, typer.Option("--out", help="Key file to create (mode 0600).")],
) -> None:
    """Create a 256-bit random project secret; prints only its key id."""
    from linkage.keys import generate_key, key_id, write_key

    try:
        key = generate_key()
        write_key(key, out_path)
    except LinkageError as exc:
        raise fail(exc) from None
    out.print(key_id(key))


@schema_app.command("init")
def schema_init(
    out_path: Annotated[Path, typer.Option("--out", help="Schema file to write.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write the documented default schema for person records."""
    if out_path.exists() and not force:
        raise fail(FileExistsError(f"{out_path} exists; use --force to overwrite"))
    out_path.write_text(default_schema().to_json(), encoding="utf-8")
    out.print(f"wrote {out_path} (fingerprint {default_schema().fingerprint()})")


@schema_app.command("check")
def schema_check(path: Annotated[Path, typer.Argument(help="Schema file.")]) -> None:
    """Validate a schema; print fields, weights, filter length and the fingerprint."""
    try:
        schema = load_schema(path)
    except LinkageError as exc:
        raise fail(exc) from None
    table = Table(title=f"schema {schema.name!r} (version {schema.schema_version})")
    for col in ("field", "columns", "normaliser", "tokeniser", "bits/token", "missing"):
        table.add_column(col)
    for f in schema.fields:
        tok = f.tokeniser.kind + (f" q={f.tokeniser.q}" if f.tokeniser.kind == "qgram" else "")
        cols = ", ".join(f.columns) + (f" + aliases:{f.aliases_column}" if f.aliases_column else "")
        table.add_row(f.name, cols, f.normaliser.kind, tok, str(f.weight), f.missing)
    out.print(table)
    h = schema.hardening
    out.print(f"filter length: {schema.filter.bits} bits ({schema.filter.hash_function}), "
              f"field filters: {'yes' if schema.filter.field_filters else 'no'}, "
              f"max variants: {schema.max_variants}")
    out.print(f"blocking keys: {', '.join(b.name for b in schema.blocking_keys) or 'none'}")
    out.print(f"hardening: {h.model_dump()}")
    out.print(f"fingerprint: {schema.fingerprint()}")


def encode(
    schema_path: Annotated[Path, typer.Option("--schema", help="Linkage schema (JSON).")],
    key_path: Annotated[Path, typer.Option("--key", help="Project key file.")],
    input_path: Annotated[Path, typer.Option("--input", help="CSV or Parquet records.")],
    output_path: Annotated[Path, typer.Option("--output", help="Encoded file (.parquet/.ndjson).")],
    on_error: Annotated[str, typer.Option(help="fail: stop at the first bad row; skip: "
                                          "encode the rest and write a rejects report.")] = "fail",
    rejects: Annotated[Path | None, typer.Option(help="Rejects report (CSV: row, field, "
                                                 "reason; no values).")] = None,
    chunk_size: Annotated[int, typer.Option(min=100, help="Rows per chunk.")] = 50_000,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: "
                                                "all cores).")] = None,
    strict_columns: Annotated[bool, typer.Option(help="Refuse input columns the schema "
                                                 "does not use.")] = False,
    reference_map: Annotated[Path | None, typer.Option(help="Write a local record_id,ref CSV "
                                                       "to map results back (stays here).")] = None,
    date_order: Annotated[str | None, typer.Option(help="How this agency writes ambiguous "
                                                   "nn/nn/yyyy dates: day_first or month_first "
                                                   "(default: the schema's rule).")] = None,
) -> None:
    """Encode records into keyed Bloom filters. Plaintext and key never leave this machine."""
    from linkage.encode import encode_file, input_row_count
    from linkage.keys import load_key

    if on_error not in ("fail", "skip"):
        raise fail(ValueError("--on-error must be 'fail' or 'skip'"), 2)
    if date_order not in (None, "day_first", "month_first"):
        raise fail(ValueError("--date-order must be 'day_first' or 'month_first'"), 2)
    if on_error == "skip" and rejects is None:
        rejects = output_path.with_name(output_path.name + ".rejects.csv")
    try:
        schema = load_schema(schema_path)
        key = load_key(key_path)
        with _progress() as progress:
            task = progress.add_task("encoding", total=input_row_count(input_path))
            report = encode_file(
                schema, key, input_path, output_path,
                on_error=on_error,  # type: ignore[arg-type]
                rejects_path=rejects, chunk_size=chunk_size, workers=workers,
                strict_columns=strict_columns, reference_map=reference_map,
                date_order=date_order,  # type: ignore[arg-type]
                progress=lambda n: progress.advance(task, n),
            )
    except (LinkageError, OSError) as exc:
        raise fail(exc) from None
    if report.ignored_columns:
        console.print(f"ignored input columns: {', '.join(report.ignored_columns)}")
    out.print(
        f"encoded {report.records_encoded:,} of {report.records_read:,} records in "
        f"{report.seconds:.1f} s ({report.records_per_second:,.0f} records/s) -> {output_path}"
    )
    if report.rejects:
        out.print(f"rejected {len(report.rejects):,} records; report: {rejects}")


class RateColumn(ProgressColumn):
    """Records per second, from Rich's own speed estimate."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} records/s" if speed else "- records/s", style="cyan")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def register(app: typer.Typer) -> None:
    app.command("keygen")(keygen)
    app.add_typer(schema_app, name="schema")
    app.command("encode")(encode)
