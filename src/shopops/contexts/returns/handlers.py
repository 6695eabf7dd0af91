"""Reactions to events of lower contexts (run by the outbox relay after the commit).

The relay's types come from ``shopops.uow``: contexts do not import the relay.
"""

from __future__ import annotations

from shopops.contexts.returns.service import mark_refunded
from shopops.uow import DeliveredEvent as CommittedEvent
from shopops.uow import HandlerRegistrar, UnitOfWork


def on_refund_issued(uow: UnitOfWork, event: CommittedEvent) -> None:
    """A return's refund settled, maybe later than its flow (retry job, notification)."""
    return_id = event.payload.get("return_id")
    if return_id is None:
        return
    mark_refunded(
        uow,
        int(return_id),
        refund_id=int(event.payload["refund_id"]),
        amount_minor=int(event.payload["amount_minor"]),
    )


def register_handlers(registry: HandlerRegistrar) -> None:
    registry.register("returns.mark_refunded", ["refund.issued"], on_refund_issued)
