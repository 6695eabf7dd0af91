"""Behaviour event tracking: batches of Segment e-commerce v2 events, checked one by one.

Each event either is accepted (stored once), is a duplicate (its ``messageId``
was seen before, in an earlier batch or earlier in this one) or is rejected with
its own list of field errors; one bad event never costs the others. Names and
fields follow the Segment e-commerce spec v2 (``Product Viewed``,
``Order Completed`` with ``order_id`` and ``products``, ...); ``page`` calls are
stored as ``Page Viewed``. Prices and revenue are decimals in major units, as
Segment sends them, stored in minor units of the event's (or the store's) currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shopops.analytics.tracking_models import TrackedEvent, TrackedEventProduct
from shopops.kernel.errors import FieldError, ValidationFailed
from shopops.kernel.money import currency_exponent
from shopops.uow import UnitOfWork

EVENTS_WRITE = "events.write"
MAX_BATCH = 500
MAX_PRODUCTS = 200
MAX_AGE = timedelta(days=30)  # Segment's own replay window
MAX_SKEW = timedelta(hours=1)  # clocks ahead of ours

ECOMMERCE_EVENTS: tuple[str, ...] = (
    "Products Searched",
    "Product List Viewed",
    "Product List Filtered",
    "Promotion Viewed",
    "Promotion Clicked",
    "Product Clicked",
    "Product Viewed",
    "Product Added",
    "Product Removed",
    "Cart Viewed",
    "Checkout Started",
    "Checkout Step Viewed",
    "Checkout Step Completed",
    "Payment Info Entered",
    "Order Updated",
    "Order Completed",
    "Order Refunded",
    "Order Cancelled",
    "Coupon Entered",
    "Coupon Applied",
    "Coupon Denied",
    "Coupon Removed",
    "Product Added to Wishlist",
    "Product Removed from Wishlist",
    "Wishlist Product Added to Cart",
    "Product Shared",
    "Cart Shared",
    "Product Reviewed",
    "Page Viewed",
)
SINGLE_PRODUCT_EVENTS = frozenset(
    {
        "Product Clicked",
        "Product Viewed",
        "Product Added",
        "Product Removed",
        "Product Added to Wishlist",
        "Product Removed from Wishlist",
        "Wishlist Product Added to Cart",
        "Product Shared",
        "Product Reviewed",
    }
)
ORDER_EVENTS = frozenset({"Order Completed", "Order Updated", "Order Refunded", "Order Cancelled"})
PRODUCT_LIST_EVENTS = frozenset(
    {
        "Product List Viewed",
        "Product List Filtered",
        "Cart Viewed",
        "Checkout Started",
        *ORDER_EVENTS,
    }
)
CALL_TYPES = ("track", "page")


@dataclass(frozen=True)
class EventOutcome:
    index: int
    message_id: str | None
    status: str  # accepted | duplicate | rejected
    errors: tuple[FieldError, ...] = ()


@dataclass
class TrackResult:
    outcomes: list[EventOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


@dataclass
class _Checked:
    row: dict[str, Any]
    products: list[dict[str, Any]]


class _Problems:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, where: str, code: str, message: str) -> None:
        self.items.append(FieldError(where, code, message))


def _text(raw: Mapping[str, Any], name: str, problems: _Problems, limit: int = 100) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # Segment allows numeric ids
    if not isinstance(value, str) or not value.strip():
        problems.add(name, "events.invalid_string", "must be a non-empty string")
        return None
    if len(value) > limit:
        problems.add(name, "events.too_long", f"at most {limit} characters")
        return None
    return value.strip()


def _minor(value: Any, currency: str, where: str, problems: _Problems) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.add(where, "events.invalid_amount", "must be a number (major units, e.g. 19.99)")
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        problems.add(where, "events.invalid_amount", "must be a number (major units, e.g. 19.99)")
        return None
    if not amount.is_finite() or amount < 0 or amount > Decimal(10) ** 12:
        problems.add(where, "events.invalid_amount", "must be between 0 and 10^12")
        return None
    return int((amount * (Decimal(10) ** currency_exponent(currency))).to_integral_value())


def _timestamp(raw: Mapping[str, Any], now: datetime, problems: _Problems) -> datetime:
    value = raw.get("timestamp")
    if value is None:
        return now
    if not isinstance(value, str):
        problems.add("timestamp", "events.invalid_timestamp", "an ISO 8601 string")
        return now
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.add("timestamp", "events.invalid_timestamp", "an ISO 8601 string with offset")
        return now
    if moment.tzinfo is None:
        problems.add("timestamp", "events.naive_timestamp", "needs an offset, e.g. ...Z")
        return now
    moment = moment.astimezone(UTC)
    if moment > now + MAX_SKEW or moment < now - MAX_AGE:
        problems.add(
            "timestamp",
            "events.timestamp_out_of_range",
            "must be within the last 30 days and not in the future",
        )
    return moment


def _product(
    raw: Any, where: str, currency: str, position: int, problems: _Problems
) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        problems.add(where, "events.invalid_product", "a product is an object")
        return None
    inner = _Problems()
    product_id = _text(raw, "product_id", inner)
    sku = _text(raw, "sku", inner, limit=64)
    if product_id is None and sku is None:
        inner.add("product_id", "events.product_required", "give product_id or sku")
    quantity = raw.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10**6:
        inner.add("quantity", "events.invalid_quantity", "a whole number from 1 to 1,000,000")
        quantity = 1
    price = _minor(raw.get("price"), currency, "price", inner)
    for item in inner.items:
        problems.add(f"{where}.{item.field}", item.code, item.message)
    if inner.items:
        return None
    return {
        "position": position,
        "product_id": product_id,
        "sku": sku,
        "quantity": quantity,
        "price_minor": price,
    }


def check_event(
    raw: Any, now: datetime, default_currency: str
) -> tuple[_Checked | None, list[FieldError]]:
    """One raw event -> the rows to store, or every problem found in it."""
    problems = _Problems()
    if not isinstance(raw, Mapping):
        return None, [FieldError("", "events.invalid_event", "an event is a JSON object")]
    call = raw.get("type", "track")
    if call not in CALL_TYPES:
        problems.add("type", "events.unsupported_type", f"allowed: {', '.join(CALL_TYPES)}")
    name = "Page Viewed" if call == "page" else raw.get("event")
    if name not in ECOMMERCE_EVENTS:
        problems.add(
            "event",
            "events.unknown_event",
            "not a Segment e-commerce v2 event; allowed: " + ", ".join(ECOMMERCE_EVENTS),
        )
    message_id = _text(raw, "messageId", problems)
    if message_id is None and "messageId" not in raw:
        problems.add("messageId", "validation.required", "every event needs a messageId")
    anonymous_id = _text(raw, "anonymousId", problems)
    user_id = _text(raw, "userId", problems)
    if anonymous_id is None and user_id is None and not {"anonymousId", "userId"} & set(raw):
        problems.add("anonymousId", "events.identity_required", "give anonymousId or userId")
    occurred_at = _timestamp(raw, now, problems)
    properties = raw.get("properties", {})
    context = raw.get("context", {})
    if not isinstance(properties, Mapping):
        problems.add("properties", "events.invalid_properties", "properties is an object")
        properties = {}
    if not isinstance(context, Mapping):
        problems.add("context", "events.invalid_context", "context is an object")
        context = {}
    currency = properties.get("currency") or default_currency
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        problems.add("properties.currency", "events.invalid_currency", "a 3-letter ISO 4217 code")
        currency = default_currency
    currency = currency.upper()
    products: list[dict[str, Any]] = []
    if name in SINGLE_PRODUCT_EVENTS:
        single = _product(properties, "properties", currency, 0, problems)
        if single is not None:
            products.append(single)
    raw_products = properties.get("products")
    if raw_products is not None:
        if not isinstance(raw_products, list) or len(raw_products) > MAX_PRODUCTS:
            problems.add(
                "properties.products",
                "events.invalid_products",
                f"a list of at most {MAX_PRODUCTS} products",
            )
        else:
            for position, item in enumerate(raw_products):
                checked = _product(
                    item,
                    f"properties.products.{position}",
                    currency,
                    position + len(products),
                    problems,
                )
                if checked is not None:
                    products.append(checked)
    order_id = _text(properties, "order_id", problems)
    if name in ORDER_EVENTS and order_id is None:
        problems.add("properties.order_id", "validation.required", f"{name} needs order_id")
    revenue = _minor(
        properties.get("revenue", properties.get("total")),
        currency,
        "properties.revenue",
        problems,
    )
    channel = context.get("channel")
    if channel is None:
        channel = "app" if isinstance(context.get("app"), Mapping) else "web"
    if not isinstance(channel, str) or not 1 <= len(channel) <= 32:
        problems.add("context.channel", "events.invalid_channel", "1-32 characters")
        channel = "web"
    if problems.items:
        return None, problems.items
    first = products[0] if products and name in SINGLE_PRODUCT_EVENTS else None
    row = {
        "message_id": message_id,
        "event": name,
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "channel": channel,
        "product_id": first["product_id"] if first else None,
        "sku": first["sku"] if first else None,
        "order_id": order_id,
        "revenue_minor": revenue,
        "currency": currency,
        "properties": dict(properties),
        "context": dict(context),
        "occurred_at": occurred_at,
        "received_at": now,
    }
    return _Checked(row, products), []


def track_events(uow: UnitOfWork, batch: Sequence[Any], *, default_currency: str) -> TrackResult:
    """Store the valid events of ``batch`` once each; report every event's outcome."""
    uow.require(EVENTS_WRITE)
    if len(batch) > MAX_BATCH:
        raise ValidationFailed(
            "events.batch_too_large", f"at most {MAX_BATCH} events per batch, got {len(batch)}"
        )
    now = uow.now()
    result = TrackResult()
    checked: list[tuple[int, _Checked]] = []
    for index, raw in enumerate(batch):
        event, errors = check_event(raw, now, default_currency)
        message_id = raw.get("messageId") if isinstance(raw, Mapping) else None
        if event is None:
            result.outcomes.append(
                EventOutcome(
                    index, str(message_id) if message_id else None, "rejected", tuple(errors)
                )
            )
        else:
            checked.append((index, event))
    ids = sorted({c.row["message_id"] for _, c in checked})
    known = (
        set(
            uow.session.scalars(
                select(TrackedEvent.message_id).where(TrackedEvent.message_id.in_(ids))
            )
        )
        if ids
        else set()
    )
    for index, event in checked:
        message_id = event.row["message_id"]
        if message_id in known:
            result.outcomes.append(EventOutcome(index, message_id, "duplicate"))
            continue
        known.add(message_id)
        event_id = _insert_once(uow, event.row)
        if event_id is None:  # a concurrent batch stored it first
            result.outcomes.append(EventOutcome(index, message_id, "duplicate"))
            continue
        if event.products:
            uow.session.execute(
                insert(TrackedEventProduct), [{"event_id": event_id, **p} for p in event.products]
            )
        result.outcomes.append(EventOutcome(index, message_id, "accepted"))
    result.outcomes.sort(key=lambda o: o.index)
    return result


def _insert_once(uow: UnitOfWork, row: dict[str, Any]) -> int | None:
    """INSERT ... ON CONFLICT (message_id) DO NOTHING RETURNING id, on SQLite and PostgreSQL."""
    dialect = uow.session.get_bind().dialect.name
    make_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        make_insert(TrackedEvent)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(TrackedEvent.id)
    )
    inserted = uow.session.execute(statement).scalar_one_or_none()
    return None if inserted is None else int(inserted)
