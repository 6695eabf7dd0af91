"""group-buys: offers, groups, joining a group by placing an order, and the expiry job.

Acts as the system operator unless `--as EMAIL` is given; the same permissions apply
as in the API (`promotions.write` for offers, `orders.write` to join).
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.cli.offers import emit_performance
from shopops.contexts import group_buying, orders
from shopops.kernel.errors import ValidationFailed
from shopops.kernel.money import to_major

group_buys_app = typer.Typer(
    help="Group buying: offers at a group price, groups, joining, expiry.", no_args_is_help=True
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
OFFER_HEADERS = ["id", "name", "sku", "group_price", "list_price", "currency", "size"]
OFFER_HEADERS += ["minutes", "starts_at", "ends_at", "groups", "max_groups", "status"]
GROUP_HEADERS = ["id", "status", "joined", "paid", "size", "opened_at", "expires_at"]
MEMBER_HEADERS = ["customer", "order", "quantity", "status", "joined_at", "paid_at"]


def moment(value: str, name: str) -> datetime:
    """ISO 8601; UTC when no offset is given."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("validation.invalid_datetime", f"{name}: not ISO 8601") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _offer_row(offer: group_buying.GroupBuyOffer) -> list[object]:
    return [
        offer.id,
        offer.name,
        offer.sku,
        str(to_major(offer.group_price_minor, offer.currency)),
        str(to_major(offer.list_price_minor, offer.currency)),
        offer.currency,
        offer.group_size,
        offer.duration_minutes,
        offer.starts_at,
        offer.ends_at,
        offer.groups_opened,
        offer.max_groups,
        offer.status,
    ]


def _group_row(detail: group_buying.GroupDetail) -> list[object]:
    group = detail.group
    return [
        group.id,
        group.status,
        group.joined,
        detail.paid,
        group.size,
        group.opened_at,
        group.expires_at,
    ]


@group_buys_app.command("create")
def create(
    name: str,
    sku: str = typer.Option(..., help="The SKU sold at the group price."),
    price: str = typer.Option(..., "--price", help="Group price per unit, e.g. 59.90."),
    size: int = typer.Option(..., "--size", help="Members a group needs."),
    minutes: int = typer.Option(1440, "--minutes", help="How long a group stays open."),
    starts: str = typer.Option(..., "--starts", help="Groups open from (ISO 8601)."),
    ends: str = typer.Option(..., "--ends", help="...until (ISO 8601, exclusive)."),
    max_groups: int | None = typer.Option(None, "--max-groups"),
    max_quantity: int = typer.Option(1, "--max-quantity", help="Units per member."),
) -> None:
    """Create a group-buy offer."""
    command = group_buying.CreateGroupBuyOffer(
        name=name,
        sku=sku,
        group_price=price,
        group_size=size,
        duration_minutes=minutes,
        starts_at=moment(starts, "--starts"),
        ends_at=moment(ends, "--ends"),
        max_groups=max_groups,
        max_quantity=max_quantity,
    )
    with state.uow() as uow:
        offer = group_buying.create_offer(uow, command)
        uow.commit()
        console.print(f"group-buy offer {offer.id}: {offer.sku} for groups of {offer.group_size}")


@group_buys_app.command("list")
def list_offers(
    status: str | None = typer.Option(None, help="active or ended."), fmt: OutputFormat = FORMAT
) -> None:
    """Group-buy offers, oldest first."""
    with state.uow() as uow:
        rows = [_offer_row(o) for o in group_buying.list_offers(uow, status=status, limit=500)]
    emit_rows(rows, OFFER_HEADERS, fmt, "Group-buy offers")


@group_buys_app.command("groups")
def list_groups(
    offer_id: int,
    status: str | None = typer.Option(None, help="open, succeeded or failed."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """An offer's groups, oldest first."""
    with state.uow() as uow:
        rows = [
            _group_row(d) for d in group_buying.list_groups(uow, offer_id, status=status, limit=500)
        ]
    emit_rows(rows, GROUP_HEADERS, fmt, f"Groups of offer {offer_id}")


@group_buys_app.command("group")
def show_group(group_id: int, fmt: OutputFormat = FORMAT) -> None:
    """One group and its members."""
    with state.uow() as uow:
        detail = group_buying.get_group(uow, group_id)
        group = _group_row(detail)
        members = [
            [m.customer_id, m.order_number, m.quantity, m.status, m.joined_at, m.paid_at]
            for m in detail.members
        ]
    if fmt == OutputFormat.TABLE:
        emit_rows([group], GROUP_HEADERS, fmt, f"Group {group_id}")
    emit_rows(members, MEMBER_HEADERS, fmt, "Members")


@group_buys_app.command("join")
def join(
    offer_id: int,
    customer: int = typer.Option(..., "--customer", help="Customer id."),
    group: int | None = typer.Option(None, "--group", help="Join this group; omit to open one."),
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
    """Open a group or join one by placing an order at the group price."""
    address = orders.ShippingAddress(
        recipient=recipient,
        line1=line1,
        city=city,
        country=country,
        region=region,
        postal_code=postal_code,
        phone=phone,
    )
    command = group_buying.JoinGroupBuy(
        offer_id, customer, address, group_id=group, quantity=quantity, channel=channel
    )
    with state.uow() as uow:
        result = group_buying.join(uow, command)
        uow.commit()
        detail, order = result.detail, result.order
        verb = "opened" if result.opened else "joined"
        console.print(
            f"{verb} group {detail.group.id} ({detail.group.joined}/{detail.group.size}): "
            f"order {order.number}, {to_major(order.total_minor, order.currency)} "
            f"{order.currency}, pay by {order.payment_due_at}"
        )


@group_buys_app.command("performance")
def performance(offer_id: int, fmt: OutputFormat = FORMAT) -> None:
    """Groups by outcome, success rate, members, orders paid, cancelled and refunded,
    discount and GMV of succeeded groups."""
    with state.uow() as uow:
        report = group_buying.offer_performance(uow, offer_id)
    rates = {"success_rate": report.figures.success_rate}
    emit_performance(
        "offer_id",
        report.offer,
        report.as_of,
        report.figures,
        rates,
        fmt,
        f"Offer {offer_id} performance",
    )


@group_buys_app.command("end")
def end(offer_id: int) -> None:
    """Open no new groups (open ones run until they expire)."""
    with state.uow() as uow:
        offer = group_buying.end_offer(uow, offer_id)
        uow.commit()
        console.print(f"offer {offer.id} is {offer.status}")


@group_buys_app.command("expire")
def expire(limit: int = typer.Option(50, min=1, max=10_000)) -> None:
    """Settle expired groups now: fill, or cancel and refund every member's order."""
    run = group_buying.expire_groups(state.uow, state.container.payment_gateway, limit=limit)
    console.print(f"{run.succeeded} succeeded, {run.failed} failed, {run.refunds} refunds sent")
