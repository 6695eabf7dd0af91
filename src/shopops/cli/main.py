"""`shopops`: serve, migrate, run the worker, and manage the store from a terminal."""

from __future__ import annotations

import sys

import click
import typer

from shopops.cli import governance, server, staff
from shopops.cli.context import error_console, state
from shopops.cli.errors import exit_code_for
from shopops.kernel.errors import DomainError

app = typer.Typer(
    name="shopops",
    help="shopops: e-commerce operations from the terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    acting_as: str | None = typer.Option(
        None, "--as", help="Act as this staff user (their role's permissions apply)."
    ),
) -> None:
    state.acting_as = acting_as


server.register(app)
app.add_typer(staff.users_app, name="users")
app.add_typer(staff.tokens_app, name="tokens")
app.add_typer(governance.audit_app, name="audit")
app.add_typer(governance.outbox_app, name="outbox")


def run() -> None:
    """Console-script entry point: domain errors become a message and an exit code."""
    try:
        app(standalone_mode=False)
    except DomainError as error:
        error_console.print(f"[bold red]error[/] {error.code}: {error.message}")
        for field_error in error.errors:
            where = f"row {field_error.row}, " if field_error.row is not None else ""
            error_console.print(
                f"  - {where}{field_error.field}: {field_error.message} [{field_error.code}]"
            )
        sys.exit(exit_code_for(error))
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        error_console.print("aborted")
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
