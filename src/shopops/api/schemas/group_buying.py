"""Group-buy request and response bodies. Prices are decimal strings in the SKU's currency.

Ranges and windows are checked by the group-buying context, so one response lists
every field error with its ``group_buys.*`` code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.api.pagination import Page
from shopops.api.schemas.orders import ShippingAddressCreate, amount
from shopops.contexts import group_buying, orders
from shopops.kernel.figures import named_figures

_OFFER_EXAMPLE: dict[str, Any] = {
    "name": "Tea for three",
    "sku": "TEA-TIN",
    "group_price": "59.90",
    "group_size": 3,
    "duration_minutes": 1440,
    "starts_at": "2026-05-01T00:00:00Z",
    "ends_at": "2026-05-08T00:00:00Z",
    "max_groups": 100,
    "max_quantity": 2,
}


class GroupBuyOfferCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_OFFER_EXAMPLE]})

    name: str = Field(max_length=200)
    sku: str = Field(max_length=64)
    group_price: str = Field(max_length=40, description="Per unit, in the SKU's currency.")
    group_size: int = Field(description="Members needed (2-1000).")
    duration_minutes: int = Field(description="How long a group stays open once opened.")
    starts_at: datetime = Field(description="Groups may be opened from here (with offset).")
    ends_at: datetime = Field(description="...until here (exclusive).")
    max_groups: int | None = Field(default=None, description="Groups the offer may open.")
    max_quantity: int = Field(default=1, description="Units one member may buy (1-100).")

    def command(self) -> group_buying.CreateGroupBuyOffer:
        return group_buying.CreateGroupBuyOffer(**self.model_dump())


class GroupBuyOfferRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _OFFER_EXAMPLE
                | {"id": 1, "currency": "USD", "list_price": "99.90", "groups_opened": 12}
                | {"status": "active"}
            ]
        }
    )

    id: int
    name: str
    sku: str
    currency: str
    list_price: str
    group_price: str
    group_size: int
    duration_minutes: int
    starts_at: datetime
    ends_at: datetime
    max_groups: int | None
    groups_opened: int
    max_quantity: int
    status: str

    @classmethod
    def of(cls, offer: group_buying.GroupBuyOffer) -> GroupBuyOfferRead:
        return cls(
            id=offer.id,
            name=offer.name,
            sku=offer.sku,
            currency=offer.currency,
            list_price=amount(offer.list_price_minor, offer.currency),
            group_price=amount(offer.group_price_minor, offer.currency),
            group_size=offer.group_size,
            duration_minutes=offer.duration_minutes,
            starts_at=offer.starts_at,
            ends_at=offer.ends_at,
            max_groups=offer.max_groups,
            groups_opened=offer.groups_opened,
            max_quantity=offer.max_quantity,
            status=offer.status,
        )


class GroupBuyOfferPage(Page[GroupBuyOfferRead]):
    pass


class GroupMemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    order_id: int
    order_number: str
    quantity: int
    status: str = Field(description="`joined`, `paid`, `left` or `cancelled`.")
    joined_at: datetime
    paid_at: datetime | None
    left_at: datetime | None


class BuyingGroupRead(BaseModel):
    id: int
    offer_id: int
    status: str = Field(description="`open`, `succeeded` or `failed`.")
    size: int
    joined: int = Field(description="Places taken by members who have not left.")
    paid: int = Field(description="Members who paid before the group expires.")
    opened_by: int
    opened_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    members: list[GroupMemberRead]

    @classmethod
    def of(cls, detail: group_buying.GroupDetail) -> BuyingGroupRead:
        group = detail.group
        return cls(
            id=group.id,
            offer_id=group.offer_id,
            status=group.status,
            size=group.size,
            joined=group.joined,
            paid=detail.paid,
            opened_by=group.opened_by,
            opened_at=group.opened_at,
            expires_at=group.expires_at,
            closed_at=group.closed_at,
            members=[GroupMemberRead.model_validate(m) for m in detail.members],
        )


class BuyingGroupPage(Page[BuyingGroupRead]):
    pass


class GroupBuyOrderCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 42,
                    "group_id": 7,
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

    customer_id: int | None = Field(default=None, description="Group buys are for customers.")
    group_id: int | None = Field(default=None, description="Join this group; omit to open one.")
    quantity: int = Field(default=1, description="Units, up to the offer's `max_quantity`.")
    shipping_address: ShippingAddressCreate
    channel: str = Field(default="web", max_length=32)
    note: str | None = Field(default=None, max_length=2000)

    def command(self, offer_id: int) -> group_buying.JoinGroupBuy:
        return group_buying.JoinGroupBuy(
            offer_id=offer_id,
            customer_id=self.customer_id,
            shipping_address=orders.ShippingAddress(**self.shipping_address.model_dump()),
            group_id=self.group_id,
            quantity=self.quantity,
            channel=self.channel,
            note=self.note,
        )


class GroupBuyOrderRead(BaseModel):
    """The group after the buyer joined, and the order they must now pay."""

    opened: bool = Field(description="True when this order opened the group.")
    group: BuyingGroupRead
    order_id: int
    order_number: str
    currency: str
    total: str
    payment_due_at: datetime | None

    @classmethod
    def of(cls, result: group_buying.JoinResult) -> GroupBuyOrderRead:
        order = result.order
        return cls(
            opened=result.opened,
            group=BuyingGroupRead.of(result.detail),
            order_id=order.id,
            order_number=order.number,
            currency=order.currency,
            total=amount(order.total_minor, order.currency),
            payment_due_at=order.payment_due_at,
        )


class GroupBuyPerformanceRead(BaseModel):
    """How an offer's groups did. Amounts are decimal strings in `currency`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "offer_id": 1,
                    "name": "Tea for three",
                    "status": "active",
                    "currency": "USD",
                    "as_of": "2026-05-08T00:00:00Z",
                    "groups_opened": 3,
                    "groups_succeeded": 1,
                    "groups_failed": 1,
                    "groups_open": 1,
                    "success_rate": 0.5,
                    "members_joined": 6,
                    "members_left": 1,
                    "orders_paid": 3,
                    "orders_cancelled": 2,
                    "orders_refunded": 1,
                    "orders_refunded_amount": "59.90",
                    "orders_succeeded": 2,
                    "units_succeeded": 3,
                    "discount": "120.00",
                    "gmv": "179.70",
                }
            ]
        }
    )

    offer_id: int
    name: str
    status: str
    currency: str
    as_of: datetime
    groups_opened: int
    groups_succeeded: int
    groups_failed: int
    groups_open: int = Field(description="Not settled yet (the expiry job settles expired ones).")
    success_rate: float | None = Field(
        description="succeeded / (succeeded + failed) (6 places); null before any settles."
    )
    members_joined: int = Field(description="Every join, including members who left.")
    members_left: int = Field(description="Order closed unpaid or cancelled in an open group.")
    orders_paid: int = Field(description="Members' orders paid, whatever became of the group.")
    orders_cancelled: int = Field(description="Cancelled because their group failed.")
    orders_refunded: int = Field(description="Of those, the ones that had been paid.")
    orders_refunded_amount: str = Field(description="What those had paid; all of it refunded.")
    orders_succeeded: int = Field(description="Paid orders of succeeded groups.")
    units_succeeded: int
    discount: str = Field(description="(list price - group price) x units_succeeded: the cost.")
    gmv: str = Field(description="Totals of the paid orders of succeeded groups.")

    @classmethod
    def of(cls, report: group_buying.GroupBuyPerformance) -> GroupBuyPerformanceRead:
        offer, f = report.offer, report.figures
        currency = offer.currency
        return cls(
            offer_id=offer.id,
            name=offer.name,
            status=offer.status,
            currency=currency,
            as_of=report.as_of,
            success_rate=f.success_rate,
            **named_figures(f, currency),
        )
