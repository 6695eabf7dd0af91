"""Every query of the presales context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Boolean, Integer, String, column, select, table
from sqlalchemy.orm import Session

from shopops.contexts.presales.models import PresaleOffer

# Read-only views of the catalogue (never written here).
_variants = table(
    "variants",
    column("sku", String),
    column("product_id", Integer),
    column("currency", String),
    column("is_active", Boolean),
)
_products = table("products", column("id", Integer), column("status", String))


@dataclass(frozen=True)
class VariantFacts:
    sku: str
    currency: str
    sellable: bool


def variant(session: Session, sku: str) -> VariantFacts | None:
    row = session.execute(
        select(_variants.c.sku, _variants.c.currency, _variants.c.is_active, _products.c.status)
        .join(_products, _products.c.id == _variants.c.product_id)
        .where(_variants.c.sku == sku)
    ).first()
    if row is None:
        return None
    return VariantFacts(row[0], row[1], bool(row[2]) and row[3] == "active")


def get(session: Session, offer_id: int) -> PresaleOffer | None:
    return session.get(PresaleOffer, offer_id)


def list_offers(
    session: Session, *, status: str | None, after_id: int | None, limit: int
) -> Sequence[PresaleOffer]:
    stmt = select(PresaleOffer).order_by(PresaleOffer.id).limit(limit)
    if status is not None:
        stmt = stmt.where(PresaleOffer.status == status)
    if after_id is not None:
        stmt = stmt.where(PresaleOffer.id > after_id)
    return session.scalars(stmt).all()
