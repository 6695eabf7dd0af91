"""`shopops`: serve, migrate, run the worker, and manage the store from a terminal."""

from __future__ import annotations

import sys

import click
import typer
from rich.markup import escape

from shopops.cli import analytics as analytics_cli
from shopops.cli import catalog, governance, server, staff
from shopops.cli.context import error_console, state
from shopops.cli.customer_analytics import register as register_customer_analytics
from shopops.cli.customers import customers_app
from shopops.cli.demo import demo_app
from shopops.cli.errors import exit_code_for
from shopops.cli.fulfilment import shipments_app
from shopops.cli.group_buying import group_buys_app
from shopops.cli.inventory import inventory_app
from shopops.cli.loyalty import loyalty_app
from shopops.cli.orders import orders_app
from shopops.cli.payments import payments_app
from shopops.cli.presales import presales_app
from shopops.cli.promotions import coupons_app, promotions_app
from shopops.cli.returns import returns_app
from shopops.cli.shipping import shipping_app
from shopops.cli.webhooks import webhooks_app
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
analytics_cli.register(app)
register_customer_analytics(app)
app.add_typer(staff.users_app, name="users")
app.add_typer(staff.tokens_app, name="tokens")
app.add_typer(governance.audit_app, name="audit")
app.add_typer(governance.outbox_app, name="outbox")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(customers_app, name="customers")
app.add_typer(catalog.catalog_app, name="catalog")
app.add_typer(inventory_app, name="inventory")
app.add_typer(orders_app, name="orders")
app.add_typer(shipments_app, name="shipments")
app.add_typer(payments_app, name="payments")
app.add_typer(returns_app, name="returns")
app.add_typer(promotions_app, name="promotions")
app.add_typer(coupons_app, name="coupons")
app.add_typer(loyalty_app, name="loyalty")
app.add_typer(group_buys_app, name="group-buys")
app.add_typer(presales_app, name="presales")
app.add_typer(shipping_app, name="shipping")
app.add_typer(demo_app, name="demo")


def run() -> None:
    """Console-script entry point: domain errors become a message and an exit code."""
    try:
        _dispatch()
    finally:
        state.close()  # stop background threads (analytics refresh) before the interpreter


def _dispatch() -> None:
    try:
        app(standalone_mode=False)
    except DomainError as error:
        error_console.print(f"[bold red]error[/] {escape(f'{error.code}: {error.message}')}")
        for field_error in error.errors:
            where = f"row {field_error.row}, " if field_error.row is not None else ""
            line = f"  - {where}{field_error.field}: {field_error.message} [{field_error.code}]"
            error_console.print(escape(line))  # "[code]" is text, not rich markup
        sys.exit(exit_code_for(error))
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        error_console.print("aborted")
        sys.exit(1)
    except (click.ClickException, typer.TyperException) as error:
        # typer >= 0.2x raises its own vendored click exceptions (not click.ClickException)
        show = getattr(error, "show", None)
        if show is not None:
            show()
        else:
            error_console.print(escape(str(error)))
        sys.exit(error.exit_code)
