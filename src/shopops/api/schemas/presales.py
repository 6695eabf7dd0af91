"""Presale request and response bodies. Amounts are decimal strings per unit in the
SKU's currency; the presales context checks them, listing every field error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.api.pagination import Page
from shopops.api.schemas.orders import GuestContactCreate, ShippingAddressCreate, amount
from shopops.contexts import orders, presales
from shopops.kernel.figures import named_figures

_PRESALE_EXAMPLE: dict[str, Any] = {
    "name": "Autumn boots presale",
    "sku": "BOOT-42",
    "price": "299.00",
    "deposit": "50.00",
    "deposit_worth": "100.00",
    "deposit_starts_at": "2026-09-01T00:00:00+08:00",
    "deposit_ends_at": "2026-10-20T00:00:00+08:00",
    "balance_starts_at": "2026-10-20T00:00:00+08:00",
    "balance_ends_at": "2026-10-23T00:00:00+08:00",
    "max_quantity": 2,
}


class PresaleCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_PRESALE_EXAMPLE]})

    name: str = Field(max_length=200)
    sku: str = Field(max_length=64)
    price: str = Field(max_length=40, description="Final price per unit.")
    deposit: str = Field(max_length=40, description="Paid now per unit; less than the price.")
    deposit_worth: str = Field(
        max_length=40, description="What the deposit counts for against the price (>= deposit)."
    )
    deposit_starts_at: datetime
    deposit_ends_at: datetime
    balance_starts_at: datetime = Field(description="At or after deposit_ends_at.")
    balance_ends_at: datetime
    max_quantity: int = Field(default=1, description="Units per order (1-100).")

    def command(self) -> presales.CreatePresale:
        return presales.CreatePresale(**self.model_dump())


class PresaleRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _PRESALE_EXAMPLE
                | {"id": 3, "currency": "CNY", "balance": "199.00", "status": "active"}
            ]
        }
    )

    id: int
    name: str
    sku: str
    currency: str
    price: str
    deposit: str
    deposit_worth: str
    balance: str = Field(description="Due per unit in the balance window: price - worth.")
    deposit_starts_at: datetime
    deposit_ends_at: datetime
    balance_starts_at: datetime
    balance_ends_at: datetime
    max_quantity: int
    status: str

    @classmethod
    def of(cls, offer: presales.PresaleOffer) -> PresaleRead:
        currency = offer.currency
        return cls(
            id=offer.id,
            name=offer.name,
            sku=offer.sku,
            currency=currency,
            price=amount(offer.price_minor, currency),
            deposit=amount(offer.deposit_minor, currency),
            deposit_worth=amount(offer.deposit_worth_minor, currency),
            balance=amount(offer.price_minor - offer.deposit_worth_minor, currency),
            deposit_starts_at=offer.deposit_starts_at,
            deposit_ends_at=offer.deposit_ends_at,
            balance_starts_at=offer.balance_starts_at,
            balance_ends_at=offer.balance_ends_at,
            max_quantity=offer.max_quantity,
            status=offer.status,
        )


class PresalePage(Page[PresaleRead]):
    pass


class PresaleOrderCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 42,
                    "quantity": 1,
                    "shipping_address": {
                        "recipient": "Wang Fang",
                        "line1": "88 Nanjing Road",
                        "city": "Shanghai",
                        "country": "CN",
                    },
                    "channel": "app",
                }
            ]
        }
    )

    customer_id: int | None = Field(default=None, description="A customer_id or a guest.")
    guest: GuestContactCreate | None = None
    quantity: int = Field(default=1, description="Units, up to the presale's `max_quantity`.")
    shipping_address: ShippingAddressCreate
    channel: str = Field(default="web", max_length=32)
    note: str | None = Field(default=None, max_length=2000)

    def command(self, offer_id: int) -> presales.PlacePresaleOrder:
        guest = self.guest
        return presales.PlacePresaleOrder(
            offer_id=offer_id,
            shipping_address=orders.ShippingAddress(**self.shipping_address.model_dump()),
            customer_id=self.customer_id,
            guest=orders.GuestContact(guest.email, guest.name, guest.phone) if guest else None,
            quantity=self.quantity,
            channel=self.channel,
            note=self.note,
        )


class PresaleOrderRead(BaseModel):
    """A presale order and what it still owes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": 1042,
                    "order_number": "SO-260901-7KQ2MX",
                    "status": "pending_payment",
                    "payment_status": "unpaid",
                    "currency": "CNY",
                    "total": "249.00",
                    "deposit": "50.00",
                    "balance": "199.00",
                    "captured": "0.00",
                    "forfeited": "0.00",
                    "payment_due_at": "2026-10-20T00:00:00+08:00",
                    "balance_from": "2026-10-20T00:00:00+08:00",
                    "balance_due_at": "2026-10-23T00:00:00+08:00",
                }
            ]
        }
    )

    order_id: int
    order_number: str
    status: str
    payment_status: str = Field(
        description="`unpaid`, `deposit_paid`, `paid`, `forfeited`, or a refund state."
    )
    currency: str
    total: str
    deposit: str
    balance: str
    captured: str
    forfeited: str
    payment_due_at: datetime | None = Field(description="When what is due now must be paid.")
    balance_from: datetime | None
    balance_due_at: datetime | None

    @classmethod
    def of(cls, order: orders.Order) -> PresaleOrderRead:
        currency = order.currency
        deposit = order.deposit_minor or 0
        return cls(
            order_id=order.id,
            order_number=order.number,
            status=order.status,
            payment_status=order.payment_status,
            currency=currency,
            total=amount(order.total_minor, currency),
            deposit=amount(deposit, currency),
            balance=amount(order.total_minor - deposit, currency),
            captured=amount(order.captured_minor, currency),
            forfeited=amount(order.forfeited_minor, currency),
            payment_due_at=order.payment_due_at,
            balance_from=order.balance_from,
            balance_due_at=order.balance_due_at,
        )


class PresaleOrderPage(Page[PresaleOrderRead]):
    pass


class PresalePerformanceRead(BaseModel):
    """How a presale's orders did. Amounts are decimal strings in `currency`.

    Every order is in one of `awaiting_deposit`, `cancelled_before_deposit` and
    `deposits_paid`; every order that paid its deposit in one of `balances_paid`, `open`,
    `balance_overdue`, `forfeited` and `cancelled_after_deposit`.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "presale_id": 3,
                    "name": "Autumn boots presale",
                    "status": "active",
                    "currency": "CNY",
                    "as_of": "2026-10-23T00:00:00Z",
                    "orders_placed": 7,
                    "awaiting_deposit": 0,
                    "cancelled_before_deposit": 2,
                    "deposits_paid": 5,
                    "deposits_paid_amount": "350.00",
                    "balances_paid": 2,
                    "balances_paid_amount": "597.00",
                    "conversion_rate": 0.4,
                    "open": 0,
                    "balance_overdue": 0,
                    "forfeited": 2,
                    "forfeited_amount": "150.00",
                    "cancelled_after_deposit": 1,
                    "discount": "150.00",
                    "gmv": "747.00",
                }
            ]
        }
    )

    presale_id: int
    name: str
    status: str
    currency: str
    as_of: datetime = Field(description="When the figures were read (open vs overdue).")
    orders_placed: int
    awaiting_deposit: int = Field(description="Deposit not paid yet, order still pending.")
    cancelled_before_deposit: int = Field(
        description="Cancelled, or closed unpaid, before paying a deposit."
    )
    deposits_paid: int
    deposits_paid_amount: str
    balances_paid: int = Field(description="Converted: the balance was paid too.")
    balances_paid_amount: str
    conversion_rate: float | None = Field(
        description="balances_paid / deposits_paid (6 places); null before any deposit."
    )
    open: int = Field(description="Deposit paid, balance window not ended.")
    balance_overdue: int = Field(
        description="Deposit paid, balance window ended, not yet forfeited by the close job."
    )
    forfeited: int
    forfeited_amount: str = Field(description="Deposits kept: revenue without a sale.")
    cancelled_after_deposit: int = Field(description="Cancelled by staff; deposit refunded.")
    discount: str = Field(
        description="Deposit bonus (worth - deposit) granted on converted orders: the cost."
    )
    gmv: str = Field(description="Totals (deposit + balance) of converted orders.")

    @classmethod
    def of(cls, report: presales.PresalePerformance) -> PresalePerformanceRead:
        offer, f = report.offer, report.figures
        currency = offer.currency
        return cls(
            presale_id=offer.id,
            name=offer.name,
            status=offer.status,
            currency=currency,
            as_of=report.as_of,
            conversion_rate=f.conversion_rate,
            **named_figures(f, currency),
        )
