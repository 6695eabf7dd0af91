"""Points: earning from orders, redemption at checkout, reversals, adjustments, reads.

Nothing here commits. Every change of a balance is a conditional UPDATE of the
account row (``balance >= points`` for debits), which also locks the row, and
only then are the lots read and drawn from, so concurrent redemptions, expiry
and reversals of one account queue up on that row and never overdraw it.

Checkout calls ``quote_redemption`` (no writes) while pricing and ``redeem`` in
the unit of work that places the order; both take no permission, like the other
functions the checkout calls across contexts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shopops.auth.permissions import Permission
from shopops.contexts.loyalty import ledger, repository, rules
from shopops.contexts.loyalty.commands import AdjustPoints
from shopops.contexts.loyalty.errors import MAX_POINTS, LoyaltyError
from shopops.contexts.loyalty.events import (
    PointsAdjusted,
    PointsEarned,
    PointsRedeemed,
    PointsRestored,
    PointsReversed,
)
from shopops.contexts.loyalty.models import (
    CreditOn,
    EntryKind,
    OrderCredit,
    PointsAccount,
    PointsEntry,
)
from shopops.contexts.loyalty.program import ProgramView, current_program, tier_specs
from shopops.kernel.errors import (
    Conflict,
    FieldErrorCollector,
    NotFound,
    Unprocessable,
)
from shopops.kernel.money import currency_exponent, normalize_currency
from shopops.uow import UnitOfWork


class InsufficientPoints(Conflict):
    def __init__(self, requested: int, balance: int) -> None:
        super().__init__(
            LoyaltyError.INSUFFICIENT_POINTS,
            f"the balance is {balance} points; {requested} were asked for",
            details={"requested": requested, "balance": balance},
        )


@dataclass(frozen=True)
class AccountView:
    customer_id: int
    balance: int
    value_minor: int  # what the balance is worth at checkout, in the program currency
    currency: str
    tier: rules.TierSpec | None
    tier_code: str | None  # as assigned, even if the ladder no longer has it
    tier_since: datetime | None
    spend_12m_minor: int
    tier_evaluated_at: datetime | None
    next_expiry_at: datetime | None
    next_expiry_points: int


@dataclass(frozen=True)
class Redemption:
    customer_id: int
    points: int
    value_minor: int
    currency: str
    balance: int
    order_reference: str
    entry_ids: tuple[int, ...]


# ---- earning ----


def earn_for_order(
    uow: UnitOfWork, order_id: int, *, trigger: CreditOn, earned_at: datetime
) -> OrderCredit | None:
    """Credit an order's points once, if ``trigger`` is the program's crediting moment.

    Spend is the order total net of what was already refunded; guests, cancelled
    orders and orders in another currency than the program's earn nothing.
    Campaigns running at ``earned_at`` apply (the largest one) and points
    expire ``expiry_months`` after it.
    """
    program = current_program(uow)
    if program.credit_on != trigger or repository.get_credit(uow.session, order_id):
        return None
    facts = repository.order_facts(uow.session, order_id)
    if facts is None:
        raise NotFound(LoyaltyError.ORDER_NOT_FOUND, f"order {order_id} does not exist")
    if facts.customer_id is None or facts.is_cancelled or facts.currency != program.currency:
        return None
    account = repository.ensure_account(uow.session, facts.customer_id, uow.now())
    multipliers: list[int] = []
    tier = next((t for t in tier_specs(uow) if t.code == account.tier_code), None)
    if tier is not None and tier.points_multiplier_percent != 100:
        multipliers.append(tier.points_multiplier_percent)
    campaign = rules.best_campaign_multiplier(
        repository.campaign_multipliers_at(uow.session, earned_at)
    )
    if campaign is not None:
        multipliers.append(campaign)
    basis = facts.total_minor - facts.refunded_minor
    earning = rules.earn_points(
        basis,
        exponent=currency_exponent(program.currency),
        points_per_unit=program.points_per_unit,
        unit_size=program.unit_size,
        multiplier_percents=multipliers,
    )
    lot: PointsEntry | None = None
    if earning.points > 0:
        lot = ledger.add_lot(
            uow,
            account.id,
            EntryKind.EARN,
            earning.points,
            expires_at=ledger.expiry(program, earned_at),
            source=f"order:{order_id}",
            order_id=order_id,
            order_reference=facts.number,
            details={
                "basis_minor": basis,
                "currency": facts.currency,
                "base_points": earning.base_points,
                "multipliers": list(earning.multipliers),
                "tier": tier.code if tier else None,
                "trigger": str(trigger),
            },
        )
    credit = OrderCredit(
        order_id=order_id,
        account_id=account.id,
        lot_id=lot.id if lot else None,
        currency=facts.currency,
        basis_minor=max(basis, 0),
        refunded_at_credit_minor=facts.refunded_minor,
        earned_points=earning.points,
        created_at=uow.now(),
        updated_at=uow.now(),
    )
    uow.session.add(credit)
    uow.session.flush()
    if lot is not None:
        uow.emit(
            PointsEarned(
                customer_id=facts.customer_id,
                points=earning.points,
                balance=repository.balance_of(uow.session, account.id),
                order_id=order_id,
                order_reference=facts.number,
                base_points=earning.base_points,
                multipliers=list(earning.multipliers),
                expires_at=lot.expires_at,
            )
        )
    return credit


# ---- redemption ----


def _check_redemption_input(
    field: str, points: int, minimum: int, order_total_minor: int, reference: str | None = None
) -> None:
    errors = FieldErrorCollector()
    if not minimum <= points <= MAX_POINTS:
        errors.add(field, LoyaltyError.INVALID_POINTS, f"{minimum}-{MAX_POINTS:,} points")
    if order_total_minor < 0:
        errors.add("order_total_minor", LoyaltyError.INVALID_AMOUNT, "must not be negative")
    if reference is not None and not 1 <= len(reference) <= 100:
        errors.add("order_reference", "validation.invalid", "1-100 characters")
    errors.raise_if_any()


def _same_currency(program: ProgramView, currency: str | None) -> bool:
    return currency is None or normalize_currency(currency) == program.currency


def quote_redemption(
    uow: UnitOfWork,
    customer_id: int,
    requested_points: int,
    order_total_minor: int,
    *,
    currency: str | None = None,
) -> tuple[int, int]:
    """(points, value in minor units) the customer can redeem on an order of this total.

    At most what was asked, the balance, and the program's cap (a share of the
    order total). Writes nothing; (0, 0) for an order in another currency.
    """
    _check_redemption_input("requested_points", requested_points, 0, order_total_minor)
    program = current_program(uow)
    if not _same_currency(program, currency):
        return 0, 0
    account = repository.get_account(uow.session, customer_id)
    balance = repository.balance_of(uow.session, account.id) if account else 0
    cap = rules.redemption_cap(
        order_total_minor, program.redemption_cap_percent, program.point_value_minor
    )
    points = rules.quote(requested_points, balance, cap)
    return points, points * program.point_value_minor


@dataclass(frozen=True)
class PlannedRedemption:
    """What checkout may redeem: ``points`` worth ``point_value_minor`` each."""

    points: int
    point_value_minor: int
    cap_points: int
    balance: int


def plan_redemption(
    uow: UnitOfWork,
    customer_id: int,
    requested_points: int,
    order_total_minor: int,
    *,
    currency: str | None = None,
) -> PlannedRedemption:
    """Checkout asks to spend ``requested_points`` on an order of this total (before points).

    Asking for more than the balance is ``loyalty.insufficient_points``; an order in
    another currency ``loyalty.currency_mismatch``. What is asked is then capped at the
    program's share of the order (``points`` may be fewer than asked, or 0). Writes
    nothing: ``redeem`` debits, in the unit of work that places the order.
    """
    _check_redemption_input("points_to_redeem", requested_points, 1, order_total_minor)
    program = current_program(uow)
    if not _same_currency(program, currency):
        raise Unprocessable(
            LoyaltyError.CURRENCY_MISMATCH,
            f"points are redeemed on {program.currency} orders only",
            details={"currency": program.currency},
        )
    account = repository.get_account(uow.session, customer_id)
    balance = repository.balance_of(uow.session, account.id) if account else 0
    if requested_points > balance:
        raise InsufficientPoints(requested_points, balance)
    cap = rules.redemption_cap(
        order_total_minor, program.redemption_cap_percent, program.point_value_minor
    )
    return PlannedRedemption(
        rules.quote(requested_points, balance, cap), program.point_value_minor, cap, balance
    )


def redeem(
    uow: UnitOfWork,
    customer_id: int,
    points: int,
    order_reference: str,
    order_total_minor: int,
    *,
    currency: str | None = None,
) -> Redemption:
    """Spend ``points`` on an order (pass the order number as ``order_reference``).

    Refused with ``loyalty.insufficient_points`` (409) when the balance does not
    cover it and ``loyalty.redemption_cap_exceeded`` (422) above the cap; either
    way nothing changes. Oldest lots are drawn first.
    """
    reference = order_reference.strip()
    _check_redemption_input("points", points, 1, order_total_minor, reference)
    program = current_program(uow)
    if not _same_currency(program, currency):
        raise Unprocessable(
            LoyaltyError.CURRENCY_MISMATCH,
            f"points are redeemed on {program.currency} orders only",
            details={"currency": program.currency},
        )
    cap = rules.redemption_cap(
        order_total_minor, program.redemption_cap_percent, program.point_value_minor
    )
    if points > cap:
        raise Unprocessable(
            LoyaltyError.REDEMPTION_CAP_EXCEEDED,
            f"at most {cap} points can be redeemed on this order",
            details={"requested": points, "cap_points": cap},
        )
    account = repository.get_account(uow.session, customer_id)
    if account is None or not repository.debit(uow.session, account.id, points, uow.now()):
        balance = repository.balance_of(uow.session, account.id) if account else 0
        raise InsufficientPoints(points, balance)
    draws = rules.consume(ledger.open_lots(uow, account.id), points)
    entries = ledger.draw(
        uow, account.id, draws, EntryKind.REDEEM, source="checkout", order_reference=reference
    )
    balance = repository.balance_of(uow.session, account.id)
    value = points * program.point_value_minor
    uow.emit(PointsRedeemed(customer_id, points, value, program.currency, balance, reference))
    return Redemption(
        customer_id,
        points,
        value,
        program.currency,
        balance,
        reference,
        tuple(e.id for e in entries),
    )


# ---- reversal ----


def reverse_for_refund(uow: UnitOfWork, order_id: int, *, refund_id: int | None = None) -> int:
    """Take back the share of an order's earned points that its refunds now cover, and
    give back the same share of the points redeemed on it.

    Reads the order's refunded total (so repeated or out-of-order refund events
    converge on the same result); a cancelled order gives back everything.
    Returns the earned points taken from the balance.
    """
    facts = repository.order_facts(uow.session, order_id)
    if facts is None:
        return 0
    if facts.customer_id is not None:  # redeemed points come back in the same proportion
        share = None if facts.is_cancelled else (facts.refunded_minor, facts.total_minor)
        _restore_redemptions(uow, facts.customer_id, facts.number, share)
    credit = repository.get_credit(uow.session, order_id)
    if credit is None or credit.earned_points == 0:
        return 0
    if facts.is_cancelled:
        target = credit.earned_points
    else:
        refunded = facts.refunded_minor - credit.refunded_at_credit_minor
        target = rules.reversal_target(credit.earned_points, credit.basis_minor, refunded)
    cause = f"refund:{refund_id}" if refund_id is not None else "refund"
    return _reverse(uow, credit, target, cause)


def reverse_for_cancellation(uow: UnitOfWork, order_id: int) -> tuple[int, int]:
    """A cancelled order gives back its earned points and gets back the points it redeemed.

    Returns (points reversed, points restored).
    """
    facts = repository.order_facts(uow.session, order_id)
    if facts is None or facts.customer_id is None:
        return 0, 0
    credit = repository.get_credit(uow.session, order_id)
    reversed_points = 0
    if credit is not None and credit.earned_points:
        reversed_points = _reverse(uow, credit, credit.earned_points, "cancellation")
    return reversed_points, _restore_redemptions(uow, facts.customer_id, facts.number)


def _reverse(uow: UnitOfWork, credit: OrderCredit, target: int, cause: str) -> int:
    if target <= credit.reversed_points:
        return 0
    account = repository.lock_account(uow.session, credit.account_id)
    locked = repository.get_credit(uow.session, credit.order_id, for_update=True)
    assert locked is not None
    points = target - locked.reversed_points
    if points <= 0:
        return 0
    plan = rules.plan_reversal(ledger.open_lots(uow, account.id), locked.lot_id, points)
    taken = points - plan.forgiven
    ledger.debit_all(uow, account.id, taken)
    ledger.draw(
        uow, account.id, plan.draws, EntryKind.REVERSE, source=cause, order_id=locked.order_id
    )
    locked.reversed_points += points
    locked.forgiven_points += plan.forgiven
    locked.updated_at = uow.now()
    uow.emit(
        PointsReversed(
            customer_id=account.customer_id,
            points=taken,
            forgiven=plan.forgiven,
            balance=repository.balance_of(uow.session, account.id),
            order_id=locked.order_id,
            cause=cause,
        )
    )
    return taken


def _restore_redemptions(
    uow: UnitOfWork,
    customer_id: int,
    order_reference: str,
    share: tuple[int, int] | None = None,
) -> int:
    """Give back redeemed points as new lots expiring when the lots they came from do.

    ``share`` is (refunded, total) of the order's money: that share of the redeemed
    points, rounded down, is due back (all of them when None: cancelled or closed).
    Only what is due beyond what earlier restorations gave back is added, so repeated
    events change nothing and partial refunds add up to one refund of their sum.
    """
    account = repository.get_account(uow.session, customer_id)
    if account is None:
        return 0
    redeemed = repository.redemptions_for(uow.session, account.id, order_reference)
    if not redeemed:
        return 0
    spent = sum(-entry.points for entry in redeemed)
    due = spent if share is None else rules.restoration_target(spent, *share)
    repository.lock_account(uow.session, account.id)
    done = repository.restored_by_redemption(uow.session, account.id, order_reference)
    left = due - sum(done.values())
    restored = 0
    for entry in redeemed:
        take = min(left - restored, -entry.points - done.get(entry.id, 0))
        if take <= 0 or entry.lot_id is None:
            continue
        origin = repository.get_entry(uow.session, entry.lot_id)
        ledger.add_lot(
            uow,
            account.id,
            EntryKind.REVERSE,
            take,
            expires_at=origin.expires_at if origin else None,
            source=f"restore:{entry.id}",
            order_reference=order_reference,
            details={"restores": entry.id},
        )
        restored += take
    if restored:
        balance = repository.balance_of(uow.session, account.id)
        uow.emit(PointsRestored(customer_id, restored, balance, order_reference))
    return restored


# ---- manual adjustments ----


def adjust_points(uow: UnitOfWork, command: AdjustPoints) -> AccountView:
    """Credit (a new lot) or debit (oldest lots first) by hand; audited with its reason."""
    uow.require(Permission.LOYALTY_MANAGE)
    reason = command.reason.strip()
    errors = FieldErrorCollector()
    if command.points == 0 or abs(command.points) > MAX_POINTS:
        errors.add("points", LoyaltyError.INVALID_POINTS, f"non-zero, at most {MAX_POINTS:,}")
    if not reason or len(reason) > 200:
        errors.add("reason", LoyaltyError.REASON_REQUIRED, "say why, in 1-200 characters")
    errors.raise_if_any()
    _require_customer(uow, command.customer_id)
    if command.points > 0:
        account = repository.ensure_account(uow.session, command.customer_id, uow.now())
        before = repository.balance_of(uow.session, account.id)
        program = current_program(uow)
        ledger.add_lot(
            uow,
            account.id,
            EntryKind.ADJUST,
            command.points,
            expires_at=ledger.expiry(program, uow.now()),
            source="adjustment",
            reason=reason,
        )
    else:
        points = -command.points
        found = repository.get_account(uow.session, command.customer_id)
        before = repository.balance_of(uow.session, found.id) if found else 0
        if found is None or not repository.debit(uow.session, found.id, points, uow.now()):
            raise InsufficientPoints(points, before)
        account = found
        draws = rules.consume(ledger.open_lots(uow, account.id), points)
        ledger.draw(uow, account.id, draws, EntryKind.ADJUST, source="adjustment", reason=reason)
    balance = repository.balance_of(uow.session, account.id)
    uow.audit(
        "loyalty.points_adjusted",
        "loyalty_account",
        account.id,
        before={"balance": before},
        after={"balance": balance, "points": command.points, "reason": reason},
    )
    uow.emit(PointsAdjusted(command.customer_id, command.points, balance, reason))
    return _view(uow, command.customer_id)


# ---- reads ----


def _require_customer(uow: UnitOfWork, customer_id: int) -> None:
    if not repository.customer_exists(uow.session, customer_id):
        raise NotFound(LoyaltyError.CUSTOMER_NOT_FOUND, f"customer {customer_id} does not exist")


def _view(uow: UnitOfWork, customer_id: int) -> AccountView:
    program = current_program(uow)
    account: PointsAccount | None = repository.get_account(uow.session, customer_id)
    if account is None:
        return AccountView(customer_id, 0, 0, program.currency, None, None, None, 0, None, None, 0)
    uow.session.refresh(account)
    lots = rules.consumption_order(ledger.open_lots(uow, account.id))
    next_at = next((lot.expires_at for lot in lots if lot.expires_at), None)
    next_points = sum(lot.remaining for lot in lots if next_at and lot.expires_at == next_at)
    tier = next((t for t in tier_specs(uow) if t.code == account.tier_code), None)
    return AccountView(
        customer_id=customer_id,
        balance=account.balance,
        value_minor=account.balance * program.point_value_minor,
        currency=program.currency,
        tier=tier,
        tier_code=account.tier_code,
        tier_since=account.tier_since,
        spend_12m_minor=account.spend_12m_minor,
        tier_evaluated_at=account.tier_evaluated_at,
        next_expiry_at=next_at,
        next_expiry_points=next_points,
    )


def get_account(uow: UnitOfWork, customer_id: int) -> AccountView:
    """The customer's balance, tier and next expiry (a zero account if none exists yet)."""
    uow.require(Permission.CUSTOMERS_READ)
    _require_customer(uow, customer_id)
    return _view(uow, customer_id)


def list_ledger(
    uow: UnitOfWork, customer_id: int, *, before_id: int | None = None, limit: int = 50
) -> Sequence[PointsEntry]:
    """The customer's ledger, newest first; page on with the last row's id as ``before_id``."""
    uow.require(Permission.CUSTOMERS_READ)
    _require_customer(uow, customer_id)
    account = repository.get_account(uow.session, customer_id)
    if account is None:
        return []
    return repository.ledger_page(uow.session, account.id, before_id=before_id, limit=limit)


def tier_benefits(uow: UnitOfWork, customer_id: int) -> rules.TierSpec | None:
    """The customer's tier with its benefits, for pricing (discount, free shipping)."""
    account = repository.get_account(uow.session, customer_id)
    if account is None or account.tier_code is None:
        return None
    return next((t for t in tier_specs(uow) if t.code == account.tier_code), None)
