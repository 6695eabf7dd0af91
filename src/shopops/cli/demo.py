"""demo seed."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopops.analytics import engines as analytics_engines
from shopops.cli.context import console, state
from shopops.demo.data import STAFF, STAFF_DOMAIN, staff_password
from shopops.demo.generator import DemoSize, is_seeded, seed_demo

demo_app = typer.Typer(help="The demo store.", no_args_is_help=True)


@demo_app.command("seed")
def seed(
    customers: int = typer.Option(3000, min=1, help="How many customers arrive."),
    days: int = typer.Option(180, min=1, max=3650, help="How many days of history."),
    seed_value: int = typer.Option(42, "--seed", help="Random seed (same seed, same store)."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if already seeded."),
    with_orders: bool = typer.Option(
        True, "--orders/--no-orders", help="Simulate order history (orders, payments, returns)."
    ),
) -> None:
    """Build a deterministic, realistic demo store in the configured database."""
    container = state.container
    if is_seeded(container):
        if if_empty:
            console.print("demo store already seeded; nothing to do")
            _print_logins()
            return
        raise typer.BadParameter(
            "the database already has data; use a fresh database", param_hint="database"
        )
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = int(bar.add_task(stage, total=total))
            bar.update(tasks[stage], completed=done)  # type: ignore[arg-type]

        summary = seed_demo(container, DemoSize(customers, days, seed_value, with_orders), report)
    # Dashboards read the analytics store: fill it now, not at the first commit or worker run.
    analytics_engines.refresh(container.settings)
    console.print(
        f"seeded {len(summary.skus)} SKUs, {len(summary.warehouses)} warehouses, "
        f"{summary.customers} customers, {summary.rows.get('orders', 0)} orders "
        f"({summary.rows.get('order_lines', 0)} lines)"
    )
    _print_logins()


def _print_logins() -> None:
    table = Table(title="Demo logins (console and POST /v1/auth/login)")
    for header in ("role", "e-mail", "password"):
        table.add_column(header)
    for role, _ in STAFF:
        table.add_row(role, f"{role.replace('_', '.')}@{STAFF_DOMAIN}", staff_password(role))
    console.print(table)
