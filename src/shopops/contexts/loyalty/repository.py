"""Every query of the loyalty context, including locking reads and conditional updates.

Order facts (customer, currency, totals, refunds, status, paid time) are read
through a read-only SQLAlchemy Core reference to the ``orders`` table: loyalty
sits below orders and must not import it, and reading the current row (rather
than trusting an event's payload alone) keeps handlers right when events arrive
out of order. The ``customers`` table is read the same way, for existence only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, column, delete, func, select, table, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shopops.contexts.loyalty.models import (
    PROGRAM_ID,
    BonusCampaign,
    EntryKind,
    LoyaltyProgram,
    OrderCredit,
    PointsAccount,
    PointsEntry,
    TierDefinition,
)
from shopops.db.types import UTCDateTime

# Read-only views of other contexts' tables (never written here).
_orders = table(
    "orders",
    column("id", Integer),
    column("number", String),
    column("customer_id", Integer),
    column("status", String),
    column("currency", String),
    column("total_minor", BigInteger),
    column("refunded_minor", BigInteger),
    column("paid_at", UTCDateTime()),
)
_customers = table("customers", column("id", Integer))

# Order statuses whose spend does not count (a cancelled order's refund may still be pending).
_NOT_SPENT = ("cancelled", "closed")


@dataclass(frozen=True)
class OrderFacts:
    order_id: int
    number: str
    customer_id: int | None
    status: str
    currency: str
    total_minor: int
    refunded_minor: int

    @property
    def is_cancelled(self) -> bool:
        return self.status in _NOT_SPENT


def order_facts(session: Session, order_id: int) -> OrderFacts | None:
    row = session.execute(
        select(
            _orders.c.id,
            _orders.c.number,
            _orders.c.customer_id,
            _orders.c.status,
            _orders.c.currency,
            _orders.c.total_minor,
            _orders.c.refunded_minor,
        ).where(_orders.c.id == order_id)
    ).first()
    return None if row is None else OrderFacts(*row)


def spend_by_customer(
    session: Session, currency: str, since: datetime, until: datetime
) -> dict[int, int]:
    """Paid spend net of refunds per customer, for orders paid in ``(since, until]``."""
    spend = func.sum(_orders.c.total_minor - _orders.c.refunded_minor)
    rows = session.execute(
        select(_orders.c.customer_id, spend)
        .where(
            _orders.c.customer_id.is_not(None),
            _orders.c.currency == currency,
            _orders.c.paid_at > since,
            _orders.c.paid_at <= until,
            _orders.c.status.not_in(_NOT_SPENT),
        )
        .group_by(_orders.c.customer_id)
    )
    return {int(customer_id): max(int(total or 0), 0) for customer_id, total in rows}


def customer_exists(session: Session, customer_id: int) -> bool:
    found = session.scalar(select(_customers.c.id).where(_customers.c.id == customer_id))
    return found is not None


# ---- program, tiers, campaigns ----


def get_program(session: Session) -> LoyaltyProgram | None:
    return session.get(LoyaltyProgram, PROGRAM_ID)


def program_for_update(session: Session, now: datetime) -> LoyaltyProgram:
    """The settings row, locked; created with the defaults first if missing (race-safe)."""
    _insert_missing(
        session, LoyaltyProgram, {"id": PROGRAM_ID, "created_at": now, "updated_at": now}, "id"
    )
    return session.scalars(
        select(LoyaltyProgram)
        .where(LoyaltyProgram.id == PROGRAM_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _insert_missing(session: Session, model: Any, values: dict[str, Any], key: str) -> None:
    """INSERT ... ON CONFLICT (key) DO NOTHING: a concurrent creator wins quietly."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=[key]))


def list_tiers(session: Session) -> Sequence[TierDefinition]:
    return session.scalars(
        select(TierDefinition).order_by(TierDefinition.min_spend_minor, TierDefinition.id)
    ).all()


def delete_tiers(session: Session) -> None:
    session.execute(delete(TierDefinition))


def campaign_multipliers_at(session: Session, moment: datetime) -> list[int]:
    return list(
        session.scalars(
            select(BonusCampaign.multiplier_percent).where(
                BonusCampaign.is_active.is_(True),
                BonusCampaign.starts_at <= moment,
                BonusCampaign.ends_at > moment,
            )
        )
    )


def get_campaign(session: Session, campaign_id: int) -> BonusCampaign | None:
    return session.get(BonusCampaign, campaign_id)


def list_campaigns(
    session: Session, *, active_only: bool, after_id: int | None, limit: int
) -> Sequence[BonusCampaign]:
    stmt = select(BonusCampaign).order_by(BonusCampaign.id).limit(limit)
    if active_only:
        stmt = stmt.where(BonusCampaign.is_active.is_(True))
    if after_id is not None:
        stmt = stmt.where(BonusCampaign.id > after_id)
    return session.scalars(stmt).all()


# ---- accounts ----


def get_account(session: Session, customer_id: int) -> PointsAccount | None:
    return session.scalars(
        select(PointsAccount).where(PointsAccount.customer_id == customer_id)
    ).one_or_none()


def accounts_for(session: Session, customer_ids: Iterable[int]) -> dict[int, PointsAccount]:
    ids = sorted(set(customer_ids))
    found: dict[int, PointsAccount] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for account in session.scalars(
            select(PointsAccount).where(PointsAccount.customer_id.in_(chunk))
        ):
            found[account.customer_id] = account
    return found


def tiered_customer_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(PointsAccount.customer_id)
            .where(PointsAccount.tier_code.is_not(None))
            .order_by(PointsAccount.customer_id)
        )
    )


def ensure_account(session: Session, customer_id: int, now: datetime) -> PointsAccount:
    """The customer's account, created if missing (safe against a concurrent creation)."""
    account = get_account(session, customer_id)
    if account is not None:
        return account
    values = {"customer_id": customer_id, "balance": 0, "spend_12m_minor": 0}
    _insert_missing(
        session, PointsAccount, values | {"created_at": now, "updated_at": now}, "customer_id"
    )
    created = get_account(session, customer_id)
    assert created is not None
    return created


def lock_account(session: Session, account_id: int) -> PointsAccount:
    """Locks the account row (PostgreSQL; SQLite already serialises writers) and reloads it."""
    return session.scalars(
        select(PointsAccount)
        .where(PointsAccount.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def balance_of(session: Session, account_id: int) -> int:
    balance = session.scalar(select(PointsAccount.balance).where(PointsAccount.id == account_id))
    return int(balance or 0)


def debit(session: Session, account_id: int, points: int, now: datetime) -> bool:
    """``balance -= points`` only if the balance covers it; False (nothing changed) otherwise."""
    result = session.execute(
        update(PointsAccount)
        .where(PointsAccount.id == account_id, PointsAccount.balance >= points)
        .values(balance=PointsAccount.balance - points, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def credit(session: Session, account_id: int, points: int, now: datetime) -> None:
    session.execute(
        update(PointsAccount)
        .where(PointsAccount.id == account_id)
        .values(balance=PointsAccount.balance + points, updated_at=now)
        .execution_options(synchronize_session=False)
    )


# ---- ledger ----


def open_lots(session: Session, account_id: int) -> Sequence[PointsEntry]:
    return session.scalars(
        select(PointsEntry)
        .where(PointsEntry.account_id == account_id, PointsEntry.remaining > 0)
        .order_by(PointsEntry.id)
        .execution_options(populate_existing=True)
    ).all()


def draw_from_lot(session: Session, lot_id: int, points: int) -> bool:
    result = session.execute(
        update(PointsEntry)
        .where(PointsEntry.id == lot_id, PointsEntry.remaining >= points)
        .values(remaining=PointsEntry.remaining - points)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def get_entry(session: Session, entry_id: int) -> PointsEntry | None:
    return session.get(PointsEntry, entry_id)


def accounts_with_expired_lots(session: Session, now: datetime, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(PointsEntry.account_id)
            .where(PointsEntry.expires_at <= now, PointsEntry.remaining > 0)
            .group_by(PointsEntry.account_id)
            .order_by(PointsEntry.account_id)
            .limit(limit)
        )
    )


def ledger_page(
    session: Session, account_id: int, *, before_id: int | None, limit: int
) -> Sequence[PointsEntry]:
    """Newest first."""
    stmt = (
        select(PointsEntry)
        .where(PointsEntry.account_id == account_id)
        .order_by(PointsEntry.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(PointsEntry.id < before_id)
    return session.scalars(stmt).all()


def redemptions_for(session: Session, account_id: int, order_reference: str) -> list[PointsEntry]:
    return list(
        session.scalars(
            select(PointsEntry)
            .where(
                PointsEntry.account_id == account_id,
                PointsEntry.kind == EntryKind.REDEEM,
                PointsEntry.order_reference == order_reference,
            )
            .order_by(PointsEntry.id)
        )
    )


def restored_by_redemption(
    session: Session, account_id: int, order_reference: str
) -> dict[int, int]:
    """Points given back so far per redemption row of an order (``restore:<row id>`` lots)."""
    rows = session.execute(
        select(PointsEntry.source, func.sum(PointsEntry.points))
        .where(
            PointsEntry.account_id == account_id,
            PointsEntry.kind == EntryKind.REVERSE,
            PointsEntry.order_reference == order_reference,
            PointsEntry.source.like("restore:%"),
        )
        .group_by(PointsEntry.source)
    )
    return {int(str(source).removeprefix("restore:")): int(points or 0) for source, points in rows}


def ledger_totals(session: Session, account_id: int) -> tuple[int, int]:
    """(sum of points, sum of lots' remaining): both equal the balance when the books agree."""
    points, remaining = session.execute(
        select(func.sum(PointsEntry.points), func.sum(PointsEntry.remaining)).where(
            PointsEntry.account_id == account_id
        )
    ).one()
    return int(points or 0), int(remaining or 0)


# ---- order credits ----


def get_credit(session: Session, order_id: int, *, for_update: bool = False) -> OrderCredit | None:
    stmt = select(OrderCredit).where(OrderCredit.order_id == order_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()
