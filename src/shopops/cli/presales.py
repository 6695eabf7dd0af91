"""presales: presale offers with a deposit, placing presale orders, listing them.

Pay a presale order's deposit and then its balance with `shopops payments pay ORDER_ID`;
unpaid balances are forfeited by the `orders.close_unpaid` job (`shopops worker`).
"""

from __future__ import annotations

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.cli.group_buying import moment
from shopops.cli.offers import emit_performance
from shopops.contexts import orders, presales
from shopops.kernel.money import to_major

presales_app = typer.Typer(
    help="Presales: a deposit now, the balance later; presale orders.", no_args_is_help=True
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
OFFER_HEADERS = ["id", "name", "sku", "price", "deposit", "worth", "balance", "currency"]
OFFER_HEADERS += ["deposit_from", "deposit_until", "balance_from", "balance_until", "status"]
ORDER_HEADERS = ["number", "status", "payment", "total", "deposit", "balance", "captured"]
ORDER_HEADERS += ["forfeited", "currency", "due_at"]


def _money(minor: int, currency: str) -> str:
    return str(to_major(minor, currency))


def _offer_row(offer: presales.PresaleOffer) -> list[object]:
    c = offer.currency
    return [
        offer.id,
        offer.name,
        offer.sku,
        _money(offer.price_minor, c),
        _money(offer.deposit_minor, c),
        _money(offer.deposit_worth_minor, c),
        _money(offer.price_minor - offer.deposit_worth_minor, c),
        c,
        offer.deposit_starts_at,
        offer.deposit_ends_at,
        offer.balance_starts_at,
        offer.balance_ends_at,
        offer.status,
    ]


def _order_row(order: orders.Order) -> list[object]:
    c = order.currency
    deposit = order.deposit_minor or 0
    return [
        order.number,
        order.status,
        order.payment_status,
        _money(order.total_minor, c),
        _money(deposit, c),
        _money(order.total_minor - deposit, c),
        _money(order.captured_minor, c),
        _money(order.forfeited_minor, c),
        c,
        order.payment_due_at,
    ]


@presales_app.command("create")
def create(
    name: str,
    sku: str = typer.Option(..., help="The SKU on presale."),
    price: str = typer.Option(..., "--price", help="Final price per unit, e.g. 299.00."),
    deposit: str = typer.Option(..., "--deposit", help="Paid now per unit."),
    worth: str = typer.Option(..., "--worth", help="What the deposit counts for (>= deposit)."),
    deposit_from: str = typer.Option(..., "--deposit-from", help="ISO 8601."),
    deposit_until: str = typer.Option(..., "--deposit-until", help="ISO 8601, exclusive."),
    balance_from: str = typer.Option(..., "--balance-from", help="ISO 8601."),
    balance_until: str = typer.Option(..., "--balance-until", help="ISO 8601, exclusive."),
    max_quantity: int = typer.Option(1, "--max-quantity", help="Units per order."),
) -> None:
    """Create a presale."""
    command = presales.CreatePresale(
        name=name,
        sku=sku,
        price=price,
        deposit=deposit,
        deposit_worth=worth,
        deposit_starts_at=moment(deposit_from, "--deposit-from"),
        deposit_ends_at=moment(deposit_until, "--deposit-until"),
        balance_starts_at=moment(balance_from, "--balance-from"),
        balance_ends_at=moment(balance_until, "--balance-until"),
        max_quantity=max_quantity,
    )
    with state.uow() as uow:
        offer = presales.create_offer(uow, command)
        uow.commit()
        console.print(
            f"presale {offer.id}: {offer.sku}, deposit "
            f"{_money(offer.deposit_minor, offer.currency)} worth "
            f"{_money(offer.deposit_worth_minor, offer.currency)} {offer.currency}"
        )


@presales_app.command("list")
def list_offers(
    status: str | None = typer.Option(None, help="active or ended."), fmt: OutputFormat = FORMAT
) -> None:
    """Presales, oldest first."""
    with state.uow() as uow:
        rows = [_offer_row(o) for o in presales.list_offers(uow, status=status, limit=500)]
    emit_rows(rows, OFFER_HEADERS, fmt, "Presales")


@presales_app.command("order")
def order(
    presale_id: int,
    customer: int | None = typer.Option(None, "--customer", help="Customer id."),
    email: str | None = typer.Option(None, "--email", help="A guest's e-mail instead."),
    quantity: int = typer.Option(1, "--quantity"),
    recipient: str = typer.Option(..., "--recipient"),
    line1: str = typer.Option(..., "--line1"),
    city: str = typer.Option(..., "--city"),
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2."),
    region: str | None = typer.Option(None, "--region"),
    postal_code: str | None = typer.Option(None, "--postal-code"),
    phone: str | None = typer.Option(None, "--phone"),
    channel: str = typer.Option("web", "--channel"),
) -> None:
    """Place a presale order; pay the deposit with `shopops payments pay ORDER_ID`."""
    command = presales.PlacePresaleOrder(
        offer_id=presale_id,
        shipping_address=orders.ShippingAddress(
            recipient=recipient,
            line1=line1,
            city=city,
            country=country,
            region=region,
            postal_code=postal_code,
            phone=phone,
        ),
        customer_id=customer,
        guest=orders.GuestContact(email) if email else None,
        quantity=quantity,
        channel=channel,
    )
    with state.uow() as uow:
        placed = presales.place_order(uow, command)
        uow.commit()
        deposit = placed.deposit_minor or 0
        console.print(
            f"placed {placed.number} (id {placed.id}): deposit "
            f"{_money(deposit, placed.currency)} due by {placed.payment_due_at}, balance "
            f"{_money(placed.total_minor - deposit, placed.currency)} {placed.currency} "
            f"from {placed.balance_from} to {placed.balance_due_at}"
        )


@presales_app.command("orders")
def list_orders(presale_id: int, fmt: OutputFormat = FORMAT) -> None:
    """A presale's orders, newest first, with what each paid and owes."""
    with state.uow() as uow:
        rows = [_order_row(o) for o in presales.list_orders(uow, presale_id, limit=500)]
    emit_rows(rows, ORDER_HEADERS, fmt, f"Orders of presale {presale_id}")


@presales_app.command("performance")
def performance(presale_id: int, fmt: OutputFormat = FORMAT) -> None:
    """Orders, deposits and balances paid, conversion, forfeited deposits, discount, GMV."""
    with state.uow() as uow:
        report = presales.offer_performance(uow, presale_id)
    rates = {"conversion_rate": report.figures.conversion_rate}
    emit_performance(
        "presale_id",
        report.offer,
        report.as_of,
        report.figures,
        rates,
        fmt,
        f"Presale {presale_id} performance",
    )


@presales_app.command("end")
def end(presale_id: int) -> None:
    """Take no more deposits."""
    with state.uow() as uow:
        offer = presales.end_offer(uow, presale_id)
        uow.commit()
        console.print(f"presale {offer.id} is {offer.status}")
