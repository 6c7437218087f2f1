"""Agency-side privacy command: ``privacy-check``.

Simulates the published attacks on Bloom-filter encodings against the agency's own
encodings, locally, before anything is uploaded (see docs/privacy.md). Prints one line per
attack and the structural statistics; never prints a plaintext value or a key.

Exit status: 0 when no attack re-identifies more than ``--max-rate`` of the sampled records
with a precision above ``--min-precision``; 3 when one does (so that a script can gate an
upload on it); 1 on an error; 2 on a usage error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from linkage.errors import LinkageError

__all__ = ["EXIT_LIMIT_EXCEEDED", "register"]

EXIT_LIMIT_EXCEEDED = 3

console = Console(stderr=True)
out = Console()


def _read_table(path: Path, columns: list[str]):
    import pandas as pd

    if path.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(path, columns=columns).astype(object)
    return pd.read_csv(
        path, usecols=columns, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8"
    )


def privacy_check_cmd(
    schema_path: Annotated[Path, typer.Option("--schema", help="Linkage schema (JSON).")],
    key_path: Annotated[Path, typer.Option("--key", help="Project key file.")],
    input_path: Annotated[Path, typer.Option("--input", help="The agency's plaintext (CSV/Parquet).")],
    encoded_path: Annotated[Path | None, typer.Option(
        "--encoded", help="Its encoded file; default: encode the sampled records now.")] = None,
    reference_path: Annotated[Path | None, typer.Option(
        "--reference", help="Public reference population (CSV/Parquet, schema columns).")] = None,
    sample: Annotated[int, typer.Option(min=50, help="Encoded records to attack.")] = 2000,
    reference_sample: Annotated[int, typer.Option(min=0, help="Reference records to use.")] = 2000,
    assume_overlap: Annotated[bool, typer.Option(
        help="Worst case: the attacker's plaintext holds the encoded people too.")] = True,
    max_rate: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Largest acceptable re-identification rate.")] = 0.01,
    min_precision: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Guesses count as re-identification above this precision.")] = 0.5,
    attack: Annotated[list[str] | None, typer.Option(
        "--attack", help="Attack to run (repeat); default: all.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample and of the attacker's key.")] = 0,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON.")] = None,
) -> None:
    """Simulate attacks on this agency's encodings and report re-identification risk."""
    from linkage.errors import CompatibilityError
    from linkage.format import read_encoded
    from linkage.keys import key_id, load_key
    from linkage.privacy import ATTACKS, CheckSettings, privacy_check
    from linkage.schema import load_schema

    attacks = tuple(attack) if attack else ATTACKS
    if set(attacks) - set(ATTACKS):
        console.print(f"[bold red]error:[/] --attack must be one of {', '.join(ATTACKS)}")
        raise typer.Exit(2)
    if not assume_overlap and reference_path is None:
        console.print("[bold red]error:[/] --no-assume-overlap needs --reference")
        raise typer.Exit(2)
    settings = CheckSettings(
        sample=sample, reference_sample=reference_sample, assume_overlap=assume_overlap,
        max_rate=max_rate, min_precision=min_precision, seed=seed, attacks=attacks,
    )
    try:
        schema = load_schema(schema_path)
        key = load_key(key_path)
        columns = schema.input_columns()
        plaintext = _read_table(input_path, columns)
        reference = _read_table(reference_path, columns) if reference_path else None
        encoded = None
        if encoded_path:
            md, encoded = read_encoded(encoded_path)
            if md.schema_fingerprint != schema.fingerprint() or md.key_id != key_id(key):
                raise CompatibilityError(
                    f"{encoded_path} was not encoded with this schema and key "
                    "(schema fingerprint or key id differ)"
                )
        with console.status("simulating attacks"):
            report = privacy_check(
                schema, key, plaintext, reference=reference, encoded=encoded, settings=settings
            )
    except (LinkageError, OSError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    _print_report(report)
    if json_path is not None:
        json_path.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    if not report.passed:
        names = ", ".join(r.attack for r in report.failures)
        console.print(
            f"[bold yellow]warning:[/] {names} re-identified more than {max_rate:.1%} of the "
            f"sampled records with precision above {min_precision:.0%}; do not upload these "
            "encodings (see docs/hardening.md)"
        )
        raise typer.Exit(EXIT_LIMIT_EXCEEDED)


def _print_report(report) -> None:
    table = Table(title=f"privacy check: {report.encodings} encodings, "
                        f"{report.reference_records} reference records")
    table.add_column("attack", no_wrap=True)
    for col in ("guesses", "correct", "prec.", "rate", "s", "note"):
        table.add_column(col)
    failing = {r.attack for r in report.failures}
    disclosing = {r.attack for r in report.attribute_disclosures}
    for r in report.results:
        style = "bold red" if r.attack in failing else "yellow" if r.attack in disclosing else None
        table.add_row(r.attack, str(r.guesses), str(r.correct), f"{r.precision:.1%}",
                      f"{r.rate:.2%}", f"{r.seconds:.1f}", r.note, style=style)
    out.print(table)
    s = report.stats
    out.print(
        f"bits {s.bits}, mean fill {s.mean_fill:.3f}; bit-frequency CV {s.bit_frequency_cv:.3f} "
        f"(min {s.bit_frequency_min:.3f}, max {s.bit_frequency_max:.3f}, entropy "
        f"{s.bit_frequency_entropy:.4f}); identical filters {s.identical_share:.2%}; distinct "
        f"weights {s.distinct_weights} (sd {s.weight_std:.1f})"
    )
    if report.complement_pairs:
        out.print(f"balancing undone by pairing {report.complement_pairs} complementary columns")
    for r in report.attribute_disclosures:
        out.print(f"[yellow]note:[/] the service could name the {r.attack.split(':', 1)[1]} value of "
                  f"{r.rate:.1%} of the records from its frequency (attribute, not identity; "
                  "docs/privacy.md, blocking keys)")
    out.print("result: " + ("[green]pass[/]" if report.passed else "[bold red]limit exceeded[/]"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("privacy-check")(privacy_check_cmd)
