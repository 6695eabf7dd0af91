"""The scheduled job that settles expired groups and refunds the failed ones' members."""

from __future__ import annotations

from dataclasses import dataclass

from shopops.adapters.payments import PaymentGateway
from shopops.contexts import orders
from shopops.contexts.group_buying import repository
from shopops.contexts.group_buying.rules import GroupStatus
from shopops.contexts.group_buying.service import settle_expired


@dataclass(frozen=True)
class ExpiryRun:
    succeeded: int
    failed: int
    refunds: int  # refunds sent to the gateway (a failed send is retried by its own job)


def expire_groups(
    uow_factory: orders.Transactions, gateway: PaymentGateway, *, limit: int = 50
) -> ExpiryRun:
    """Every open group past its expiry: one transaction per group settles it (success if
    every place was paid for in time; otherwise every member's order is cancelled, its
    stock released and a refund of what it paid reserved), then the refunds go to the
    gateway outside any transaction. Refunds the gateway does not take now stay
    ``requested`` for ``payments.retry_stuck_refunds``."""
    with uow_factory() as uow:
        due = repository.expired_open_groups(uow.session, uow.now(), limit)
    succeeded = failed = sent = 0
    for group_id in due:
        with uow_factory() as uow:
            outcome, refunds = settle_expired(uow, group_id)
            uow.commit()
        succeeded += outcome == GroupStatus.SUCCEEDED
        failed += outcome == GroupStatus.FAILED
        for refund_id in refunds:
            orders.complete_refund(uow_factory, gateway, refund_id)
            sent += 1
    return ExpiryRun(succeeded, failed, sent)
