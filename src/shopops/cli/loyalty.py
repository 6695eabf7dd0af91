"""loyalty: a customer's points account, manual adjustments, tiers, and the two jobs.

Acts as the system operator unless `--as EMAIL` is given; the same permissions
apply as in the API (`customers.read` to look, `loyalty.manage` to change).
A negative adjustment needs `--` first: `shopops loyalty adjust 42 -- -300 --reason ...`.
"""

from __future__ import annotations

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import loyalty

loyalty_app = typer.Typer(
    help="Loyalty: points accounts, adjustments, tiers, expiry.", no_args_is_help=True
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
LEDGER_HEADERS = ["id", "kind", "points", "remaining", "lot", "order", "reason", "at", "expires"]
TIER_HEADERS = ["code", "name", "min_spend_minor", "discount_%", "free_shipping", "points_x%"]


def _print_account(view: loyalty.AccountView) -> None:
    tier = view.tier_code or "-"
    if view.tier_code and view.tier is None:
        tier += " (no longer on the ladder)"
    console.print(
        f"customer {view.customer_id}: {view.balance} points "
        f"(worth {view.value_minor} {view.currency} minor units), tier {tier}"
    )
    if view.next_expiry_at is not None:
        console.print(f"next expiry: {view.next_expiry_points} points at {view.next_expiry_at}")


@loyalty_app.command("account")
def account(
    customer_id: int,
    limit: int = typer.Option(50, min=1, max=500, help="Ledger rows, newest first."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """A customer's balance, tier and ledger."""
    with state.uow() as uow:
        view = loyalty.get_account(uow, customer_id)
        rows = [
            (
                e.id,
                e.kind,
                e.points,
                e.remaining,
                e.lot_id,
                e.order_reference,
                e.reason,
                e.occurred_at,
                e.expires_at,
            )
            for e in loyalty.list_ledger(uow, customer_id, limit=limit)
        ]
    if fmt == OutputFormat.TABLE:
        _print_account(view)
    emit_rows(rows, LEDGER_HEADERS, fmt, "Ledger")


@loyalty_app.command("adjust")
def adjust(
    customer_id: int,
    points: int = typer.Argument(..., help="Positive credits, negative debits (after `--`)."),
    reason: str = typer.Option(..., "--reason", help="Why; kept in the ledger and the audit."),
) -> None:
    """Credit or debit points by hand."""
    with state.uow() as uow:
        view = loyalty.adjust_points(uow, loyalty.AdjustPoints(customer_id, points, reason))
        uow.commit()
    _print_account(view)


@loyalty_app.command("tiers")
def tiers(fmt: OutputFormat = FORMAT) -> None:
    """The tier ladder, lowest first (change it with PUT /v1/loyalty/tiers)."""
    with state.uow() as uow:
        rows = [
            (
                t.code,
                t.name,
                t.min_spend_minor,
                t.discount_percent,
                t.free_shipping,
                t.points_multiplier_percent,
            )
            for t in loyalty.list_tiers(uow)
        ]
    emit_rows(rows, TIER_HEADERS, fmt, "Tiers")


@loyalty_app.command("recalculate")
def recalculate() -> None:
    """Recalculate every tier from rolling 12-month spend now."""
    with state.uow() as uow:
        result = loyalty.recalculate_tiers(uow)
        uow.commit()
    console.print(
        f"evaluated {result.evaluated}: {result.upgraded} upgraded, {result.downgraded} downgraded"
    )


@loyalty_app.command("expire")
def expire(
    limit: int = typer.Option(500, min=1, max=100_000, help="Accounts in this run."),
) -> None:
    """Expire the points of every lot whose time has come."""
    with state.uow() as uow:
        result = loyalty.expire_due(uow, limit=limit)
        uow.commit()
    console.print(f"expired {result.points} points in {result.accounts} accounts")
