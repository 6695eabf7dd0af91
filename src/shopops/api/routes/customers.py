"""Customers: profiles, addresses, consent, tags, data-subject export and erasure.

Personal fields are masked unless the caller holds `customers.pii.read`. The
export is the data subject's own, unmasked data, so it needs
`customers.pii.read` (not `customers.export`, which analysts and marketing hold
for masked bulk extracts); every export is audited.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, after_id, encode_cursor
from shopops.api.schemas.customers import (
    CustomerAddressCreate,
    CustomerAddressRead,
    CustomerAddressUpdate,
    CustomerConsentUpdate,
    CustomerCreate,
    CustomerEraseRequest,
    CustomerExportRead,
    CustomerRead,
    CustomerSearch,
    CustomerTagsAdd,
    CustomerUpdate,
)
from shopops.auth.permissions import Permission
from shopops.contexts import customers
from shopops.uow import UnitOfWork

router = APIRouter(prefix="/customers", tags=["customers"])

READ = require(Permission.CUSTOMERS_READ)
WRITE = require(Permission.CUSTOMERS_WRITE)


def _page(uow: UnitOfWork, query: customers.SearchCustomers) -> Page[CustomerRead]:
    found = customers.search_customers(uow, query)
    cursor = None if found.next_after_id is None else encode_cursor({"id": found.next_after_id})
    return Page(items=[CustomerRead.model_validate(v) for v in found.items], next_cursor=cursor)


def _address_input(body: CustomerAddressCreate) -> customers.AddressInput:
    return customers.AddressInput(**body.model_dump())


def _patch(body: CustomerUpdate | CustomerAddressUpdate, name: str) -> str | None:
    """Absent: None (unchanged); explicit null: "" (remove); else the value."""
    if name not in body.model_fields_set:
        return None
    value = getattr(body, name)
    return "" if value is None else str(value)


@router.get("", response_model=Page[CustomerRead])
def list_customers(
    tag: str | None = Query(None, examples=["vip"]),
    source_channel: str | None = Query(None, examples=["web"]),
    region: str | None = Query(None, examples=["CN"], description="`CN` also matches `CN-31`."),
    registered_from: datetime | None = Query(None, description="Inclusive, ISO 8601 with offset"),
    registered_to: datetime | None = Query(None, description="Exclusive, ISO 8601 with offset"),
    include_erased: bool = False,
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = Depends(READ),
) -> Page[CustomerRead]:
    """List customers by id. To find someone by e-mail or phone use `POST /customers/search`."""
    query = customers.SearchCustomers(
        tag=tag,
        source_channel=source_channel,
        region=region,
        registered_from=registered_from,
        registered_to=registered_to,
        include_erased=include_erased,
        after_id=after_id(cursor),
        limit=limit,
    )
    with context.uow() as uow:
        return _page(uow, query)


@router.post("/search", response_model=Page[CustomerRead])
def search_customers(
    body: CustomerSearch, context: RequestContext = Depends(READ)
) -> Page[CustomerRead]:
    """Search, including exact e-mail/phone lookup (kept out of URLs and access logs)."""
    query = customers.SearchCustomers(
        **body.model_dump(exclude={"cursor"}), after_id=after_id(body.cursor)
    )
    with context.uow() as uow:
        return _page(uow, query)


@router.post("", response_model=CustomerRead, status_code=201)
def create_customer(body: CustomerCreate, context: RequestContext = Depends(WRITE)) -> CustomerRead:
    """Register a customer. Every invalid field is reported at once."""
    data = body.model_dump(exclude={"addresses", "tags"})
    command = customers.RegisterCustomer(
        **data,
        tags=tuple(body.tags),
        addresses=tuple(_address_input(a) for a in body.addresses),
    )
    with context.uow() as uow:
        view = customers.register_customer(uow, command)
        uow.commit()
    return CustomerRead.model_validate(view)


@router.get("/{customer_id}", response_model=CustomerRead)
def get_customer(customer_id: int, context: RequestContext = Depends(READ)) -> CustomerRead:
    with context.uow() as uow:
        return CustomerRead.model_validate(customers.get_customer(uow, customer_id))


@router.patch("/{customer_id}", response_model=CustomerRead)
def update_customer(
    customer_id: int, body: CustomerUpdate, context: RequestContext = Depends(WRITE)
) -> CustomerRead:
    command = customers.UpdateCustomer(
        customer_id, **{name: _patch(body, name) for name in CustomerUpdate.model_fields}
    )
    with context.uow() as uow:
        view = customers.update_customer(uow, command)
        uow.commit()
    return CustomerRead.model_validate(view)


@router.patch("/{customer_id}/consent", response_model=CustomerRead)
def set_consent(
    customer_id: int, body: CustomerConsentUpdate, context: RequestContext = Depends(WRITE)
) -> CustomerRead:
    """Change marketing consent; each change is audited and kept in the consent history."""
    command = customers.SetConsent(customer_id, body.marketing_email, body.marketing_sms)
    with context.uow() as uow:
        view = customers.set_consent(uow, command)
        uow.commit()
    return CustomerRead.model_validate(view)


@router.post("/{customer_id}/tags", response_model=CustomerRead)
def add_tags(
    customer_id: int, body: CustomerTagsAdd, context: RequestContext = Depends(WRITE)
) -> CustomerRead:
    with context.uow() as uow:
        view = customers.tag_customer(uow, customers.TagCustomer(customer_id, tuple(body.tags)))
        uow.commit()
    return CustomerRead.model_validate(view)


@router.delete("/{customer_id}/tags/{tag}", response_model=CustomerRead)
def remove_tag(
    customer_id: int, tag: str, context: RequestContext = Depends(WRITE)
) -> CustomerRead:
    with context.uow() as uow:
        view = customers.untag_customer(uow, customers.UntagCustomer(customer_id, (tag,)))
        uow.commit()
    return CustomerRead.model_validate(view)


@router.post("/{customer_id}/addresses", response_model=CustomerAddressRead, status_code=201)
def add_address(
    customer_id: int, body: CustomerAddressCreate, context: RequestContext = Depends(WRITE)
) -> CustomerAddressRead:
    """Add an address; the first one, or one sent with `is_default`, becomes the default."""
    with context.uow() as uow:
        view = customers.add_address(uow, customers.AddAddress(customer_id, _address_input(body)))
        uow.commit()
    return CustomerAddressRead.model_validate(view)


@router.patch("/{customer_id}/addresses/{address_id}", response_model=CustomerAddressRead)
def update_address(
    customer_id: int,
    address_id: int,
    body: CustomerAddressUpdate,
    context: RequestContext = Depends(WRITE),
) -> CustomerAddressRead:
    texts = {
        name: _patch(body, name)
        for name in CustomerAddressUpdate.model_fields
        if name != "is_default"
    }
    command = customers.UpdateAddress(customer_id, address_id, **texts, is_default=body.is_default)
    with context.uow() as uow:
        view = customers.update_address(uow, command)
        uow.commit()
    return CustomerAddressRead.model_validate(view)


@router.delete("/{customer_id}/addresses/{address_id}", status_code=204)
def remove_address(
    customer_id: int, address_id: int, context: RequestContext = Depends(WRITE)
) -> Response:
    """Remove an address; if it was the default, the oldest remaining one becomes default."""
    with context.uow() as uow:
        customers.remove_address(uow, customers.RemoveAddress(customer_id, address_id))
        uow.commit()
    return Response(status_code=204)


@router.get("/{customer_id}/export", response_model=CustomerExportRead)
def export_customer(
    customer_id: int,
    response: Response,
    context: RequestContext = Depends(
        require(Permission.CUSTOMERS_READ, Permission.CUSTOMERS_PII_READ)
    ),
) -> CustomerExportRead:
    """Data-subject export (JSON): everything held about the customer, unmasked. Audited."""
    with context.uow() as uow:
        export = customers.export_customer(uow, customer_id)
        uow.commit()
    response.headers["Content-Disposition"] = (
        f'attachment; filename="customer-{customer_id}-export.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return CustomerExportRead.model_validate(export)


@router.post("/{customer_id}/erase", response_model=CustomerRead)
def erase_customer(
    customer_id: int, body: CustomerEraseRequest, context: RequestContext = Depends(WRITE)
) -> CustomerRead:
    """Irreversibly anonymise the customer (send `{"confirm": true}`). The id stays valid."""
    with context.uow() as uow:
        view = customers.erase_customer(uow, customers.EraseCustomer(customer_id, body.confirm))
        uow.commit()
    return CustomerRead.model_validate(view)
