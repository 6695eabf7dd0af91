"""Order request and response bodies. Money is a decimal string plus the order's currency.

Field rules that need the database or span fields (quantities 1 to 1,000,000, known and
sellable SKUs, address rules, channels) are checked by the orders context so that one
response lists every field error together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.api.pagination import Page
from shopops.contexts import inventory, orders
from shopops.kernel.money import to_major

_CHANNELS = ", ".join(f"`{c}`" for c in orders.CHANNELS)
_PII = "Personal data: encrypted at rest; masked unless the caller holds `customers.pii.read`."


def amount(minor: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's own number of decimals."""
    return str(to_major(minor, currency))


# --- placing ---------------------------------------------------------------------------

_ADDRESS_EXAMPLE: dict[str, Any] = {
    "recipient": "Wang Fang",
    "line1": "88 Nanjing Road",
    "line2": "Room 1203",
    "city": "Shanghai",
    "region": "CN-SH",
    "postal_code": "200001",
    "country": "CN",
    "phone": "13812345678",
}


class OrderLineCreate(BaseModel):
    sku: str = Field(max_length=64, examples=["TEE-S"])
    quantity: int = Field(json_schema_extra={"minimum": 1, "maximum": inventory.MAX_QUANTITY})


class ShippingAddressCreate(BaseModel):
    recipient: str = Field(max_length=200, description=_PII)
    line1: str = Field(max_length=300, description=_PII)
    line2: str | None = Field(default=None, max_length=300, description=_PII)
    city: str = Field(max_length=100)
    region: str | None = Field(default=None, max_length=100, examples=["CN-SH"])
    postal_code: str | None = Field(default=None, max_length=40)
    country: str = Field(max_length=10, description="ISO 3166-1 alpha-2 code.", examples=["CN"])
    phone: str | None = Field(default=None, max_length=40, description=_PII)


class GuestContactCreate(BaseModel):
    email: str = Field(max_length=254, description=_PII)
    name: str | None = Field(default=None, max_length=200, description=_PII)
    phone: str | None = Field(default=None, max_length=40, description=_PII)


class OrderCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lines": [{"sku": "TEE-S", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
                    "shipping_address": _ADDRESS_EXAMPLE,
                    "channel": "web",
                    "guest": {"email": "wang.fang@example.com", "name": "Wang Fang"},
                    "tags": ["gift"],
                    "note": "leave at the front desk",
                    "coupon_codes": ["SPRING10"],
                    "shipping_method": "standard",
                }
            ]
        }
    )

    lines: list[OrderLineCreate] = Field(max_length=500)
    shipping_address: ShippingAddressCreate
    channel: str = Field(max_length=32, description=f"One of {_CHANNELS}.")
    customer_id: int | None = Field(default=None, description="A customer_id or a guest.")
    guest: GuestContactCreate | None = None
    allow_split: bool = Field(default=True, description="May ship from several warehouses.")
    tags: list[str] = Field(default_factory=list, max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    coupon_codes: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Coupon codes to apply; a code that does not apply refuses the order.",
        examples=[["SPRING10"]],
    )
    shipping_method: str | None = Field(
        default=None,
        max_length=32,
        description="A code of the store's shipping methods (`GET /v1/shipping-methods`); "
        "empty: the first active one. The fee is the method's rate for the shipping "
        "address. A store without shipping methods charges no fee (the method, default "
        "`standard`, is what shipping promotions see).",
        examples=["standard"],
    )
    points_to_redeem: int = Field(
        default=0,
        description="Loyalty points the customer spends on this order (needs `customer_id`). "
        "At most the program's cap (a share of the order total) is used; more than the "
        "balance is `409 loyalty.insufficient_points`. The price breakdown shows "
        "`points_redeemed` and their value.",
        json_schema_extra={"minimum": 0},
        examples=[500],
    )

    def command(self) -> orders.PlaceOrder:
        address = self.shipping_address
        guest = self.guest
        return orders.PlaceOrder(
            lines=tuple(orders.OrderLineRequest(line.sku, line.quantity) for line in self.lines),
            shipping_address=orders.ShippingAddress(**address.model_dump()),
            channel=self.channel,
            customer_id=self.customer_id,
            guest=orders.GuestContact(guest.email, guest.name, guest.phone) if guest else None,
            allow_split=self.allow_split,
            tags=tuple(self.tags),
            note=self.note,
            coupon_codes=tuple(self.coupon_codes),
            shipping_method=self.shipping_method,
            points_to_redeem=self.points_to_redeem,
        )


# --- lifecycle -------------------------------------------------------------------------


class OrderCancel(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "customer request"}]})

    reason: str = Field(max_length=2000)


class OrderTransition(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to": "processing", "reason": "picked"}]}
    )

    to: orders.OrderStatus = Field(
        description="By hand: `processing`, `delivered` or `completed`. Payment, shipping, "
        "cancelling and closing have their own flows."
    )
    reason: str | None = Field(default=None, max_length=2000)


class NoteCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "called the customer"}]})

    note: str = Field(max_length=2000)


class TagsChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"add": ["vip", "gift"], "remove": ["review"]}]}
    )

    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)


# --- reading ---------------------------------------------------------------------------

_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": 1042,
    "number": "SO-260301-7KQ2MX",
    "status": "pending_payment",
    "payment_status": "unpaid",
    "channel": "web",
    "customer_id": None,
    "currency": "USD",
    "subtotal": "52.48",
    "total": "52.48",
    "value_band": "medium",
    "risk_flags": [],
    "tags": ["gift"],
    "placed_at": "2026-03-01T08:00:00Z",
    "payment_due_at": "2026-03-01T08:30:00Z",
}


class OrderSummaryRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY_EXAMPLE]})

    id: int
    number: str
    status: orders.OrderStatus
    payment_status: str
    channel: str
    customer_id: int | None
    currency: str
    subtotal: str
    total: str
    value_band: str
    risk_flags: list[str]
    tags: list[str]
    placed_at: datetime
    payment_due_at: datetime | None

    @classmethod
    def of(cls, order: orders.Order, tags: list[str]) -> OrderSummaryRead:
        return cls(**_summary_fields(order, tags))


def _summary_fields(order: orders.Order, tags: list[str]) -> dict[str, Any]:
    """The summary's fields, for ``OrderSummaryRead`` and ``OrderRead`` alike."""
    return {
        "id": order.id,
        "number": order.number,
        "status": orders.OrderStatus(order.status),
        "payment_status": order.payment_status,
        "channel": order.channel,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "subtotal": amount(order.subtotal_minor, order.currency),
        "total": amount(order.total_minor, order.currency),
        "value_band": order.value_band,
        "risk_flags": list(order.risk_flags),
        "tags": tags,
        "placed_at": order.placed_at,
        "payment_due_at": order.payment_due_at,
    }


class OrderPage(Page[OrderSummaryRead]):
    pass


class OrderLineRead(BaseModel):
    id: int = Field(description="Order line id, as returns and per-line refunds expect.")
    line_number: int
    sku: str
    product_name: str
    quantity: int
    unit_price: str
    discount: str
    total: str
    shipped_quantity: int
    returned_quantity: int
    refunded: str

    @classmethod
    def of(cls, line: orders.OrderLine, currency: str) -> OrderLineRead:
        return cls(
            id=line.id,
            line_number=line.line_number,
            sku=line.sku,
            product_name=line.product_name,
            quantity=line.quantity,
            unit_price=amount(line.unit_price_minor, currency),
            discount=amount(line.discount_minor, currency),
            total=amount(line.total_minor, currency),
            shipped_quantity=line.shipped_quantity,
            returned_quantity=line.returned_quantity,
            refunded=amount(line.refunded_minor, currency),
        )


def _in_major(value: Any, currency: str) -> Any:
    """Every ``<name>_minor`` integer of a pricing document as ``<name>``: a decimal string."""
    if isinstance(value, list):
        return [_in_major(v, currency) for v in value]
    if isinstance(value, dict):
        converted: dict[str, Any] = {}
        for key, item in value.items():
            if key.endswith("_minor") and isinstance(item, int):
                converted[key.removesuffix("_minor")] = amount(item, currency)
            else:
                converted[key] = _in_major(item, currency)
        return converted
    return value


class PricingRead(BaseModel):
    """The price breakdown frozen at placement."""

    currency: str
    lines: list[dict[str, Any]] = Field(
        examples=[
            [
                {
                    "sku": "TEE-S",
                    "quantity": 2,
                    "unit_price": "19.99",
                    "discounts": [],
                    "total": "39.98",
                }
            ]
        ]
    )
    order_discounts: list[dict[str, Any]]
    subtotal: str
    discount: str
    shipping: str
    total: str
    item_discount: str | None = None
    order_discount: str | None = None
    shipping_discount: str | None = None
    points_redeemed: int = 0
    points: str | None = None
    tax: str | None = None
    applied: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Promotions applied at placement (id, name, kind, level, discount, coupon).",
    )
    coupons: list[dict[str, Any]] = Field(default_factory=list)
    shipping_method: str | None = Field(
        default=None, description="The shipping method the order was priced with."
    )
    shipping_rate: dict[str, Any] | None = Field(
        default=None,
        description="The rate of the store's shipping table that set `shipping`: its `id`, "
        "destination (`country`, `region`), `fee`, `free_over` (when it has one) and "
        "whether the items reached it (`free_over_reached`: the fee was waived). Absent "
        "when the store has no shipping methods.",
        examples=[
            {
                "id": 1,
                "country": "CN",
                "region": None,
                "fee": "8.00",
                "free_over": "99.00",
                "free_over_reached": False,
            }
        ],
    )
    offer: dict[str, Any] | None = Field(
        default=None,
        description="For a group-buy or presale order: the offer's `reference`, unit price "
        "and discount, and for a presale the `deposit` due first and the `balance` after.",
        examples=[{"reference": "presale:3", "deposit": "50.00", "balance": "199.00"}],
    )

    @classmethod
    def of(cls, pricing: dict[str, Any], currency: str) -> PricingRead:
        compact = {**pricing, "lines": [_compact_line(line) for line in pricing.get("lines", [])]}
        document = _in_major(compact, currency)
        document.setdefault("currency", currency)
        return cls.model_validate(document)


# Line keys shown only when they say something (a discount, points, tax, a gift).
_LINE_DEFAULTS: dict[str, Any] = {
    "discount_minor": 0,
    "points_minor": 0,
    "tax_minor": 0,
    "gift_of": None,
}


def _compact_line(line: dict[str, Any]) -> dict[str, Any]:
    shown = {
        key: value
        for key, value in line.items()
        if not (key in _LINE_DEFAULTS and value == _LINE_DEFAULTS[key])
    }
    if shown.get("subtotal_minor") == shown.get("total_minor"):
        shown.pop("subtotal_minor", None)
    return shown


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    guest_email: str | None = Field(description=_PII)
    guest_name: str | None = Field(description=_PII)
    guest_phone: str | None = Field(description=_PII)
    pii_masked: bool


class ShippingAddressRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_ADDRESS_EXAMPLE]}
    )

    recipient: str | None = Field(description=_PII)
    line1: str | None = Field(description=_PII)
    line2: str | None = Field(description=_PII)
    phone: str | None = Field(description=_PII)
    city: str
    region: str | None
    postal_code: str | None
    country: str


class TimelineEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str = Field(examples=["status_changed"])
    from_status: str | None
    to_status: str | None
    actor: str = Field(examples=["user:4"])
    reason: str | None
    data: dict[str, Any]
    occurred_at: datetime


class OrderReservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    warehouse_id: int
    quantity: int
    status: str
    expires_at: datetime | None


class OrderRead(OrderSummaryRead):
    """One order with everything staff need: lines, prices, stock held, contact, timeline."""

    discount: str
    shipping: str
    tax: str
    captured: str
    refunded: str
    shipping_refunded: str = Field(description="of refunded: the shipping fee given back")
    allow_split: bool
    paid_at: datetime | None
    ship_by: datetime | None
    deliver_by: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    closed_at: datetime | None
    contact: ContactRead
    shipping_address: ShippingAddressRead
    lines: list[OrderLineRead]
    pricing: PricingRead
    reservations: list[OrderReservationRead]
    timeline: list[TimelineEntryRead]

    @classmethod
    def of_detail(cls, detail: orders.OrderDetail, contact: orders.OrderContact) -> OrderRead:
        order, currency = detail.order, detail.order.currency
        return cls(
            **_summary_fields(order, detail.tags),
            discount=amount(order.discount_minor, currency),
            shipping=amount(order.shipping_minor, currency),
            tax=amount(order.tax_minor, currency),
            captured=amount(order.captured_minor, currency),
            refunded=amount(order.refunded_minor, currency),
            shipping_refunded=amount(order.shipping_refunded_minor, currency),
            allow_split=order.allow_split,
            paid_at=order.paid_at,
            ship_by=order.ship_by,
            deliver_by=order.deliver_by,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
            completed_at=order.completed_at,
            cancelled_at=order.cancelled_at,
            closed_at=order.closed_at,
            contact=ContactRead.model_validate(contact),
            shipping_address=ShippingAddressRead.model_validate(contact),
            lines=[OrderLineRead.of(line, currency) for line in detail.lines],
            pricing=PricingRead.of(order.pricing, currency),
            reservations=[OrderReservationRead.model_validate(r) for r in detail.reservations],
            timeline=[TimelineEntryRead.model_validate(e) for e in detail.timeline],
        )
