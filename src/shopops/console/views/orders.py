"""What the orders pages show: the filtered list, its CSV export and one order in full.

The list and the export share one filtered query (status, placed range, customer by
id or e-mail, SKU, total range, tag, number) sorted by placed time or total. The
detail gathers the order's lines, price breakdown, stock held, payments (for those
holding ``payments.read``), shipments with their scans, returns and timeline, each
through its context's public read functions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, and_, column, func, or_, select, table
from sqlalchemy.sql.elements import ColumnElement

from shopops.auth.models import User
from shopops.auth.permissions import Permission
from shopops.console.formatting import MISSING, money
from shopops.console.i18n import N_, gettext
from shopops.contexts import customers, fulfilment, inventory, orders, payments, returns
from shopops.kernel.money import to_major
from shopops.uow import UnitOfWork

PAGE_SIZE = 25
EXPORT_BATCH = 500

STATUS_LABELS: dict[str, str] = {
    "pending_payment": N_("Pending payment"),
    "paid": N_("Paid"),
    "processing": N_("Processing"),
    "partially_shipped": N_("Partially shipped"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "closed": N_("Closed"),
}
PAYMENT_LABELS: dict[str, str] = {
    "unpaid": N_("Unpaid"),
    "paid": N_("Paid"),
    "partially_refunded": N_("Partially refunded"),
    "refunded": N_("Refunded"),
    # payment records
    "pending": N_("Pending"),
    "authorized": N_("Authorized"),
    "captured": N_("Captured"),
    "voided": N_("Voided"),
    "failed": N_("Failed"),
    # refunds
    "requested": N_("Requested"),
    "succeeded": N_("Succeeded"),
}
SHIPMENT_LABELS: dict[str, str] = {
    "label_created": N_("Label created"),
    "in_transit": N_("In transit"),
    "out_for_delivery": N_("Out for delivery"),
    "delivered": N_("Delivered"),
    "exception": N_("Exception"),
}
RETURN_LABELS: dict[str, str] = {
    "requested": N_("Requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "received": N_("Received"),
    "refunded": N_("Refunded"),
}
RETURN_REASONS: dict[str, str] = {
    "damaged": N_("Damaged"),
    "wrong_item": N_("Wrong item"),
    "not_as_described": N_("Not as described"),
    "size_fit": N_("Size or fit"),
    "changed_mind": N_("Changed mind"),
    "other": N_("Other"),
}
DISPOSITIONS: dict[str, str] = {"restock": N_("Restock"), "write_off": N_("Write off")}
RESERVATION_LABELS: dict[str, str] = {
    "active": N_("Held"),
    "consumed": N_("Shipped"),
    "released": N_("Released"),
}
TIMELINE_LABELS: dict[str, str] = {
    "placed": N_("Order placed"),
    "status_changed": N_("Status changed"),
    "note": N_("Note"),
    "tags_changed": N_("Tags changed"),
    "stock_released": N_("Stock released"),
    "payment_started": N_("Payment started"),
    "payment_captured": N_("Payment captured"),
    "payment_captured_twice": N_("Payment captured twice"),
    "payment_failed": N_("Payment failed"),
    "refund_requested": N_("Refund requested"),
    "refund_issued": N_("Refund issued"),
    "refund_failed": N_("Refund failed"),
    "return_requested": N_("Return requested"),
    "return_approved": N_("Return approved"),
    "return_rejected": N_("Return rejected"),
    "return_received": N_("Return received"),
    "return_refunded": N_("Return refunded"),
    "shipment_delivered": N_("Parcel delivered"),
    "shipment_exception": N_("Delivery problem"),
    "hold": N_("On hold"),
    "hold_released": N_("Hold released"),
    "deposit_paid": N_("Deposit paid"),
    "deposit_forfeited": N_("Deposit forfeited"),
}
SORTS: dict[str, tuple[str, bool]] = {  # name -> (column, descending)
    "-placed": ("placed_at", True),
    "placed": ("placed_at", False),
    "-total": ("total_minor", True),
    "total": ("total_minor", False),
}
DEFAULT_SORT = "-placed"
CANCELLABLE = frozenset({"pending_payment", "paid", "processing"})
SHIPPABLE = frozenset({"paid", "processing", "partially_shipped"})
MAX_SHIPMENTS = 200  # parcels read per order: every one of even a much-split order

# The customers table, read only to match an e-mail's lookup hash (as orders' own queries do).
_customers = table("customers", column("id"), column("email_hash", String))


def status_tone(status: str) -> str:
    """The badge colour of an order, payment, shipment or return status."""
    if status in {"delivered", "completed", "refunded", "succeeded", "captured", "approved"}:
        return "good"
    if status in {"cancelled", "closed", "failed", "rejected", "voided", "exception"}:
        return "bad"
    if status in {"pending_payment", "requested", "partially_refunded", "pending", "unpaid"}:
        return "warn"
    return ""


# --- the list ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderQuery:
    """A parsed, valid filter of the orders list (and of its export)."""

    statuses: tuple[str, ...] = ()
    placed_from: datetime | None = None  # inclusive
    placed_to: datetime | None = None  # exclusive
    customer_id: int | None = None
    email: str | None = None  # normalized; matches guests and registered customers
    sku: str | None = None
    min_total_minor: int | None = None
    max_total_minor: int | None = None
    currency: str | None = None  # amounts are in this currency
    tag: str | None = None
    number: str | None = None
    sort: str = DEFAULT_SORT


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str
    status: str
    payment_status: str
    channel: str
    customer_id: int | None
    placed_at: datetime
    currency: str
    total_minor: int
    refunded_minor: int
    units: int
    tags: list[str]
    risk_flags: list[str]


@dataclass(frozen=True)
class OrderList:
    rows: list[OrderRow]
    page: int
    has_next: bool


def _filtered(uow: UnitOfWork, query: OrderQuery) -> Select[Any]:
    order = orders.Order
    stmt = select(order)
    if query.statuses:
        stmt = stmt.where(order.status.in_(list(query.statuses)))
    if query.placed_from is not None:
        stmt = stmt.where(order.placed_at >= query.placed_from)
    if query.placed_to is not None:
        stmt = stmt.where(order.placed_at < query.placed_to)
    if query.customer_id is not None:
        stmt = stmt.where(order.customer_id == query.customer_id)
    if query.email is not None:
        digest = uow.pii.lookup_hash(query.email)
        registered = select(_customers.c.id).where(_customers.c.email_hash == digest)
        stmt = stmt.where(
            or_(
                order.guest_email_hash == digest,
                order.customer_id.in_(registered.scalar_subquery()),
            )
        )
    if query.sku:
        stmt = stmt.where(
            select(orders.OrderLine.id)
            .where(orders.OrderLine.order_id == order.id, orders.OrderLine.sku == query.sku)
            .exists()
        )
    if query.min_total_minor is not None:
        stmt = stmt.where(order.total_minor >= query.min_total_minor)
    if query.max_total_minor is not None:
        stmt = stmt.where(order.total_minor <= query.max_total_minor)
    if query.currency is not None:
        stmt = stmt.where(order.currency == query.currency)
    if query.tag:
        stmt = stmt.where(
            select(orders.OrderTag.order_id)
            .where(orders.OrderTag.order_id == order.id, orders.OrderTag.tag == query.tag)
            .exists()
        )
    if query.number:
        stmt = stmt.where(order.number == query.number)
    return stmt


def _sort_key(query: OrderQuery) -> tuple[Any, bool]:
    name, descending = SORTS.get(query.sort, SORTS[DEFAULT_SORT])
    return getattr(orders.Order, name), descending


def _ordered(stmt: Select[Any], query: OrderQuery) -> Select[Any]:
    key, descending = _sort_key(query)
    if descending:
        return stmt.order_by(key.desc(), orders.Order.id.desc())
    return stmt.order_by(key.asc(), orders.Order.id.asc())


def _units(uow: UnitOfWork, order_ids: Sequence[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    line = orders.OrderLine
    rows = uow.session.execute(
        select(line.order_id, func.sum(line.quantity))
        .where(line.order_id.in_(sorted(set(order_ids))))
        .group_by(line.order_id)
    )
    return {order_id: int(units or 0) for order_id, units in rows}


def _rows(uow: UnitOfWork, found: Sequence[orders.Order]) -> list[OrderRow]:
    ids = [o.id for o in found]
    tags = orders.tags_of(uow.session, ids)
    units = _units(uow, ids)
    return [
        OrderRow(
            id=o.id,
            number=o.number,
            status=o.status,
            payment_status=o.payment_status,
            channel=o.channel,
            customer_id=o.customer_id,
            placed_at=o.placed_at,
            currency=o.currency,
            total_minor=o.total_minor,
            refunded_minor=o.refunded_minor,
            units=units.get(o.id, 0),
            tags=tags.get(o.id, []),
            risk_flags=list(o.risk_flags or []),
        )
        for o in found
    ]


NO_ORDERS = OrderList([], 1, False)


def order_numbers(uow: UnitOfWork, order_ids: Sequence[int]) -> dict[int, str]:
    """Order id -> number, for the orders that exist."""
    if not order_ids:
        return {}
    order = orders.Order
    rows = uow.session.execute(
        select(order.id, order.number).where(order.id.in_(sorted(set(order_ids))))
    )
    return {int(order_id): str(number) for order_id, number in rows}


def list_orders(uow: UnitOfWork, query: OrderQuery, *, page: int = 1) -> OrderList:
    """One page of the filtered, sorted orders (``PAGE_SIZE`` rows)."""
    uow.require(Permission.ORDERS_READ)
    page = max(page, 1)
    stmt = _ordered(_filtered(uow, query), query).offset((page - 1) * PAGE_SIZE)
    found: list[orders.Order] = list(uow.session.scalars(stmt.limit(PAGE_SIZE + 1)))
    return OrderList(_rows(uow, found[:PAGE_SIZE]), page, len(found) > PAGE_SIZE)


# --- the CSV export ------------------------------------------------------------------

EXPORT_COLUMNS = (
    "number",
    "placed_at",
    "status",
    "payment_status",
    "channel",
    "customer_id",
    "units",
    "currency",
    "subtotal",
    "discount",
    "shipping",
    "tax",
    "total",
    "refunded",
    "tags",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _after(query: OrderQuery, last: orders.Order) -> ColumnElement[bool]:
    """Keyset condition: rows after ``last`` in the export's order."""
    key, descending = _sort_key(query)
    value = getattr(last, key.key)
    if descending:
        return or_(key < value, and_(key == value, orders.Order.id < last.id))
    return or_(key > value, and_(key == value, orders.Order.id > last.id))


def export_csv(open_uow: Callable[[], UnitOfWork], query: OrderQuery) -> Iterator[str]:
    """The filtered orders as CSV text, in batches (keyset pagination, one short read each)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue()
    last: orders.Order | None = None
    while True:
        buffer.seek(0)
        buffer.truncate()
        with open_uow() as uow:
            uow.require(Permission.ORDERS_READ)
            stmt = _ordered(_filtered(uow, query), query)
            if last is not None:
                stmt = stmt.where(_after(query, last))
            found: list[orders.Order] = list(uow.session.scalars(stmt.limit(EXPORT_BATCH)))
            rows = _rows(uow, found)
        for order, row in zip(found, rows, strict=True):
            currency = order.currency
            writer.writerow(
                [
                    _cell(order.number),
                    order.placed_at.isoformat(),
                    order.status,
                    order.payment_status,
                    _cell(order.channel),
                    "" if order.customer_id is None else order.customer_id,
                    row.units,
                    currency,
                    to_major(order.subtotal_minor, currency),
                    to_major(order.discount_minor, currency),
                    to_major(order.shipping_minor, currency),
                    to_major(order.tax_minor, currency),
                    to_major(order.total_minor, currency),
                    to_major(order.refunded_minor, currency),
                    _cell(" ".join(row.tags)),
                ]
            )
        if buffer.tell():
            yield buffer.getvalue()
        if len(found) < EXPORT_BATCH:
            return
        last = found[-1]


# --- one order -----------------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    line: orders.OrderLine
    refundable_minor: int


@dataclass(frozen=True)
class HeldStock:
    sku: str
    warehouse: str
    quantity: int
    status: str
    expires_at: datetime | None
    on_hand: int | None
    available: int | None


@dataclass(frozen=True)
class ShipOption:
    """A warehouse holding stock for the order: one shipment can leave from it."""

    warehouse_id: int
    code: str
    name: str
    units: int
    skus: str


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    label: str
    summary: str
    reason: str | None
    actor: str
    occurred_at: datetime


@dataclass(frozen=True)
class Pricing:
    rows: list[tuple[str, int]]  # (label msgid, minor units) of the breakdown, in order
    total_minor: int
    points_redeemed: int
    applied: list[dict[str, Any]]
    coupons: list[dict[str, Any]]


@dataclass(frozen=True)
class WarehouseChoice:
    id: int
    code: str
    name: str


@dataclass
class OrderPage:
    order: orders.Order
    lines: list[LineView]
    contact: orders.OrderContact
    customer: customers.CustomerView | None
    pricing: Pricing
    held: list[HeldStock]
    charges: list[payments.Payment] | None  # None: the reader may not see payments
    refunds: list[payments.Refund] | None
    refundable_minor: int
    shipments: list[fulfilment.ShipmentView]
    ship_options: list[ShipOption]
    return_requests: list[returns.ReturnDetail]
    timeline: list[TimelineEntry]
    notes: list[TimelineEntry]
    tags: list[str]
    warehouses: list[WarehouseChoice]  # active ones, where returned goods may be restocked
    warehouse_codes: dict[int, str]
    can: dict[str, bool] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.order.currency

    @property
    def sku_of_line(self) -> dict[int, str]:
        return {view.line.id: view.line.sku for view in self.lines}


_PRICING_ROWS = (
    ("subtotal_minor", N_("Subtotal")),
    ("item_discount_minor", N_("Item discounts")),
    ("order_discount_minor", N_("Order discounts")),
    ("shipping_minor", N_("Shipping")),
    ("shipping_discount_minor", N_("Shipping discount")),
    ("points_minor", N_("Points redeemed")),
    ("tax_minor", N_("Tax")),
)


def _pricing(order: orders.Order) -> Pricing:
    document: dict[str, Any] = dict(order.pricing or {})
    rows: list[tuple[str, int]] = []
    itemized = "item_discount_minor" in document or "order_discount_minor" in document
    for key, label in _PRICING_ROWS:
        value = document.get(key)
        if key == "subtotal_minor":
            rows.append((label, int(value if value is not None else order.subtotal_minor)))
        elif isinstance(value, int) and value:
            rows.append((label, -value if "discount" in key or key == "points_minor" else value))
    if not itemized and order.discount_minor:
        rows.insert(1, (N_("Discounts"), -order.discount_minor))
    if "shipping_minor" not in document and order.shipping_minor:
        rows.append((N_("Shipping"), order.shipping_minor))
    return Pricing(
        rows=rows,
        total_minor=int(document.get("total_minor", order.total_minor)),
        points_redeemed=int(document.get("points_redeemed", 0) or 0),
        applied=[dict(a) for a in document.get("applied", [])],
        coupons=[dict(c) for c in document.get("coupons", [])],
    )


def _actors(uow: UnitOfWork, labels: set[str]) -> dict[str, str]:
    """``user:4`` -> the staff member's name; other actors (system, token) as they are."""
    ids = {int(label[5:]) for label in labels if label.startswith("user:") and label[5:].isdigit()}
    names = {label: label for label in labels}
    if ids:
        for user_id, name in uow.session.execute(
            select(User.id, User.full_name).where(User.id.in_(sorted(ids)))
        ):
            names[f"user:{user_id}"] = name
    return names


def _status_label(status: object) -> str:
    label = STATUS_LABELS.get(str(status))
    return gettext(label) if label else str(status)


def _summary(event: orders.OrderEvent, currency: str) -> str:
    data: dict[str, Any] = event.data or {}
    kind = event.kind
    if event.from_status and event.to_status and event.from_status != event.to_status:
        return f"{_status_label(event.from_status)} → {_status_label(event.to_status)}"
    if event.to_status:
        return _status_label(event.to_status)
    if kind == "tags_changed":
        before = ", ".join(data.get("before", [])) or MISSING
        after = ", ".join(data.get("after", [])) or MISSING
        return f"{before} → {after}"
    if kind == "stock_released":
        return ", ".join(
            f"{line['sku']} \u00d7 {line['quantity']}" for line in data.get("lines", [])
        )
    if isinstance(data.get("amount_minor"), int):
        return money(data["amount_minor"], currency)
    if data.get("return_id") is not None:
        return gettext("Return #%(id)s", id=data["return_id"])
    if data.get("tracking_number"):
        return f"{data.get('carrier', '')} {data['tracking_number']}".strip()
    return ""


def _timeline(
    uow: UnitOfWork, events: Sequence[orders.OrderEvent], currency: str
) -> list[TimelineEntry]:
    names = _actors(uow, {e.actor for e in events})
    entries = []
    for event in events:
        label = TIMELINE_LABELS.get(event.kind)
        entries.append(
            TimelineEntry(
                kind=event.kind,
                label=gettext(label) if label else event.kind.replace("_", " "),
                summary=_summary(event, currency),
                reason=event.reason,
                actor=names.get(event.actor, event.actor),
                occurred_at=event.occurred_at,
            )
        )
    return entries


def _held(
    uow: UnitOfWork,
    reservations: Sequence[inventory.Reservation],
    warehouses: dict[int, inventory.Warehouse],
) -> list[HeldStock]:
    skus = sorted({r.sku for r in reservations})
    levels: dict[tuple[str, int], inventory.StockLevel] = {}
    if skus:
        for level in uow.session.scalars(
            select(inventory.StockLevel).where(inventory.StockLevel.sku.in_(skus))
        ):
            levels[(level.sku, level.warehouse_id)] = level
    held = []
    for reservation in reservations:
        stock = levels.get((reservation.sku, reservation.warehouse_id))
        warehouse = warehouses.get(reservation.warehouse_id)
        held.append(
            HeldStock(
                sku=reservation.sku,
                warehouse=warehouse.code if warehouse else str(reservation.warehouse_id),
                quantity=reservation.quantity,
                status=reservation.status,
                expires_at=reservation.expires_at,
                on_hand=None if stock is None else stock.on_hand,
                available=None if stock is None else stock.on_hand - stock.reserved,
            )
        )
    return held


def _ship_options(
    order: orders.Order,
    reservations: Sequence[inventory.Reservation],
    warehouses: dict[int, inventory.Warehouse],
) -> list[ShipOption]:
    if order.status not in SHIPPABLE:
        return []
    units: dict[int, dict[str, int]] = {}
    for reservation in reservations:
        if reservation.status == inventory.ReservationStatus.ACTIVE:
            skus = units.setdefault(reservation.warehouse_id, {})
            skus[reservation.sku] = skus.get(reservation.sku, 0) + reservation.quantity
    options = []
    for warehouse_id in sorted(units):
        warehouse = warehouses.get(warehouse_id)
        held = units[warehouse_id]
        options.append(
            ShipOption(
                warehouse_id=warehouse_id,
                code=warehouse.code if warehouse else str(warehouse_id),
                name=warehouse.name if warehouse else "",
                units=sum(held.values()),
                skus=", ".join(
                    f"{sku} \u00d7 {quantity}" for sku, quantity in sorted(held.items())
                ),
            )
        )
    return options


def read_order(uow: UnitOfWork, order_id: int, *, can: Callable[[Permission], bool]) -> OrderPage:
    """Everything the order page shows; payments only for readers holding ``payments.read``."""
    detail = orders.order_detail(uow, order_id)
    order = detail.order
    contact = orders.order_contact(uow, order)
    customer = None
    if order.customer_id is not None and can(Permission.CUSTOMERS_READ):
        customer = customers.get_customer(uow, order.customer_id)
    refundable_lines = orders.refundable_by_line(uow, order.id)
    warehouses = {w.id: w for w in inventory.list_warehouses(uow.session)}
    order_payments = order_refunds = None
    refundable = 0
    if can(Permission.PAYMENTS_READ):
        order_payments = list(
            payments.list_payments(uow, payments.PaymentFilter(order_id=order.id, limit=200))
        )
        order_refunds = list(
            payments.list_refunds(uow, payments.RefundFilter(order_id=order.id, limit=200))
        )
        refundable = sum(
            p.refundable_minor for p in order_payments if p.status in payments.REFUNDABLE_PAYMENT
        )
    listed = fulfilment.list_shipments(
        uow, fulfilment.ShipmentFilter(order_id=order.id, limit=MAX_SHIPMENTS)
    )
    shipments = [fulfilment.get_shipment(uow, s.id) for s in listed.items]
    order_returns = returns.list_returns(uow, returns.ReturnFilter(order_id=order.id, limit=200))
    timeline = _timeline(uow, detail.timeline, order.currency)
    return OrderPage(
        order=order,
        lines=[LineView(line, max(refundable_lines.get(line.id, 0), 0)) for line in detail.lines],
        contact=contact,
        customer=customer,
        pricing=_pricing(order),
        held=_held(uow, detail.reservations, warehouses),
        charges=order_payments,
        refunds=order_refunds,
        refundable_minor=refundable,
        shipments=shipments,
        ship_options=_ship_options(order, detail.reservations, warehouses),
        return_requests=list(order_returns),
        timeline=timeline,
        notes=[entry for entry in timeline if entry.kind == "note"],
        tags=list(detail.tags),
        warehouses=[
            WarehouseChoice(w.id, w.code, w.name) for w in warehouses.values() if w.is_active
        ],
        warehouse_codes={w.id: w.code for w in warehouses.values()},
        can={
            "write": can(Permission.ORDERS_WRITE),
            "cancel": can(Permission.ORDERS_WRITE) and order.status in CANCELLABLE,
            "ship": can(Permission.FULFILMENT_WRITE) and order.status in SHIPPABLE,
            "refund": can(Permission.PAYMENTS_REFUND) and refundable > 0,
            "returns": can(Permission.RETURNS_MANAGE),
            "refund_returns": can(Permission.RETURNS_MANAGE) and can(Permission.PAYMENTS_REFUND),
        },
    )
