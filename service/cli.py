"""``linkage-service``: serve the API, migrate the database, verify the audit trail and
bootstrap the operator's first credential (which needs database access, not the API)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from linkage.errors import LinkageError

__all__ = ["app", "main"]

app = typer.Typer(name="linkage-service", help="The central PPRL match service.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
operator_app = typer.Typer(help="Operator bootstrap.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(operator_app, name="operator")

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _settings():
    from service.settings import Settings

    try:
        return Settings()
    except Exception as exc:  # pydantic validation of the environment
        raise _fail(f"invalid settings: {exc}") from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (LINKAGE_SERVICE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (LINKAGE_SERVICE_PORT).")] = None,
) -> None:
    """Run the API server (uvicorn) with the in-process run worker."""
    import uvicorn

    from service.app import create_app

    settings = _settings()
    uvicorn.run(create_app(settings, freeze_gc=True), host=host or settings.host,
                port=port or settings.port, log_level=settings.log_level)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder (replaced).")] = Path("demo-output"),
    people: Annotated[int, typer.Option(help="Synthetic people.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    serve: Annotated[bool, typer.Option(help="Keep the service running afterwards.")] = False,
) -> None:
    """The end-to-end demo: three agencies, the service and a DPO (see service/demo.py)."""
    from service.demo import run_demo

    run_demo(out, people=people, seed=seed, serve=serve)


@app.command()
def worker() -> None:
    """Run only the match worker (for deployments that keep it out of the API process)."""
    from service.app import freeze_startup_objects, open_state

    state = open_state(_settings())
    freeze_startup_objects()
    out.print(f"run worker {state.runs.worker_id} started")
    try:
        state.runs.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.db.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply the migrations to the configured database."""
    from service.db.migrate import current_revision, upgrade
    from service.db.session import Database

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(settings.effective_database_url, settings=settings)
    try:
        upgrade(db, revision)
        out.print(f"database at revision {current_revision(db)}")
    except Exception as exc:
        raise _fail(f"migration failed ({type(exc).__name__}: {exc})") from None
    finally:
        db.dispose()


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 and name the first broken entry."""
    from service import audit
    from service.db.session import Database

    settings = _settings()
    db = Database(settings.effective_database_url, settings=settings)
    try:
        with db.read_session() as s:
            result = audit.verify(s)
            s.commit()
    finally:
        db.dispose()
    if result.ok:
        out.print(f"audit trail intact: {result.entries} entries, head {result.head_hash}")
        return
    raise _fail(f"audit trail broken at entry {result.first_broken}: {result.reason} "
                f"({result.entries} entries verified before it)")


@operator_app.command("create-token")
def create_token(
    name: Annotated[str, typer.Option(help="Operator name recorded in the audit trail.")] = "operator",
    days: Annotated[int | None, typer.Option(help="Lifetime in days.")] = None,
    label: Annotated[str, typer.Option(help="Free text to recognise the credential.")] = "",
) -> None:
    """Issue an operator credential directly in the database and print the token once."""
    from service import audit
    from service.app import open_state
    from service.auth import issue_credential
    from service.schemas import NAME_PATTERN

    if not re.match(NAME_PATTERN, name):
        raise _fail("name may hold letters, digits, '.', '_' and '-' (at most 64)")
    settings = _settings()
    lifetime = days or settings.token_default_days
    if lifetime > settings.token_max_days:
        raise _fail(f"days may be at most {settings.token_max_days}")
    state = open_state(settings)
    try:
        with state.db.transaction() as s:
            cred, token = issue_credential(s, role="operator", subject=name, label=label,
                                           days=lifetime, created_by="cli")
            audit.record(s, audit.Actor("system", "cli"), "credential.issued",
                         f"credential {cred.id}",
                         detail={"role": "operator", "subject": name, "days": lifetime})
    finally:
        state.db.dispose()
    err.print(f"operator credential {cred.id} for {name!r}, valid {lifetime} days. "
              "The token is shown once:")
    sys.stdout.write(token + "\n")


def main() -> None:
    try:
        app()
    except LinkageError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)
