"""Events of the loyalty context. They carry ids and numbers, never personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from shopops.kernel.events import Event


@dataclass(frozen=True)
class PointsEarned(Event):
    event_type = "points.earned"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    points: int
    balance: int
    order_id: int
    order_reference: str | None
    base_points: int
    multipliers: list[int]
    expires_at: datetime | None


@dataclass(frozen=True)
class PointsRedeemed(Event):
    event_type = "points.redeemed"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    points: int
    value_minor: int
    currency: str
    balance: int
    order_reference: str


@dataclass(frozen=True)
class PointsExpired(Event):
    event_type = "points.expired"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    points: int
    balance: int
    lot_ids: list[int]


@dataclass(frozen=True)
class PointsReversed(Event):
    """Earned points taken back after a refund or cancellation (``forgiven``: already spent)."""

    event_type = "points.reversed"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    points: int
    forgiven: int
    balance: int
    order_id: int
    cause: str  # "refund:<id>" | "cancellation"


@dataclass(frozen=True)
class PointsRestored(Event):
    """Points redeemed on an order that was then cancelled, given back."""

    event_type = "points.restored"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    points: int
    balance: int
    order_reference: str


@dataclass(frozen=True)
class PointsAdjusted(Event):
    event_type = "points.adjusted"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    points: int
    balance: int
    reason: str


@dataclass(frozen=True)
class TierChanged(Event):
    """A customer's tier moved; ``direction`` says which way (see the two subclasses)."""

    event_type = "tier.changed"
    aggregate = "customer"
    id_field = "customer_id"
    direction: ClassVar[str] = "change"

    customer_id: int
    from_tier: str | None
    to_tier: str | None
    spend_minor: int
    currency: str

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "direction": self.direction}


@dataclass(frozen=True)
class TierUpgraded(TierChanged):
    direction: ClassVar[str] = "upgrade"


@dataclass(frozen=True)
class TierDowngraded(TierChanged):
    direction: ClassVar[str] = "downgrade"
