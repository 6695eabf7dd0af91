from __future__ import annotations

from dataclasses import dataclass

from shopops.kernel.events import Event


@dataclass(frozen=True)
class StockLow(Event):
    event_type = "stock.low"
    aggregate = "sku"
    id_field = "sku"

    sku: str
    available: int
    threshold: int


@dataclass(frozen=True)
class StockOut(Event):
    event_type = "stock.out"
    aggregate = "sku"
    id_field = "sku"

    sku: str


@dataclass(frozen=True)
class StockMoved(Event):
    event_type = "stock.moved"
    aggregate = "sku"
    id_field = "sku"

    sku: str
    warehouse_id: int
    kind: str
    quantity: int
    on_hand: int
    reference: str | None


@dataclass(frozen=True)
class ReservationExpired(Event):
    event_type = "reservation.expired"
    aggregate = "reservation"
    id_field = "reference"

    reference: str
    sku: str
    warehouse_id: int
    quantity: int
