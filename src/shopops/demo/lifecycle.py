"""One order's whole life, simulated at placement and cut off at the end of history.

At placement the order is priced by the real pricing engine (``pricing``: the
promotions running at the time, their limits as they stood) and its fate is drawn
(paid or not, cancelled, shipment and delivery times, return, goodwill refund);
every step that happens before the end of history becomes rows exactly as the
services would have written them: the order and its lines with the price breakdown,
timeline, payment, refunds, shipments with tracking scans, return requests,
reservations and the promotions' redemptions (given back if the order is cancelled
or closed). What a line refunds is what was paid for it: its total after discounts,
split over its units as returns split it. Stock effects in the future (sale at
shipment, release, restock of returns) are scheduled on the stock book.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shopops.contexts import promotions
from shopops.contexts.orders.rules import risk_flags, value_band
from shopops.contexts.returns import units_value
from shopops.contexts.returns.models import ReturnReason
from shopops.demo.pricing import SHIPPING_METHOD, HistoryPricer
from shopops.demo.stock import Level, StockBook

if TYPE_CHECKING:
    from shopops.demo.behaviour import BehaviourWriter

Row = dict[str, Any]
PAYMENT_WINDOW = timedelta(minutes=30)
RESERVE_EXTRA = timedelta(minutes=5)  # reservations outlive the window; the close job acts first
SHIP_WITHIN = timedelta(hours=48)
DELIVER_WITHIN = timedelta(days=5)
COMPLETE_AFTER = timedelta(days=7)
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_METHODS = {
    "mini_program": ("wechat_pay",),
    "app": ("alipay", "wechat_pay", "card"),
    "web": ("card", "alipay", "bank_transfer"),
    "marketplace": ("wallet",),
    "store": ("card", "wechat_pay"),
}
_CANCEL_REASONS = ("changed my mind", "ordered by mistake", "found a better price", "duplicate")
_EXCEPTIONS = ("address unclear, contacting recipient", "weather delay", "parcel held at depot")


@dataclass(frozen=True)
class Shopper:
    customer_id: int | None
    channel: str
    city: str
    region: str | None
    postal_code: str | None
    recipient: bytes | None  # sealed with the PII key
    line1: bytes | None
    phone: bytes | None
    guest_email: bytes | None = None
    guest_email_hash: str | None = None
    guest_name: bytes | None = None


@dataclass(frozen=True)
class Sku:
    sku: str
    name: str
    category: str
    price_minor: int
    cost_minor: int | None


@dataclass
class Batch:
    """Rows of many orders, by table, ready for bulk insert."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    orders: int = 0


@dataclass
class _Line:
    id: int
    sku: Sku
    quantity: int
    parts: list[tuple[Level, int]]
    discount: int = 0  # this line's share of every promotion, from the price breakdown
    shipped: int = 0
    returned: int = 0
    refunded: int = 0

    @property
    def subtotal(self) -> int:
        return self.sku.price_minor * self.quantity

    @property
    def total(self) -> int:
        """What the customer paid for the line (refunds start here)."""
        return self.subtotal - self.discount


class OrderSimulator:
    def __init__(
        self,
        rng: random.Random,
        book: StockBook,
        next_id: Callable[[str], int],
        end: datetime,
        actor: str,
        city_of_warehouse: dict[int, str],
        currency: str,
        pricer: HistoryPricer,
    ) -> None:
        self.currency = currency
        self.pricer = pricer
        self.rng = rng
        self.book = book
        self.next_id = next_id
        self.end = end
        self.actor = actor
        self.city_of_warehouse = city_of_warehouse
        self._numbers: set[str] = set()
        self._numbers_day = ""
        self.behaviour: BehaviourWriter | None = None  # storefront events around each order

    def _number(self, placed: datetime) -> str:
        day = f"{placed:%y%m%d}"
        if day != self._numbers_day:  # placements come in time order: one day's set suffices
            self._numbers, self._numbers_day = set(), day
        while True:
            number = f"SO-{day}-{''.join(self.rng.choices(_ALPHABET, k=6))}"
            if number not in self._numbers:
                self._numbers.add(number)
                return number

    def _hex(self, digits: int = 24) -> str:
        return f"{self.rng.getrandbits(digits * 4):0{digits}x}"

    def place(
        self,
        batch: Batch,
        placed: datetime,
        shopper: Shopper,
        basket: list[tuple[Sku, int]],
        tag: str | None,
        *,
        stays_unpaid: bool = False,
        codes: tuple[str, ...] = (),
    ) -> bool:
        """Simulate one order (the shopper enters ``codes``, if any); False if stock ran
        out for every line."""
        lines: list[_Line] = []
        for sku, quantity in basket:
            parts = self.book.allocate(sku.sku, quantity, shopper.region)
            got = sum(q for _, q in parts)
            if got:
                lines.append(_Line(self.next_id("order_lines"), sku, got, parts))
        if not lines:
            return False
        priced = self.pricer.price(
            placed,
            shopper.customer_id,
            shopper.channel,
            [(line.sku.sku, line.quantity) for line in lines],
            codes,
        )
        for line, priced_line in zip(lines, priced.lines, strict=True):  # no gifts, no points
            line.discount = priced_line.discount_minor
            assert line.total == priced_line.total_minor, line.sku.sku
        life = _Life(self, batch, placed, shopper, lines, tag, stays_unpaid, priced)
        life.run()
        self.pricer.redeem(
            batch.rows, life.number, priced, shopper.customer_id, placed, life.released
        )
        batch.orders += 1
        if self.behaviour is not None:
            paid = life.payment["captured_at"] if life.payment is not None else None
            self.behaviour.order_session(
                batch,
                placed=placed,
                paid=paid,
                customer_id=shopper.customer_id,
                channel=shopper.channel,
                order_number=life.number,
                lines=[(line.sku, line.quantity) for line in lines],
                total_minor=life.total,
            )
        return True


class _Life:
    """The rows of one order; a fresh instance per order keeps the steps readable."""

    def __init__(
        self,
        sim: OrderSimulator,
        batch: Batch,
        placed: datetime,
        shopper: Shopper,
        lines: list[_Line],
        tag: str | None,
        stays_unpaid: bool,
        priced: promotions.PricedCart,
    ) -> None:
        self.sim, self.rng, self.rows = sim, sim.rng, batch.rows
        self.placed, self.shopper, self.lines, self.tag = placed, shopper, lines, tag
        self.stays_unpaid = stays_unpaid
        self.priced = priced
        self.id = sim.next_id("orders")
        self.number = sim._number(placed)
        self.total = priced.total_minor
        self.released: datetime | None = None  # cancelled or closed: promotions given back
        self.events: list[tuple[datetime, int, Row]] = []
        self.order: Row = {}
        self.payment: Row | None = None
        self.status = "pending_payment"
        self.shipped_from: dict[int, datetime] = {}  # warehouse id -> shipment time

    def happened(self, at: datetime | None) -> bool:
        return at is not None and at <= self.sim.end

    def event(
        self,
        at: datetime,
        kind: str,
        *,
        to: str | None = None,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        previous = self.status if to else None
        if to:
            self.status = to
        row = {
            "order_id": self.id,
            "kind": kind,
            "from_status": previous,
            "to_status": to,
            "actor": self.sim.actor,
            "reason": reason,
            "data": data or {},
            "occurred_at": at,
        }
        self.events.append((at, len(self.events), row))

    # --- the life ---

    def run(self) -> None:
        rng = self.rng
        self.event(self.placed, "placed", to="pending_payment", data={"channel": self.channel})
        fate = rng.random()
        paid: datetime | None = None
        ended: datetime | None = None  # cancelled or closed
        if self.stays_unpaid:
            pass  # checkout still open at the end of history
        elif fate < 0.04:
            ended = self.placed + PAYMENT_WINDOW + timedelta(minutes=rng.uniform(0, 5))
            if rng.random() < 0.35:
                self.failed_payment(self.placed + timedelta(minutes=rng.uniform(1, 20)))
            if self.happened(ended):
                self.event(ended, "status_changed", to="closed", reason="payment window expired")
        elif fate < 0.055:
            ended = self.placed + timedelta(minutes=rng.uniform(3, 25))
            if self.happened(ended):
                self.cancel(ended)
        else:
            paid = self.placed + timedelta(minutes=rng.lognormvariate(0.7, 0.9))
            paid = min(paid, self.placed + PAYMENT_WINDOW - timedelta(minutes=1))
        if paid is not None and self.happened(paid):
            self.pay(paid)
            ended = self.after_payment(paid)
        if self.happened(ended):
            self.released = ended
        self.write_reservations(paid, ended)
        self.write_order(paid)

    @property
    def channel(self) -> str:
        return self.shopper.channel

    def after_payment(self, paid: datetime) -> datetime | None:
        """Processing, shipments, delivery, completion, returns; the cancel time if cancelled."""
        rng = self.rng
        first = paid + (
            timedelta(hours=rng.uniform(49, 80))
            if rng.random() < 0.04
            else timedelta(hours=rng.triangular(4, 46, 12))
        )
        if rng.random() < 0.015:  # cancelled after payment, before anything shipped
            cancelled = paid + (first - paid) * rng.uniform(0.1, 0.9)
            if self.happened(cancelled):
                self.cancel(cancelled)
                return cancelled
            return None
        if rng.random() < 0.5:
            processing = paid + (first - paid) * rng.uniform(0.05, 0.5)
            if self.happened(processing):
                self.event(processing, "status_changed", to="processing")
        by_warehouse: dict[int, list[tuple[_Line, int]]] = defaultdict(list)
        for line in self.lines:
            for level, quantity in line.parts:
                by_warehouse[level.warehouse_id].append((line, quantity))
        delivered_all: list[datetime | None] = []
        shipped = first
        for number, (warehouse_id, parcel) in enumerate(by_warehouse.items()):
            if number:
                shipped += timedelta(hours=rng.uniform(2, 30))
            if not self.happened(shipped):
                delivered_all.append(None)
                continue
            last = number == len(by_warehouse) - 1
            delivered_all.append(self.ship(shipped, warehouse_id, parcel, last))
        if all(self.happened(d) for d in delivered_all):
            delivered = max(d for d in delivered_all if d is not None)
            self.order["delivered_at"] = delivered
            self.event(
                delivered,
                "status_changed",
                to="delivered",
                reason="every shipment has been delivered",
            )
            self.after_delivery(delivered)
        return None

    def after_delivery(self, delivered: datetime) -> None:
        rng = self.rng
        completed = delivered + COMPLETE_AFTER + timedelta(minutes=rng.uniform(1, 60))
        if rng.random() < 0.06:
            self.return_request(delivered + timedelta(days=rng.uniform(0.5, 6.5)))
        elif rng.random() < 0.016:
            at = delivered + timedelta(days=rng.uniform(0.3, 5))
            if self.happened(at):
                share = rng.uniform(0.05, 0.2)
                self.refund(at, self.spread(max(100, int(self.total * share))), "goodwill", None)
        if self.happened(completed):
            self.order["completed_at"] = completed
            self.event(
                completed,
                "status_changed",
                to="completed",
                reason=f"delivered more than {COMPLETE_AFTER.days} days ago",
            )

    # --- steps ---

    def failed_payment(self, at: datetime) -> None:
        if not self.happened(at):
            return
        payment = self.new_payment(at, "failed")
        payment.update(
            error_code="card_declined", error_message="the card was declined", failed_at=at
        )
        self.event(
            at,
            "payment_failed",
            reason="the card was declined",
            data={"payment_id": payment["id"], "error_code": "card_declined"},
        )

    def new_payment(self, at: datetime, status: str) -> Row:
        payment: Row = {
            "id": self.sim.next_id("payments"),
            "order_id": self.id,
            "amount_minor": self.total,
            "currency": self.sim.currency,
            "status": status,
            "method": self.rng.choice(_METHODS.get(self.channel, ("card",))),
            "gateway": "sandbox",
            "gateway_reference": f"sbx_ch_{self.sim._hex()}",
            "idempotency_key": f"pay:{self.sim._hex(32)}",
            "captured_minor": 0,
            "refunded_minor": 0,
            "refund_pending_minor": 0,
            "fee_minor": 0,
            "error_code": None,
            "error_message": None,
            "actor": self.sim.actor,
            "authorized_at": None,
            "captured_at": None,
            "failed_at": None,
            "voided_at": None,
            "created_at": at,
            "updated_at": at,
        }
        self.rows["payments"].append(payment)
        self.event(
            at, "payment_started", data={"payment_id": payment["id"], "amount_minor": self.total}
        )
        return payment

    def pay(self, at: datetime) -> None:
        payment = self.new_payment(at, "captured")
        fee = self.total * 29 // 1000 + 30
        payment.update(captured_minor=self.total, fee_minor=fee, authorized_at=at, captured_at=at)
        self.payment = payment
        reference = payment["gateway_reference"]
        self.event(
            at,
            "payment_captured",
            data={
                "payment_id": payment["id"],
                "amount_minor": self.total,
                "fee_minor": fee,
                "gateway_reference": reference,
            },
        )
        self.event(at, "status_changed", to="paid", data={"payment": reference})

    def cancel(self, at: datetime) -> None:
        self.event(at, "status_changed", to="cancelled", reason=self.rng.choice(_CANCEL_REASONS))
        released = [
            {"sku": line.sku.sku, "warehouse_id": level.warehouse_id, "quantity": quantity}
            for line in self.lines
            for level, quantity in line.parts
        ]
        self.event(at, "stock_released", data={"lines": released})
        if self.payment is not None:
            amounts = {line.id: line.total for line in self.lines}
            self.refund(at, amounts, "order cancelled: customer request", None)

    def ship(
        self, at: datetime, warehouse_id: int, parcel: list[tuple[_Line, int]], last: bool
    ) -> datetime | None:
        """One parcel from one warehouse; returns its delivery time (maybe after the end)."""
        rng = self.rng
        shipment_id = self.sim.next_id("shipments")
        tracking = f"SBSAND{shipment_id:012d}"
        for line, quantity in parcel:
            line.shipped += quantity
            self.rows["shipment_lines"].append(
                {
                    "id": self.sim.next_id("shipment_lines"),
                    "shipment_id": shipment_id,
                    "order_line_id": line.id,
                    "sku": line.sku.sku,
                    "quantity": quantity,
                }
            )
        for line in self.lines:
            for level, quantity in line.parts:
                if level.warehouse_id == warehouse_id:
                    self.sim.book.schedule(at, "consume", level, quantity, self.number)
        self.shipped_from[warehouse_id] = at
        code = self.sim.book.warehouses[warehouse_id].code
        self.event(
            at,
            "status_changed",
            to="shipped" if last else "partially_shipped",
            reason=f"shipped from {code} with sandbox {tracking}",
            data={
                "shipment_id": shipment_id,
                "carrier": "sandbox",
                "tracking_number": tracking,
                "warehouse": code,
                "lines": [
                    {"order_line_id": line.id, "sku": line.sku.sku, "quantity": quantity}
                    for line, quantity in parcel
                ],
            },
        )
        if last:
            self.order["shipped_at"] = at
        moving = at + timedelta(hours=rng.uniform(2, 10))
        delivered = at + timedelta(days=rng.triangular(1, 5, 2))
        scans: list[tuple[datetime, str, str | None, str]] = [
            (moving, "in_transit", self.sim.city_of_warehouse[warehouse_id], "departed")
        ]
        if rng.random() < 0.025:
            trouble = moving + (delivered - moving) * rng.uniform(0.3, 0.8)
            scans.append((trouble, "exception", None, rng.choice(_EXCEPTIONS)))
            delivered += timedelta(days=rng.uniform(1, 3))
        city = self.shopper.city
        scans.append(
            (
                delivered - timedelta(hours=rng.uniform(1, 5)),
                "out_for_delivery",
                city,
                "with courier",
            )
        )
        scans.append((delivered, "delivered", city, "signed for"))
        status, status_at = "label_created", at
        for occurred, scan, location, text in scans:
            if not self.happened(occurred):
                break
            status, status_at = scan, occurred
            self.rows["tracking_events"].append(
                {
                    "id": self.sim.next_id("tracking_events"),
                    "shipment_id": shipment_id,
                    "status": scan,
                    "location": location,
                    "description": text,
                    "source": "carrier",
                    "occurred_at": occurred,
                    "recorded_at": min(occurred + timedelta(minutes=3), self.sim.end),
                    "actor": self.sim.actor,
                }
            )
        arrived = self.happened(delivered)
        if arrived:
            self.event(
                delivered,
                "shipment_delivered",
                data={
                    "shipment_id": shipment_id,
                    "carrier": "sandbox",
                    "tracking_number": tracking,
                },
            )
        paid = self.order_paid_at
        self.rows["shipments"].append(
            {
                "id": shipment_id,
                "order_id": self.id,
                "warehouse_id": warehouse_id,
                "carrier": "sandbox",
                "tracking_number": tracking,
                "label_reference": f"sandbox://labels/sandbox/{tracking}.pdf",
                "status": status,
                "status_at": status_at,
                "shipped_at": at,
                "delivered_at": delivered if arrived else None,
                "ship_by": paid + SHIP_WITHIN,
                "deliver_by": paid + DELIVER_WITHIN,
                "last_polled_at": None if arrived else status_at,
                "created_at": at,
                "updated_at": status_at,
            }
        )
        return delivered

    @property
    def order_paid_at(self) -> datetime:
        assert self.payment is not None
        paid: datetime = self.payment["captured_at"]
        return paid

    def spread(self, amount: int) -> dict[int, int]:
        """``amount`` over the lines in proportion to what is left to refund on each."""
        left = {line.id: line.total - line.refunded for line in self.lines}
        room = sum(left.values())
        amount = min(amount, room)
        shares = {key: amount * value // room for key, value in left.items()}
        rest = amount - sum(shares.values())
        for key in sorted(left, key=lambda k: left[k] - shares[k], reverse=True):
            step = min(rest, left[key] - shares[key])
            shares[key] += step
            rest -= step
        return {key: value for key, value in shares.items() if value > 0}

    def refund(
        self, at: datetime, amounts: dict[int, int], reason: str, return_id: int | None
    ) -> tuple[int, int]:
        """A succeeded refund on the order's payment: (refund id, amount)."""
        assert self.payment is not None
        refund_id = self.sim.next_id("refunds")
        amount = sum(amounts.values())
        by_id = {line.id: line for line in self.lines}
        for line_id, part in amounts.items():
            by_id[line_id].refunded += part
        payment = self.payment
        payment["refunded_minor"] += amount
        full = payment["refunded_minor"] == payment["captured_minor"]
        payment["status"] = "refunded" if full else "partially_refunded"
        payment["updated_at"] = at
        lines = [{"order_line_id": key, "amount_minor": value} for key, value in amounts.items()]
        reference = f"sbx_re_{self.sim._hex()}"
        self.rows["refunds"].append(
            {
                "id": refund_id,
                "payment_id": payment["id"],
                "order_id": self.id,
                "return_id": return_id,
                "amount_minor": amount,
                "currency": self.sim.currency,
                "lines": lines,
                "reason": reason,
                "status": "succeeded",
                "gateway_reference": reference,
                "idempotency_key": f"refund:{self.sim._hex(32)}",
                "error_code": None,
                "error_message": None,
                "attempts": 1,
                "actor": self.sim.actor,
                "requested_at": at,
                "completed_at": at,
                "created_at": at,
                "updated_at": at,
            }
        )
        self.event(
            at,
            "refund_requested",
            data={
                "refund_id": refund_id,
                "amount_minor": amount,
                "lines": lines,
                "reason": reason,
                "return_id": return_id,
            },
        )
        self.event(
            at,
            "refund_issued",
            data={
                "refund_id": refund_id,
                "amount_minor": amount,
                "gateway_reference": reference,
                "error_code": None,
                "return_id": return_id,
            },
        )
        return refund_id, amount

    def return_request(self, requested: datetime) -> None:
        rng = self.rng
        if not self.happened(requested):
            return
        return_id = self.sim.next_id("return_requests")
        chosen = rng.sample(self.lines, 1 if rng.random() < 0.8 else min(2, len(self.lines)))
        category = chosen[0].sku.category
        fits = category in ("Apparel", "Shoes")
        reason = rng.choices(list(ReturnReason), weights=(14, 6, 16, 40 if fits else 3, 22, 5))[0]
        refund_only = rng.random() < 0.12
        picked = [(line, rng.randint(1, line.quantity)) for line in chosen]
        request: Row = {
            "id": return_id,
            "order_id": self.id,
            "status": "requested",
            "refund_only": refund_only,
            "currency": self.sim.currency,
            "note": None,
            "decision_note": None,
            "refund_id": None,
            "refund_minor": 0,
            "requested_by": self.sim.actor,
            "requested_at": requested,
            "decided_at": None,
            "received_at": None,
            "refunded_at": None,
            "created_at": requested,
            "updated_at": requested,
        }
        return_lines = [
            {
                "id": self.sim.next_id("return_lines"),
                "return_id": return_id,
                "order_line_id": line.id,
                "sku": line.sku.sku,
                "quantity": quantity,
                "reason": reason.value,
                "note": None,
                "disposition": None,
                "warehouse_id": None,
                "refund_minor": 0,
            }
            for line, quantity in picked
        ]
        self.rows["return_requests"].append(request)
        self.rows["return_lines"].extend(return_lines)
        self.event(requested, "return_requested", data={"return_id": return_id})
        decided = requested + timedelta(hours=rng.uniform(2, 24))
        if not self.happened(decided):
            return
        request.update(decided_at=decided, updated_at=decided)
        if rng.random() < 0.1:
            request.update(status="rejected", decision_note="outside our return policy")
            self.event(
                decided,
                "return_rejected",
                reason="outside our return policy",
                data={"return_id": return_id},
            )
            return
        request["status"] = "approved"
        self.event(decided, "return_approved", data={"return_id": return_id})
        refund_at = decided + timedelta(hours=rng.uniform(1, 24))
        if not refund_only:
            received = decided + timedelta(days=rng.uniform(2, 7))
            if not self.happened(received):
                return
            self.receive(received, request, return_lines, picked, reason)
            refund_at = received + timedelta(hours=rng.uniform(1, 24))
        if not self.happened(refund_at):
            return
        amounts: dict[int, int] = {}
        for row, (line, quantity) in zip(return_lines, picked, strict=True):
            # The value of the returned units as returns work it out (the first return
            # of the order: no unit of the line refunded before), within what is left.
            value = units_value(line.total, line.quantity, 0, quantity)
            value = min(value, line.total - line.refunded)
            row["refund_minor"] = value
            if value:
                amounts[line.id] = value
        if not amounts:
            return
        refund_id, amount = self.refund(refund_at, amounts, f"return {return_id}", return_id)
        request.update(
            status="refunded",
            refund_id=refund_id,
            refund_minor=amount,
            refunded_at=refund_at,
            updated_at=refund_at,
        )
        self.event(
            refund_at, "return_refunded", data={"return_id": return_id, "refund_id": refund_id}
        )

    def receive(
        self,
        at: datetime,
        request: Row,
        return_lines: list[Row],
        picked: list[tuple[_Line, int]],
        reason: ReturnReason,
    ) -> None:
        keep_share = 0.35 if reason == ReturnReason.DAMAGED else 0.85
        for row, (line, quantity) in zip(return_lines, picked, strict=True):
            line.returned += quantity
            if self.rng.random() < keep_share:
                level = line.parts[0][0]
                row.update(disposition="restock", warehouse_id=level.warehouse_id)
                self.sim.book.schedule(at, "restock", level, quantity, f"return:{request['id']}")
            else:
                row["disposition"] = "write_off"
        request.update(status="received", received_at=at, updated_at=at)
        dispositions = {str(row["id"]): row["disposition"] for row in return_lines}
        self.event(
            at, "return_received", data={"return_id": request["id"], "dispositions": dispositions}
        )

    # --- the rows that sum it all up ---

    def write_reservations(self, paid: datetime | None, ended: datetime | None) -> None:
        shipped_at = self.shipped_from
        kept = self.happened(paid)
        for line in self.lines:
            for level, quantity in line.parts:
                if self.happened(ended):
                    assert ended is not None
                    status, closed = "released", ended
                    self.sim.book.schedule(ended, "release", level, quantity, self.number)
                elif level.warehouse_id in shipped_at:
                    status, closed = "consumed", shipped_at[level.warehouse_id]
                else:
                    status, closed = "active", None
                self.rows["reservations"].append(
                    {
                        "id": self.sim.next_id("reservations"),
                        "reference": self.number,
                        "sku": line.sku.sku,
                        "warehouse_id": level.warehouse_id,
                        "quantity": quantity,
                        "status": status,
                        "expires_at": None
                        if kept
                        else self.placed + PAYMENT_WINDOW + RESERVE_EXTRA,
                        "created_at": self.placed,
                        "closed_at": closed,
                    }
                )

    def write_order(self, paid: datetime | None) -> None:
        shopper, total = self.shopper, self.total
        self.events.sort(key=lambda item: (item[0], item[1]))
        self.rows["order_events"].extend(
            {"id": self.sim.next_id("order_events"), **row} for _, _, row in self.events
        )
        for number, line in enumerate(self.lines, start=1):
            self.rows["order_lines"].append(
                {
                    "id": line.id,
                    "order_id": self.id,
                    "line_number": number,
                    "sku": line.sku.sku,
                    "product_name": line.sku.name,
                    "quantity": line.quantity,
                    "unit_price_minor": line.sku.price_minor,
                    "unit_cost_minor": line.sku.cost_minor,
                    "discount_minor": line.discount,
                    "total_minor": line.total,
                    "shipped_quantity": line.shipped,
                    "returned_quantity": line.returned,
                    "refunded_minor": line.refunded,
                }
            )
        if self.tag:
            self.rows["order_tags"].append({"order_id": self.id, "tag": self.tag})
        refunded = sum(line.refunded for line in self.lines)
        captured = total if self.payment is not None else 0
        payment_status = "unpaid"
        if captured:
            payment_status = "paid"
            if refunded:
                payment_status = "refunded" if refunded == captured else "partially_refunded"
        closing = self.events[-1][0]
        priced = self.priced
        # As checkout stores it: the breakdown, and the shipping method (no rate: the
        # history had no shipping table, so no fee).
        pricing = {**priced.as_dict(), "shipping_method": SHIPPING_METHOD}
        self.rows["orders"].append(
            {
                "id": self.id,
                "number": self.number,
                "status": self.status,
                "payment_status": payment_status,
                "channel": shopper.channel,
                "customer_id": shopper.customer_id,
                "guest_email_encrypted": shopper.guest_email,
                "guest_email_hash": shopper.guest_email_hash,
                "guest_phone_encrypted": None,
                "guest_name_encrypted": shopper.guest_name,
                "ship_recipient_encrypted": shopper.recipient,
                "ship_line1_encrypted": shopper.line1,
                "ship_line2_encrypted": None,
                "ship_phone_encrypted": shopper.phone,
                "ship_city": shopper.city,
                "ship_region": shopper.region,
                "ship_postal_code": shopper.postal_code,
                "ship_country": "CN",
                "currency": self.sim.currency,
                "subtotal_minor": priced.subtotal_minor,
                "discount_minor": priced.discount_minor,
                "shipping_minor": priced.shipping_minor,
                "tax_minor": priced.tax_minor,
                "total_minor": total,
                "captured_minor": captured,
                "refunded_minor": refunded,
                "pricing": pricing,
                "allow_split": True,
                "risk_flags": risk_flags(
                    quantity=sum(line.quantity for line in self.lines),
                    total_minor=total,
                    exponent=2,
                    is_guest=shopper.customer_id is None,
                    ship_country="CN",
                    customer_country=None,
                ),
                "value_band": value_band(total, 2),
                "placed_at": self.placed,
                "payment_due_at": self.placed + PAYMENT_WINDOW,
                "paid_at": paid if captured else None,
                "ship_by": paid + SHIP_WITHIN if captured and paid else None,
                "deliver_by": paid + DELIVER_WITHIN if captured and paid else None,
                "shipped_at": self.order.get("shipped_at"),
                "delivered_at": self.order.get("delivered_at"),
                "completed_at": self.order.get("completed_at"),
                "cancelled_at": closing if self.status == "cancelled" else None,
                "closed_at": closing if self.status == "closed" else None,
                "created_at": self.placed,
                "updated_at": closing,
            }
        )
