"""Hand-built visits for the funnel tests (see test_funnel.py for the numbers)."""

from __future__ import annotations

from typing import Any

from shopops.analytics import events as tracking
from shopops.bootstrap import Container
from shopops.kernel.events import Actor

_numbers = iter(range(1, 1_000_000))


def event(
    visitor: str, name: str, when: str, channel: str = "web", **properties: Any
) -> dict[str, Any]:
    context: dict[str, Any] = {"app": {"name": "shop"}} if channel == "app" else {}
    return {
        "type": "track",
        "event": name,
        "messageId": f"m-{next(_numbers)}",
        "anonymousId": visitor,
        "timestamp": f"2026-03-01T{when}:00Z" if len(when) == 5 else when,
        "properties": properties,
        "context": context,
    }


A = {"product_id": "P-A", "sku": "A", "price": 10}
B = {"product_id": "P-B", "sku": "B", "price": 50}

VISITS = [
    event("v1", "Page Viewed", "01:00"),
    event("v1", "Product List Viewed", "01:05", products=[A, B]),
    event("v1", "Product Clicked", "01:06", **A),
    event("v1", "Product Viewed", "01:07", **A),
    event("v1", "Product Added", "01:10", **A),
    event("v1", "Checkout Started", "01:20", products=[A]),
    event(
        "v1",
        "Order Completed",
        "01:25",
        order_id="SO-11",
        revenue=68,
        products=[{**A, "quantity": 2}, B],
    ),
    event("v1", "Product Viewed", "03:00", **B),
    event("v2", "Product Viewed", "05:00", **B),
    event("v2", "Product Added", "05:10", **B),
    event("v2", "Checkout Started", "05:15", products=[B]),
    event("v2", "Order Completed", "05:20", order_id="SO-13", products=[{**B, "quantity": 2}]),
    event("v3", "Product Viewed", "18:00", channel="app", **A),
    event("v3", "Order Completed", "18:05", channel="app", order_id="SO-12", products=[A]),
]


def track_visits(container: Container) -> None:
    with container.uow(Actor.system("test")) as uow:
        result = tracking.track_events(uow, VISITS, default_currency="USD")
        uow.commit()
    assert result.count("accepted") == len(VISITS), result.outcomes
