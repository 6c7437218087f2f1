"""Commands that talk to the central service: ``linkage project show``, ``linkage upload``,
``linkage run start|status``, ``linkage results`` and ``linkage privacy-share``.

The service URL and the agency's token come from ``--url``/``--token``, the environment
(``LINKAGE_URL``, ``LINKAGE_TOKEN``) or the config file (``--config``, ``LINKAGE_CONFIG``,
``~/.config/linkage/client.toml``). Every failure prints one ``error:`` line and exits 1.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from linkage.client import ClientError, ServiceClient, load_config
from linkage.errors import LinkageError

__all__ = ["register"]

out = Console()
err = Console(stderr=True)

Url = Annotated[str | None, typer.Option("--url", help="Service URL (or LINKAGE_URL).")]
Token = Annotated[str | None, typer.Option(
    "--token", help="Agency token (or LINKAGE_TOKEN; prefer the config file).")]
ConfigPath = Annotated[Path | None, typer.Option(
    "--config", help="Client config file (or LINKAGE_CONFIG; default "
    "~/.config/linkage/client.toml).")]
Quiet = Annotated[bool, typer.Option("--no-progress", help="No progress bars.")]

project_app = typer.Typer(help="Linkage projects on the service.", no_args_is_help=True)
run_app = typer.Typer(help="Match runs on the service.", no_args_is_help=True)


@contextlib.contextmanager
def _client(url: str | None, token: str | None, config: Path | None) -> Iterator[ServiceClient]:
    """Open a client; turn every expected failure into one line on stderr and exit 1."""
    try:
        with ServiceClient.from_config(load_config(url, token, config)) as client:
            yield client
    except ClientError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(1) from None
    except (LinkageError, OSError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


def _run_line(run: dict) -> str:
    eta = run.get("eta_seconds")
    eta_s = f", about {eta:.0f}s left" if eta and run["status"] == "running" else ""
    return (f"run {run['id']}: {run['status']} ({run['stage']}, {run['percent']:.1f}%, "
            f"{run['comparisons']:,} comparisons{eta_s})")


def _print_run(run: dict) -> None:
    out.print(_run_line(run), highlight=False)
    if run.get("error"):
        out.print(f"  error: {run['error']}", highlight=False)
        if run.get("restartable"):
            out.print("  start a new run with: linkage run start " + run["project_id"],
                      highlight=False)
    summary = run.get("summary")
    if summary:
        out.print(f"  groups: {summary['groups']:,} ({summary['matches']:,} matches, "
                  f"{summary['possible_matches']:,} possible)", highlight=False)


def _wait(client: ServiceClient, project_id: str, run_id: str, show: bool) -> dict:
    if not show:
        return client.wait_run(project_id, run_id)
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.fields[comparisons]:,} comparisons"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(f"run {run_id}", total=100.0, comparisons=0)

        def update(run: dict) -> None:
            bar.update(task, completed=run["percent"], comparisons=run["comparisons"],
                       description=f"{run['stage']:>9}")

        return client.wait_run(project_id, run_id, progress=update)


def _finish(run: dict) -> None:
    _print_run(run)
    if run["status"] != "succeeded":
        raise typer.Exit(1)


@project_app.command("show")
def project_show(project_id: str, url: Url = None, token: Token = None,
                 config: ConfigPath = None,
                 as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
                 ) -> None:
    """Show a project's encoding parameters, agencies and matching settings."""
    with _client(url, token, config) as client:
        p = client.project(project_id)
    if as_json:
        out.print_json(json.dumps(p))
        return
    table = Table(title=f"project {p['id']}: {p['name']}", show_header=False)
    for label, value in (
        ("schema fingerprint", p["schema_fingerprint"]),
        ("key id", p["key_id"]),
        ("filter length", f"{p['filter_bits']} bits"),
        ("format version", str(p["format_version"])),
        ("agencies", ", ".join(a["name"] for a in p["agencies"])),
        ("agencies may start runs", "yes" if p["allow_agency_runs"] else "no"),
        ("scores released", "yes" if p["release_scores"] else "no"),
        ("match threshold", str(p["matching"].get("threshold"))),
        ("possible-match threshold", str(p["matching"].get("possible_threshold"))),
        ("solver", str(p["matching"].get("solver"))),
    ):
        table.add_row(label, value)
    out.print(table)


def upload(
    project_id: Annotated[str, typer.Argument(help="Project id.")],
    file: Annotated[Path, typer.Argument(help="Encoded file (.parquet or .ndjson).")],
    url: Url = None, token: Token = None, config: ConfigPath = None, no_progress: Quiet = False,
) -> None:
    """Upload (or replace) this agency's encodings for a project."""
    with _client(url, token, config) as client:
        if no_progress:
            result = client.upload(project_id, file)
        else:
            with Progress(TextColumn("upload"), BarColumn(), DownloadColumn(),
                          TransferSpeedColumn(), TimeRemainingColumn(), console=err,
                          transient=True) as bar:
                task = bar.add_task("upload", total=None)
                result = client.upload(project_id, file, progress=_bar_updater(bar, task))
    verb = "uploaded" if result.get("created", True) else "already current, unchanged:"
    out.print(f"{verb} {result['id']} ({result['record_count']:,} records, "
              f"sha256 {result['sha256'][:12]}…)", highlight=False)


def _bar_updater(bar: Progress, task: Any) -> Callable[[int, int], None]:
    def update(sent: int, total: int) -> None:
        bar.update(task, completed=sent, total=total)

    return update


@run_app.command("start")
def run_start(project_id: str, url: Url = None, token: Token = None, config: ConfigPath = None,
              wait: Annotated[bool, typer.Option("--wait", help="Follow until it ends.")] = False,
              no_progress: Quiet = False) -> None:
    """Start a run over all current uploads of the project."""
    with _client(url, token, config) as client:
        run = client.start_run(project_id)
        if not wait:
            _print_run(run)
            return
        run = _wait(client, project_id, run["id"], not no_progress)
    _finish(run)


@run_app.command("status")
def run_status(project_id: str,
               run_id: Annotated[str | None, typer.Argument(help="Default: the newest run.")] = None,
               url: Url = None, token: Token = None, config: ConfigPath = None,
               wait: Annotated[bool, typer.Option("--wait", help="Follow until it ends.")] = False,
               no_progress: Quiet = False) -> None:
    """Show a run's status and progress."""
    with _client(url, token, config) as client:
        if run_id is None:
            runs = client.runs(project_id)
            if not runs:
                raise ClientError(f"project {project_id} has no runs yet")
            run_id = runs[0]["id"]
        run = (_wait(client, project_id, run_id, not no_progress) if wait
               else client.run(project_id, run_id))
    if wait:
        _finish(run)
    else:
        _print_run(run)


def results(
    project_id: str,
    run: Annotated[str, typer.Option("--run", help="Run id, or latest.")] = "latest",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Save all results (.csv or .parquet).")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv or parquet (default: from the output name).")] = None,
    limit: Annotated[int, typer.Option(help="Rows to print without --output.")] = 20,
    url: Url = None, token: Token = None, config: ConfigPath = None,
) -> None:
    """This agency's results: its record references with match ids and decisions."""
    if fmt is not None and fmt not in ("csv", "parquet"):
        err.print("[red]error:[/red] --format must be csv or parquet")
        raise typer.Exit(2)
    with _client(url, token, config) as client:
        if output is not None:
            path = client.download_results(project_id, output, run, fmt)
            out.print(f"saved {path}", highlight=False)
            return
        page = client.results_page(project_id, run, limit=limit)
    table = Table(title=f"run {page['run_id']}: {page['total']:,} rows for {page['agency']}")
    for col in ("record_ref", "match_id", "decision", "other_agencies"):
        table.add_column(col)
    with_scores = any(r.get("score") is not None for r in page["items"])
    if with_scores:
        table.add_column("score")
    for r in page["items"]:
        row = [r["record_ref"], r["match_id"], r["decision"], ", ".join(r["other_agencies"])]
        if with_scores:
            row.append(f"{r['score']:.3f}")
        table.add_row(*row)
    out.print(table)
    if page["next_cursor"] is not None:
        out.print("(more rows: use --output to save all)", highlight=False)


def privacy_share(
    project_id: Annotated[str, typer.Argument(help="Project id.")],
    file: Annotated[Path, typer.Argument(help="The JSON of `linkage privacy-check --json`.")],
    url: Url = None, token: Token = None, config: ConfigPath = None,
) -> None:
    """Share this agency's privacy-check summary (aggregate numbers only) with the DPO."""
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] cannot read {file}: {exc}", highlight=False)
        raise typer.Exit(1) from None
    if not isinstance(summary, dict):
        err.print(f"[red]error:[/red] {file} is not a privacy-check summary", highlight=False)
        raise typer.Exit(1)
    with _client(url, token, config) as client:
        result = client.share_privacy_evaluation(project_id, summary)
    verdict = "passed" if result.get("passed") else "failed"
    out.print(f"shared the privacy check of {result['agency']} ({verdict}, "
              f"{len(result.get('attacks', []))} attacks) with project {project_id}",
              highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(project_app, name="project")
    app.add_typer(run_app, name="run")
    app.command("upload")(upload)
    app.command("results")(results)
    app.command("privacy-share")(privacy_share)
