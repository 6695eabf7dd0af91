"""Periodic loyalty jobs: expiring points lot by lot, and recalculating tiers.

Both run as the system from the scheduler (see ``bootstrap.SCHEDULED_JOBS``) and
may also be started by staff (API, CLI), which needs ``loyalty.manage``.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopops.auth.permissions import Permission
from shopops.contexts import customers
from shopops.contexts.loyalty import ledger, repository, rules
from shopops.contexts.loyalty.events import PointsExpired, TierDowngraded, TierUpgraded
from shopops.contexts.loyalty.models import EntryKind, PointsAccount
from shopops.contexts.loyalty.program import current_program, tier_specs
from shopops.uow import UnitOfWork


@dataclass(frozen=True)
class ExpiryRun:
    accounts: int
    points: int


def expire_due(uow: UnitOfWork, *, limit: int = 500) -> ExpiryRun:
    """Expire every point left in lots whose expiry has passed, oldest lot first.

    Up to ``limit`` accounts per run; the next run picks up the rest.
    """
    uow.require(Permission.LOYALTY_MANAGE)
    now = uow.now()
    accounts = points = 0
    for account_id in repository.accounts_with_expired_lots(uow.session, now, limit):
        account = repository.lock_account(uow.session, account_id)
        draws = rules.expired(ledger.open_lots(uow, account_id), now)
        total = sum(draw.points for draw in draws)
        if not total:
            continue
        ledger.debit_all(uow, account_id, total)
        ledger.draw(uow, account_id, draws, EntryKind.EXPIRE, source="expiry")
        uow.emit(
            PointsExpired(
                customer_id=account.customer_id,
                points=total,
                balance=repository.balance_of(uow.session, account_id),
                lot_ids=[draw.lot_id for draw in draws],
            )
        )
        accounts += 1
        points += total
    return ExpiryRun(accounts, points)


@dataclass(frozen=True)
class TierRecalculation:
    evaluated: int
    upgraded: int
    downgraded: int


def recalculate_tiers(uow: UnitOfWork) -> TierRecalculation:
    """Give every customer the tier their rolling 12-month spend reaches.

    Spend is paid orders in the program currency, net of refunds, paid in the 12
    months up to now. Customers with such spend or a current tier are evaluated;
    each change is mirrored to ``customers.tier`` and announced as ``tier.changed``
    (``TierUpgraded`` or ``TierDowngraded``).
    """
    uow.require(Permission.LOYALTY_MANAGE)
    now = uow.now()
    program = current_program(uow)
    ladder = tier_specs(uow)
    since = rules.add_months(now, -rules.TIER_WINDOW_MONTHS)
    spend = repository.spend_by_customer(uow.session, program.currency, since, now)
    customer_ids = sorted(set(spend) | set(repository.tiered_customer_ids(uow.session)))
    accounts = repository.accounts_for(uow.session, customer_ids)
    upgraded = downgraded = 0
    for customer_id in customer_ids:
        amount = spend.get(customer_id, 0)
        reached = rules.tier_for_spend(ladder, amount)
        new_code = reached.code if reached else None
        account: PointsAccount | None = accounts.get(customer_id)
        if account is None:
            if new_code is None:
                continue
            account = repository.ensure_account(uow.session, customer_id, now)
        old_code = account.tier_code
        account.spend_12m_minor = amount
        account.tier_evaluated_at = now
        change = rules.direction(ladder, old_code, new_code)
        if change is None:
            continue
        account.tier_code, account.tier_since = new_code, now
        customers.set_tier(uow, customer_id, new_code)
        event = TierUpgraded if change == "upgrade" else TierDowngraded
        uow.emit(event(customer_id, old_code, new_code, amount, program.currency))
        upgraded += change == "upgrade"
        downgraded += change == "downgrade"
    uow.session.flush()
    return TierRecalculation(len(customer_ids), upgraded, downgraded)
