"""Pure order rules: the state machine, order numbers, value bands."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PROCESSING = "processing"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    CLOSED = "closed"


S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED, S.CLOSED}),
    S.PAID: frozenset({S.PROCESSING, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PROCESSING: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.CLOSED: frozenset(),
}

# Payment statuses of a two-step order (a presale): deposit captured, balance due later;
# balance not paid in time, deposit kept.
DEPOSIT_PAID = "deposit_paid"
FORFEITED = "forfeited"

TERMINAL = frozenset({S.COMPLETED, S.CANCELLED, S.CLOSED})
OPEN_FOR_STOCK = frozenset({S.PENDING_PAYMENT, S.PAID, S.PROCESSING, S.PARTIALLY_SHIPPED})


def can_transition(current: str, target: str) -> bool:
    return OrderStatus(target) in TRANSITIONS[OrderStatus(current)]


# Crockford-like alphabet: no I, L, O, U, 0/1 confusion.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


# 30^8 ≈ 6.6e11 numbers a day: 10,000 orders in a day collide with a chance of ~0.008 %
# (six characters gave ~7 %, and a collision costs checkout a retried batch).
_SUFFIX_LENGTH = 8
_SUFFIXES = len(_ALPHABET) ** _SUFFIX_LENGTH


def new_order_number(placed_at: datetime) -> str:
    """``SO-YYMMDD-XXXXXXXX``: readable on the phone, unguessable, date-sortable."""
    # One draw from the OS generator, written in the alphabet's base (uniform, like eight
    # ``secrets.choice`` calls, at a fraction of the cost: checkout numbers orders in bulk).
    value = secrets.randbelow(_SUFFIXES)
    suffix = []
    for _ in range(_SUFFIX_LENGTH):
        value, digit = divmod(value, len(_ALPHABET))
        suffix.append(_ALPHABET[digit])
    return f"SO-{placed_at:%y%m%d}-{''.join(suffix)}"


def value_band(total_minor: int, exponent: int) -> str:
    """Coarse size class of an order for filtering: low / medium / high / vip."""
    major = total_minor / (10**exponent)
    if major < 50:
        return "low"
    if major < 200:
        return "medium"
    if major < 1000:
        return "high"
    return "vip"


def risk_flags(
    *,
    quantity: int,
    total_minor: int,
    exponent: int,
    is_guest: bool,
    ship_country: str,
    customer_country: str | None,
) -> list[str]:
    """Simple, explainable risk signals for staff review."""
    flags = []
    if quantity >= 50:
        flags.append("bulk_quantity")
    if total_minor / (10**exponent) >= 5000:
        flags.append("high_value")
    if is_guest and total_minor / (10**exponent) >= 1000:
        flags.append("guest_high_value")
    if customer_country and ship_country != customer_country:
        flags.append("ships_abroad")
    return flags
