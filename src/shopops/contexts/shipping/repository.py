"""Every query of the shipping context."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shopops.contexts.shipping.models import ShippingMethod, ShippingRate
from shopops.contexts.shipping.rules import Method, Rate, RateTable


def rate_of(row: ShippingRate) -> Rate:
    return Rate(
        id=row.id,
        country=row.country,
        region=row.region or None,
        currency=row.currency,
        fee_minor=row.fee_minor,
        free_over_minor=row.free_over_minor,
    )


def method_of(row: ShippingMethod, rates: Sequence[ShippingRate]) -> Method:
    return Method(
        id=row.id,
        code=row.code,
        name=row.name,
        is_active=row.is_active,
        sort_order=row.sort_order,
        rates=tuple(rate_of(r) for r in rates),
    )


def load_table(session: Session) -> RateTable:
    """Every method with its rates, in one round trip (methods in sort order, then code;
    rates by id)."""
    m, r = ShippingMethod, ShippingRate
    rows = session.execute(
        select(
            m.id,
            m.code,
            m.name,
            m.is_active,
            m.sort_order,
            r.id,
            r.country,
            r.region,
            r.currency,
            r.fee_minor,
            r.free_over_minor,
        )
        .outerjoin(r, r.method_id == m.id)
        .order_by(m.sort_order, m.code, r.id)
    ).all()
    methods: list[Method] = []
    rates: dict[int, list[Rate]] = {}
    heads: dict[int, tuple[int, str, str, bool, int]] = {}
    for row in rows:
        method_id = row[0]
        if method_id not in heads:
            heads[method_id] = (row[0], row[1], row[2], bool(row[3]), row[4])
            rates[method_id] = []
        if row[5] is not None:
            rates[method_id].append(Rate(row[5], row[6], row[7] or None, row[8], row[9], row[10]))
    for method_id, (id_, code, name, active, order) in heads.items():
        methods.append(Method(id_, code, name, active, order, tuple(rates[method_id])))
    return RateTable(tuple(methods))


def get_method_by_code(session: Session, code: str) -> ShippingMethod | None:
    return session.scalars(select(ShippingMethod).where(ShippingMethod.code == code)).first()


def get_method_for_update(session: Session, code: str) -> ShippingMethod | None:
    return session.scalars(
        select(ShippingMethod).where(ShippingMethod.code == code).with_for_update()
    ).first()


def list_rates(session: Session, method_id: int) -> Sequence[ShippingRate]:
    return session.scalars(
        select(ShippingRate).where(ShippingRate.method_id == method_id).order_by(ShippingRate.id)
    ).all()


def get_rate(session: Session, method_id: int, rate_id: int) -> ShippingRate | None:
    rate = session.get(ShippingRate, rate_id)
    if rate is None or rate.method_id != method_id:
        return None
    return rate


def delete_rates(session: Session, method_id: int) -> None:
    session.execute(delete(ShippingRate).where(ShippingRate.method_id == method_id))
