"""Promotions, coupons and the pricing simulator.

Promotions are created as drafts and price carts once activated. Coupon codes unlock
promotions that require one: single public codes, or generated batches of unique
codes. ``POST /pricing/quote`` prices a cart against the active promotions and
explains every promotion considered; it changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Depends, Query

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, encode_cursor
from shopops.api.schemas.promotions import (
    CouponBatchCreate,
    CouponBatchRead,
    CouponCreate,
    CouponPage,
    CouponRead,
    PerformanceRead,
    PromotionCreate,
    PromotionPage,
    PromotionRead,
    PromotionUpdate,
    QuoteRead,
    QuoteRequest,
)
from shopops.auth.permissions import Permission
from shopops.contexts import orders, promotions, shipping
from shopops.kernel.errors import FieldError, ValidationFailed
from shopops.uow import UnitOfWork

router = APIRouter(tags=["promotions"])

READ = Depends(require(Permission.PROMOTIONS_READ))
WRITE = Depends(require(Permission.PROMOTIONS_WRITE))
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
ENDED_WITHOUT_SALE = (orders.OrderStatus.CANCELLED, orders.OrderStatus.CLOSED)


# --- promotions -------------------------------------------------------------------------


@router.post("/promotions", response_model=PromotionRead, status_code=201)
def create_promotion(body: PromotionCreate, context: RequestContext = WRITE) -> PromotionRead:
    """Create a promotion as a draft; every problem of the definition is listed at once."""
    with context.uow() as uow:
        view = promotions.create_promotion(uow, promotions.CreatePromotion(body.definition()))
        uow.commit()
    return PromotionRead.of(view)


@router.post("/promotions/validate", response_model=dict[str, object])
def validate_promotion(body: PromotionCreate, context: RequestContext = WRITE) -> dict[str, object]:
    """Check a definition and return its canonical form; nothing is saved."""
    with context.uow() as uow:
        return promotions.validate_definition(uow, body.definition())


@router.get("/promotions", response_model=PromotionPage)
def list_promotions(
    status: str | None = Query(None, description="`draft`, `active` or `inactive`."),
    kind: str | None = Query(None, examples=["percentage"]),
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ,
) -> PromotionPage:
    query = promotions.ListPromotions(status, kind, after_id(cursor), limit + 1)
    with context.uow() as uow:
        found = promotions.list_promotions(uow, query)
    items = [PromotionRead.of(v) for v in found[:limit]]
    next_cursor = encode_cursor({"id": found[limit - 1].id}) if len(found) > limit else None
    return PromotionPage(items=items, next_cursor=next_cursor)


@router.get("/promotions/{promotion_id}", response_model=PromotionRead)
def get_promotion(promotion_id: int, context: RequestContext = READ) -> PromotionRead:
    with context.uow() as uow:
        return PromotionRead.of(promotions.get_promotion(uow, promotion_id))


@router.patch("/promotions/{promotion_id}", response_model=PromotionRead)
def update_promotion(
    promotion_id: int, body: PromotionUpdate, context: RequestContext = WRITE
) -> PromotionRead:
    command = promotions.UpdatePromotion(promotion_id, body.changes())
    with context.uow() as uow:
        view = promotions.update_promotion(uow, command)
        uow.commit()
    return PromotionRead.of(view)


def _switch(context: RequestContext, promotion_id: int, *, on: bool) -> PromotionRead:
    with context.uow() as uow:
        if on:
            view = promotions.activate_promotion(uow, promotion_id)
        else:
            view = promotions.deactivate_promotion(uow, promotion_id)
        uow.commit()
    return PromotionRead.of(view)


@router.post("/promotions/{promotion_id}/activate", response_model=PromotionRead)
def activate_promotion(promotion_id: int, context: RequestContext = WRITE) -> PromotionRead:
    """Start pricing carts with it (overlapping flash sales are refused)."""
    return _switch(context, promotion_id, on=True)


@router.post("/promotions/{promotion_id}/deactivate", response_model=PromotionRead)
def deactivate_promotion(promotion_id: int, context: RequestContext = WRITE) -> PromotionRead:
    return _switch(context, promotion_id, on=False)


@router.get("/promotions/{promotion_id}/performance", response_model=PerformanceRead)
def promotion_performance(promotion_id: int, context: RequestContext = READ) -> PerformanceRead:
    """Redemptions, discount cost, orders and GMV with the promotion, budget and quota used."""
    with context.uow() as uow:
        report = promotions.promotion_performance(uow, promotion_id)
        currency = promotions.get_promotion(uow, promotion_id).definition["currency"]
    return PerformanceRead.of(report, currency)


# --- coupons ----------------------------------------------------------------------------


@router.post("/promotions/{promotion_id}/coupons", response_model=CouponRead, status_code=201)
def create_coupon(
    promotion_id: int, body: CouponCreate, context: RequestContext = WRITE
) -> CouponRead:
    """A public code for a promotion that requires one."""
    with context.uow() as uow:
        view = promotions.create_coupon(uow, body.command(promotion_id))
        uow.commit()
    return CouponRead.model_validate(view)


@router.post(
    "/promotions/{promotion_id}/coupon-batches", response_model=CouponBatchRead, status_code=201
)
def generate_coupons(
    promotion_id: int, body: CouponBatchCreate, context: RequestContext = WRITE
) -> CouponBatchRead:
    """Unique crypto-random codes (no 0/O or 1/I/L), returned once here and listable later."""
    with context.uow() as uow:
        batch = promotions.generate_coupons(uow, body.command(promotion_id))
        uow.commit()
    return CouponBatchRead.model_validate(batch)


@router.get("/coupons", response_model=CouponPage)
def list_coupons(
    promotion_id: int | None = None,
    batch_id: int | None = None,
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ,
) -> CouponPage:
    query = promotions.ListCoupons(promotion_id, batch_id, after_id(cursor), limit + 1)
    with context.uow() as uow:
        found = promotions.list_coupons(uow, query)
    items = [CouponRead.model_validate(v) for v in found[:limit]]
    next_cursor = encode_cursor({"id": found[limit - 1].id}) if len(found) > limit else None
    return CouponPage(items=items, next_cursor=next_cursor)


@router.get("/coupons/{code}", response_model=CouponRead)
def get_coupon(code: str, context: RequestContext = READ) -> CouponRead:
    with context.uow() as uow:
        return CouponRead.model_validate(promotions.get_coupon(uow, code))


# --- pricing ----------------------------------------------------------------------------


def _first_order(uow: UnitOfWork, body: QuoteRequest) -> bool:
    """The caller's answer, else: a customer with no order that went ahead."""
    if body.first_order is not None:
        return body.first_order
    if body.customer_id is None:
        return False
    earlier = orders.search(
        uow.session,
        orders.OrderFilter(
            customer_id=body.customer_id,
            status=[s for s in orders.OrderStatus if s not in ENDED_WITHOUT_SALE],
            limit=1,
        ),
    )
    return not earlier


def _priced_with_table_fee(
    uow: UnitOfWork, body: QuoteRequest, request: promotions.PricingRequest
) -> promotions.PricedCart:
    """The cart priced with the fee of the store's shipping table for the destination,
    waived (priced again without it) when the items after item promotions reach the
    rate's free-over threshold, as at checkout. No methods in the table: no fee."""
    rates = shipping.rate_table(uow)
    if not rates.configured:
        return promotions.quote(uow, request)
    wanted = body.shipping
    country = shipping.normalize_country(wanted.country)
    if country is None or country == shipping.ANYWHERE:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "shipping.country",
                    shipping.ShippingError.INVALID_COUNTRY,
                    "a 2-letter ISO 3166-1 code",
                )
            ]
        )
    found = shipping.resolve(
        rates,
        wanted.method,
        country,
        shipping.normalize_region(wanted.region),
        body.currency.strip().upper(),
        method_field="shipping.method",
        destination_field="shipping.country",
    )
    if isinstance(found, FieldError):
        raise ValidationFailed(
            found.code, found.message, errors=[found], details={"allowed": rates.active_codes()}
        )
    request = replace(request, shipping_method=found.method, shipping_fee_minor=found.fee_minor)
    priced = promotions.quote(uow, request)
    if found.for_items(priced.subtotal_minor - priced.item_discount_minor).free_over_reached:
        priced = promotions.quote(uow, replace(request, shipping_fee_minor=0))
    return priced


@router.post("/pricing/quote", response_model=QuoteRead)
def quote(body: QuoteRequest, context: RequestContext = READ) -> QuoteRead:
    """Price a cart against the active promotions: per-line amounts, every discount,
    shipping, points, tax included, and why each promotion did or did not apply.

    Shipping: the `fee` given, or with `shipping.country` (and no fee) the fee of the
    store's shipping table for that destination and `shipping.method`, free over the
    rate's threshold as at checkout. A customer's cart gets the discount of their loyalty
    tier as at checkout (the `member_discount` promotion, id -1, in `applied` and the
    explanation)."""
    with context.uow() as uow:
        request = body.request(_first_order(uow, body))
        if request.customer_id is not None:
            request = replace(request, member_discounts=orders.member_discounts(uow))
        if body.shipping.from_table:
            priced = _priced_with_table_fee(uow, body, request)
        else:
            priced = promotions.quote(uow, request)
    return QuoteRead.of(priced)
