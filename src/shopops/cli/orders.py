"""orders: list, show, place, cancel, transition, note, tag.

Orders are named by number (SO-260301-7KQ2MX). Amounts are decimal strings in the
order's currency. Guest contact and address lines are masked for users without
`customers.pii.read`, exactly as in the API.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import TypeAdapter
from pydantic import ValidationError as SchemaError

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import orders
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed
from shopops.kernel.events import jsonable
from shopops.kernel.money import normalize_currency, to_major, to_minor

orders_app = typer.Typer(
    help="Orders: search, details, placing and the lifecycle.", no_args_is_help=True
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
LIST_HEADERS = ["number", "placed_at", "status", "payment", "channel", "customer", "total"]
LIST_HEADERS += ["currency", "tags"]
LINE_HEADERS = ["line", "sku", "product", "quantity", "unit_price", "total", "shipped"]
TIMELINE_HEADERS = ["at", "kind", "from", "to", "actor", "reason"]
_PLACE_ORDER = TypeAdapter(orders.PlaceOrder)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _money(minor: int, currency: str) -> str:
    return str(to_major(minor, currency))


def _filter(
    min_amount: str | None, max_amount: str | None, currency: str | None
) -> tuple[str | None, int | None, int | None]:
    """(currency, min, max) in minor units; amounts need their currency."""
    errors = FieldErrorCollector()
    if currency is None:
        if min_amount is not None or max_amount is not None:
            errors.add("--currency", "validation.required", "amount filters need the currency")
        errors.raise_if_any()
        return None, None, None
    code = normalize_currency(currency)
    bounds: list[int | None] = []
    for name, value in (("--min-amount", min_amount), ("--max-amount", max_amount)):
        try:
            bounds.append(None if value is None else to_minor(value, code))
        except ValidationFailed as error:
            errors.add(name, error.code, error.message)
    errors.raise_if_any()
    return code, bounds[0], bounds[1]


def _row(order: orders.Order, tags: list[str]) -> list[Any]:
    return [
        order.number,
        order.placed_at,
        order.status,
        order.payment_status,
        order.channel,
        order.customer_id,
        _money(order.total_minor, order.currency),
        order.currency,
        " ".join(tags),
    ]


@orders_app.command("list")
def list_orders(
    status: list[orders.OrderStatus] = typer.Option([], "--status", help="Repeat for several."),
    since: datetime | None = typer.Option(None, help="Placed from (inclusive), UTC if no offset."),
    until: datetime | None = typer.Option(None, help="Placed until (exclusive), UTC if no offset."),
    customer: int | None = typer.Option(None, help="Customer id."),
    sku: str | None = typer.Option(None, help="Orders with a line of this SKU."),
    min_amount: str | None = typer.Option(None, help="Total at least this, e.g. 50.00."),
    max_amount: str | None = typer.Option(None, help="Total at most this."),
    currency: str | None = typer.Option(None, help="Only this currency; needed with amounts."),
    tag: str | None = typer.Option(None),
    channel: str | None = typer.Option(None),
    number: str | None = typer.Option(None),
    limit: int = typer.Option(100, min=1, max=100_000),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Search orders, newest first."""
    start, end = _aware(since), _aware(until)
    if start and end and start >= end:
        raise ValidationFailed("validation.reversed_range", "--since must be before --until")
    code, low, high = _filter(min_amount, max_amount, currency)
    query = orders.OrderFilter(
        status=tuple(status),
        placed_from=start,
        placed_to=end,
        customer_id=customer,
        sku=sku,
        min_total_minor=low,
        max_total_minor=high,
        tag=tag,
        channel=channel,
        number=number,
        currency=code,
    )
    rows: list[list[Any]] = []
    with state.uow() as uow:
        before: int | None = None
        while len(rows) < limit:
            page_size = min(500, limit - len(rows))
            page = orders.search_orders(
                uow, dataclasses.replace(query, before_id=before, limit=page_size)
            )
            rows += [_row(o, page.tags.get(o.id, [])) for o in page.orders]
            if len(page.orders) < page_size:
                break
            before = page.orders[-1].id
    emit_rows(rows, LIST_HEADERS, fmt, "Orders")


def _summary(order: orders.Order, contact: orders.OrderContact, tags: list[str]) -> dict[str, Any]:
    currency = order.currency
    return {
        "number": order.number,
        "status": order.status,
        "payment": order.payment_status,
        "channel": order.channel,
        "customer": order.customer_id,
        "guest_email": contact.guest_email,
        "guest_name": contact.guest_name,
        "guest_phone": contact.guest_phone,
        "ship_to": ", ".join(
            part
            for part in (
                contact.recipient,
                contact.line1,
                contact.line2,
                contact.city,
                contact.region,
                contact.postal_code,
                contact.country,
            )
            if part
        ),
        "ship_phone": contact.phone,
        "subtotal": _money(order.subtotal_minor, currency),
        "discount": _money(order.discount_minor, currency),
        "shipping": _money(order.shipping_minor, currency),
        "total": _money(order.total_minor, currency),
        "currency": currency,
        "placed_at": order.placed_at,
        "payment_due_at": order.payment_due_at,
        "tags": " ".join(tags),
        "pii_masked": contact.pii_masked,
    }


@orders_app.command("show")
def show_order(number: str, fmt: OutputFormat = FORMAT) -> None:
    """One order: summary, lines and the full timeline (csv prints the lines only)."""
    with state.uow() as uow:
        detail = orders.order_detail(uow, orders.get_order_by_number(uow, number).id)
        order, currency = detail.order, detail.order.currency
        summary = _summary(order, orders.order_contact(uow, order), detail.tags)
        lines = [
            [
                line.line_number,
                line.sku,
                line.product_name,
                line.quantity,
                _money(line.unit_price_minor, currency),
                _money(line.total_minor, currency),
                line.shipped_quantity,
            ]
            for line in detail.lines
        ]
        timeline = [
            [e.occurred_at, e.kind, e.from_status, e.to_status, e.actor, e.reason]
            for e in detail.timeline
        ]
    if fmt == OutputFormat.JSON:
        document = {
            **summary,
            "lines": [dict(zip(LINE_HEADERS, line, strict=True)) for line in lines],
            "timeline": [dict(zip(TIMELINE_HEADERS, entry, strict=True)) for entry in timeline],
        }
        sys.stdout.write(json.dumps(jsonable(document), ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == OutputFormat.CSV:
        emit_rows(lines, LINE_HEADERS, fmt)
        return
    emit_rows(list(summary.items()), ["field", "value"], fmt, f"Order {summary['number']}")
    emit_rows(lines, LINE_HEADERS, fmt, "Lines")
    emit_rows(timeline, TIMELINE_HEADERS, fmt, "Timeline")


def _read_order(path: Path) -> orders.PlaceOrder:
    """The same JSON body as `POST /v1/orders`; every problem is listed."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValidationFailed("orders.invalid_file", f"{path} is not JSON: {error}") from None
    try:
        return _PLACE_ORDER.validate_python(document)
    except SchemaError as error:
        errors = FieldErrorCollector()
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"]) or "order"
            errors.add(field, f"validation.{problem['type']}", problem["msg"])
        errors.raise_if_any()
        raise


@orders_app.command("place")
def place_order(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON: the API body."),
    points: int | None = typer.Option(
        None, "--points", help="Loyalty points to redeem (overrides points_to_redeem)."
    ),
) -> None:
    """Place an order from a JSON file (lines, shipping_address, channel, guest or customer)."""
    command = _read_order(file)
    if points is not None:
        command = dataclasses.replace(command, points_to_redeem=points)
    with state.uow() as uow:
        order = orders.place_order(uow, command)
        uow.commit()
        redeemed = int(order.pricing.get("points_redeemed", 0))
        spent = (
            f", {redeemed} points ({_money(order.pricing['points_minor'], order.currency)})"
            if redeemed
            else ""
        )
        console.print(
            f"placed {order.number}: {_money(order.total_minor, order.currency)} "
            f"{order.currency}{spent}, {order.status}"
        )


@orders_app.command("cancel")
def cancel_order(
    number: str, reason: str = typer.Option(..., help="Why; kept in the timeline.")
) -> None:
    """Cancel an order that has not shipped; held stock is released, captures refunded."""
    with state.uow() as uow:
        order_id = orders.get_order_by_number(uow, number).id
    order, refund = orders.cancel_and_refund(
        state.uow, state.container.payment_gateway, order_id=order_id, reason=reason
    )
    refunded = f"; refund {refund.status}" if refund is not None else ""
    console.print(f"{order.number} cancelled; stock released{refunded}")


@orders_app.command("transition")
def transition(
    number: str,
    to: orders.OrderStatus = typer.Argument(..., help="processing, delivered or completed."),
    reason: str | None = typer.Option(None),
) -> None:
    """Move an order by hand, e.g. paid -> processing or delivered -> completed."""
    with state.uow() as uow:
        order_id = orders.get_order_by_number(uow, number).id
        order = orders.change_status(uow, orders.ChangeOrderStatus(order_id, to, reason))
        uow.commit()
        console.print(f"{order.number} is now {order.status}")


@orders_app.command("note")
def add_note(number: str, text: str) -> None:
    """Add a staff note to the timeline."""
    with state.uow() as uow:
        order = orders.add_note(uow, orders.get_order_by_number(uow, number).id, text)
        uow.commit()
        console.print(f"note added to {order.number}")


@orders_app.command("tag")
def tag_order(
    number: str,
    add: list[str] = typer.Option([], "--add", help="A tag to add; repeat for several."),
    remove: list[str] = typer.Option([], "--remove", help="A tag to remove; repeat for several."),
) -> None:
    """Add and remove tags."""
    with state.uow() as uow:
        order_id = orders.get_order_by_number(uow, number).id
        tags = orders.set_tags(uow, order_id, add=add, remove=remove)
        uow.commit()
    console.print(f"{number} tags: {' '.join(tags) or '(none)'}")


__all__: Sequence[str] = ["orders_app"]
