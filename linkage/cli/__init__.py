"""The agency-side command line: ``linkage``.

Each command group lives in its own module and registers itself on the app; importing this
package does no work beyond building the Typer app.
"""

from __future__ import annotations

import typer

from linkage.cli import client_cmds, encode_cmds, match_cmds, privacy_cmds

__all__ = ["app", "main"]

app = typer.Typer(
    name="linkage",
    help="Privacy-preserving record linkage: encode locally, match centrally.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for _module in (encode_cmds, match_cmds, client_cmds, privacy_cmds):
    _module.register(app)


def main() -> None:
    app()
