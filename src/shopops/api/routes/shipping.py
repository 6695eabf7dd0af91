"""Shipping methods and their rate table (`shipping.read` / `shipping.manage`).

Checkouts send a method's `code` as `shipping_method`; the order's fee is the most
specific rate of that method for the shipping address (its region, else its
country, else `*`), waived once the items reach the rate's `free_over`. Fees are in
the store currency. A store with no shipping methods charges no shipping.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from shopops.api.deps import RequestContext, require
from shopops.api.schemas.shipping import (
    ShippingMethodCreate,
    ShippingMethodPage,
    ShippingMethodRead,
    ShippingMethodUpdate,
    ShippingQuoteRead,
    ShippingRateCreate,
    ShippingRateRead,
)
from shopops.auth.permissions import Permission
from shopops.contexts import shipping

router = APIRouter(prefix="/shipping-methods", tags=["shipping"])

READ = Depends(require(Permission.SHIPPING_READ))
MANAGE = Depends(require(Permission.SHIPPING_MANAGE))


@router.get("", response_model=ShippingMethodPage)
def list_methods(
    include_inactive: bool = Query(True, description="false: only the methods checkouts offer."),
    context: RequestContext = READ,
) -> ShippingMethodPage:
    """Every method with its rates, in sort order (one page: a store has a handful)."""
    with context.uow() as uow:
        methods = shipping.list_methods(uow, include_inactive=include_inactive)
    return ShippingMethodPage(items=[ShippingMethodRead.of(m) for m in methods])


@router.post("", response_model=ShippingMethodRead, status_code=201)
def create_method(
    body: ShippingMethodCreate, context: RequestContext = MANAGE
) -> ShippingMethodRead:
    """A method with its rates. Every problem is listed (`shipping.invalid_code`,
    `shipping.duplicate_code`, `shipping.invalid_fee`, `shipping.duplicate_rate`, ...);
    nothing is written."""
    with context.uow() as uow:
        method = shipping.create_method(uow, body.command())
        uow.commit()
    return ShippingMethodRead.of(method)


@router.get("/{code}", response_model=ShippingMethodRead)
def get_method(code: str, context: RequestContext = READ) -> ShippingMethodRead:
    with context.uow() as uow:
        return ShippingMethodRead.of(shipping.get_method(uow, code))


@router.patch("/{code}", response_model=ShippingMethodRead)
def update_method(
    code: str, body: ShippingMethodUpdate, context: RequestContext = MANAGE
) -> ShippingMethodRead:
    """Rename, switch off (checkouts naming it get `422 shipping.unknown_method`) or
    reorder a method."""
    with context.uow() as uow:
        method = shipping.update_method(uow, body.command(code))
        uow.commit()
    return ShippingMethodRead.of(method)


@router.delete("/{code}", status_code=204)
def delete_method(code: str, context: RequestContext = MANAGE) -> Response:
    """Delete the method and its rates; placed orders keep what they paid."""
    with context.uow() as uow:
        shipping.delete_method(uow, code)
        uow.commit()
    return Response(status_code=204)


@router.post("/{code}/rates", response_model=ShippingRateRead, status_code=201)
def add_rate(
    code: str, body: ShippingRateCreate, context: RequestContext = MANAGE
) -> ShippingRateRead:
    """A fee to one more destination (`shipping.duplicate_rate` when it has one)."""
    with context.uow() as uow:
        rate = shipping.add_rate(uow, shipping.AddShippingRate(code, body.input()))
        uow.commit()
    return ShippingRateRead.of(rate)


@router.put("/{code}/rates/{rate_id}", response_model=ShippingRateRead)
def replace_rate(
    code: str, rate_id: int, body: ShippingRateCreate, context: RequestContext = MANAGE
) -> ShippingRateRead:
    """Replace a rate: destination, fee and free-over threshold."""
    with context.uow() as uow:
        rate = shipping.replace_rate(uow, shipping.ReplaceShippingRate(code, rate_id, body.input()))
        uow.commit()
    return ShippingRateRead.of(rate)


@router.delete("/{code}/rates/{rate_id}", status_code=204)
def delete_rate(code: str, rate_id: int, context: RequestContext = MANAGE) -> Response:
    with context.uow() as uow:
        shipping.delete_rate(uow, code, rate_id)
        uow.commit()
    return Response(status_code=204)


@router.get("/{code}/quote", response_model=ShippingQuoteRead)
def quote(
    code: str,
    country: str = Query(max_length=20, description="ISO 3166-1 alpha-2, e.g. `CN`."),
    region: str | None = Query(None, max_length=200, description="e.g. `CN-SH`."),
    subtotal: str = Query(
        "0", max_length=40, description="What the items come to, for the free-over threshold."
    ),
    context: RequestContext = READ,
) -> ShippingQuoteRead:
    """The fee of the method to a destination. An unknown or inactive method is
    `422 shipping.unknown_method`, a destination it has no rate for `422
    shipping.no_rate_for_destination`; both list the active methods in `details.allowed`."""
    command = shipping.QuoteShipping(code, country, region, subtotal)
    with context.uow() as uow:
        return ShippingQuoteRead.of(shipping.quote(uow, command))
