"""Coupons: public codes and generated batches, and turning codes in a cart into grants.

Codes are stored upper-case and matched case-insensitively. Generated codes are
crypto-random (``secrets``) over an alphabet without look-alike characters; a
batch is refused when the code space is too small for its size. Usage limits
are enforced when an order redeems them (``pricing.redeem``); here a code is
only checked against its current state, with one clear error per problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopops.auth.permissions import Permission
from shopops.contexts.promotions import codes, repository
from shopops.contexts.promotions.cart import CouponGrant, CustomerFacts
from shopops.contexts.promotions.commands import (
    CouponTerms,
    CreateCoupon,
    GenerateCoupons,
    ListCoupons,
)
from shopops.contexts.promotions.errors import CouponError
from shopops.contexts.promotions.events import CouponBatchGenerated, CouponCreated
from shopops.contexts.promotions.models import Coupon, CouponBatch, Promotion
from shopops.contexts.promotions.validation import raise_collected
from shopops.contexts.promotions.views import BatchView, CouponView
from shopops.db.bulk import insert_rows
from shopops.kernel.errors import (
    Conflict,
    FieldError,
    FieldErrorCollector,
    NotFound,
    ValidationFailed,
)
from shopops.kernel.money import to_minor
from shopops.uow import UnitOfWork

MAX_BATCH = 100_000
MAX_PAGE = 1000
SPACE_PER_CODE = 1_000_000  # at least a million possible codes per issued code: unguessable


def _promotion(uow: UnitOfWork, promotion_id: int) -> Promotion:
    row = repository.get(uow.session, promotion_id)
    if row is None:
        raise NotFound(CouponError.PROMOTION_NOT_FOUND, f"promotion {promotion_id} does not exist")
    if not row.requires_coupon:
        raise ValidationFailed(
            CouponError.INVALID_BATCH,
            f"promotion {promotion_id} applies without a code; set requires_coupon first",
        )
    return row


def _terms(errors: FieldErrorCollector, terms: CouponTerms, currency: str | None) -> dict[str, Any]:
    """Column values for ``terms``; problems go to ``errors``."""
    for name in ("max_uses", "per_customer_limit"):
        value = getattr(terms, name)
        if value is not None and value < 1:
            errors.add(name, CouponError.INVALID_LIMITS, "at least 1, or empty for no limit")
    min_spend = None
    if terms.min_spend is not None:
        if currency is None:
            errors.add("min_spend", CouponError.INVALID_LIMITS, "the promotion has no currency")
        else:
            try:
                min_spend = to_minor(terms.min_spend, currency)
            except ValidationFailed as problem:
                errors.add("min_spend", CouponError.INVALID_LIMITS, problem.message)
    for name in ("starts_at", "ends_at"):
        moment = getattr(terms, name)
        if moment is not None and moment.tzinfo is None:
            errors.add(name, CouponError.INVALID_VALIDITY, "needs a time zone offset")
    if (
        terms.starts_at is not None
        and terms.ends_at is not None
        and terms.starts_at.tzinfo is not None
        and terms.ends_at.tzinfo is not None
        and terms.ends_at <= terms.starts_at
    ):
        errors.add("ends_at", CouponError.INVALID_VALIDITY, "must be after starts_at")
    if any(i <= 0 for i in terms.customer_ids) or any(
        not t.strip() for t in (*terms.tiers, *terms.segments)
    ):
        errors.add("restrictions", CouponError.INVALID_RESTRICTIONS, "ids and names, not blanks")
    return {
        "is_active": True,
        "starts_at": terms.starts_at,
        "ends_at": terms.ends_at,
        "max_uses": terms.max_uses,
        "used": 0,
        "per_customer_limit": terms.per_customer_limit,
        "min_spend_minor": min_spend,
        "customer_ids": sorted(set(terms.customer_ids)),
        "tiers": sorted({t.strip() for t in terms.tiers}),
        "segments": sorted({s.strip() for s in terms.segments}),
    }


def create_coupon(uow: UnitOfWork, command: CreateCoupon) -> CouponView:
    """A public code such as SPRING10."""
    uow.require(Permission.PROMOTIONS_WRITE)
    promotion = _promotion(uow, command.promotion_id)
    code = codes.normalize_code(command.code)
    errors = FieldErrorCollector()
    if not codes.is_valid_code(code):
        errors.add("code", CouponError.INVALID_CODE, "3-40 letters, digits and dashes")
    values = _terms(errors, command.terms, promotion.currency)
    raise_collected(errors, CouponError.INVALID_CODE)
    if repository.taken_codes(uow.session, [code]):
        raise Conflict(CouponError.CODE_TAKEN, f"the code {code} is taken")
    coupon = Coupon(code=code, promotion_id=promotion.id, batch_id=None, **values)
    uow.session.add(coupon)
    uow.session.flush()
    uow.audit("coupon.created", "coupon", coupon.id, after={"code": code, **_audit(values)})
    uow.emit(CouponCreated(coupon.id, promotion.id, code))
    return CouponView.of(coupon)


def _audit(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def generate_coupons(uow: UnitOfWork, command: GenerateCoupons) -> BatchView:
    """A batch of unique single-use (by default) codes for one promotion."""
    uow.require(Permission.PROMOTIONS_WRITE)
    promotion = _promotion(uow, command.promotion_id)
    prefix = codes.normalize_code(command.prefix)
    errors = FieldErrorCollector()
    if not 1 <= command.count <= MAX_BATCH:
        errors.add("count", CouponError.INVALID_BATCH, f"from 1 to {MAX_BATCH:,} codes")
    if not codes.MIN_LENGTH <= command.length <= codes.MAX_LENGTH:
        errors.add(
            "length",
            CouponError.INVALID_BATCH,
            f"codes are {codes.MIN_LENGTH} to {codes.MAX_LENGTH} characters",
        )
    elif codes.possible_codes(command.length) < max(command.count, 1) * SPACE_PER_CODE:
        errors.add("length", CouponError.INVALID_BATCH, "too short to be unguessable at this count")
    if not codes.is_valid_prefix(prefix):
        errors.add("prefix", CouponError.INVALID_BATCH, "up to 12 letters and digits")
    values = _terms(errors, command.terms, promotion.currency)
    raise_collected(errors, CouponError.INVALID_BATCH)
    now = uow.now()
    batch = CouponBatch(
        promotion_id=promotion.id,
        name=command.name.strip() or f"{command.count} codes",
        prefix=prefix,
        size=command.count,
        code_length=command.length,
        created_by=uow.actor.label,
    )
    uow.session.add(batch)
    uow.session.flush()
    issued = codes.unique_codes(command.count, command.length, prefix)
    taken = repository.taken_codes(uow.session, issued)
    while taken:  # astronomically rare at these lengths; replace and check again
        fresh = set(issued) - taken
        while len(fresh) < command.count:
            fresh.add(codes.random_code(command.length, prefix))
        issued = sorted(fresh)
        taken = repository.taken_codes(uow.session, issued)
    rows = [
        {
            "code": code,
            "promotion_id": promotion.id,
            "batch_id": batch.id,
            "created_at": now,
            "updated_at": now,
            **values,
        }
        for code in issued
    ]
    insert_rows(uow.session, Coupon.__table__, rows)  # type: ignore[arg-type]
    uow.audit(
        "coupon.batch_generated",
        "coupon_batch",
        batch.id,
        after={"promotion_id": promotion.id, "size": command.count, **_audit(values)},
    )
    uow.emit(CouponBatchGenerated(batch.id, promotion.id, command.count))
    return BatchView.of(batch, tuple(issued))


def list_coupons(uow: UnitOfWork, query: ListCoupons) -> list[CouponView]:
    uow.require(Permission.PROMOTIONS_READ)
    rows = repository.list_coupons(
        uow.session,
        promotion_id=query.promotion_id,
        batch_id=query.batch_id,
        after_id=query.after_id,
        limit=max(1, min(query.limit, MAX_PAGE)),
    )
    return [CouponView.of(row) for row in rows]


def get_coupon(uow: UnitOfWork, code: str) -> CouponView:
    uow.require(Permission.PROMOTIONS_READ)
    normalized = codes.normalize_code(code)
    found = repository.coupons_by_code(uow.session, [normalized]).get(normalized)
    if found is None:
        raise NotFound(CouponError.NOT_FOUND, f"no coupon {normalized}")
    return CouponView.of(found)


# --- codes in a cart ------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedCoupon:
    coupon_id: int
    grant: CouponGrant


def _refuse(index: int, code: str, error: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        error,
        f"{code}: {message}",
        errors=[FieldError(f"coupon_codes.{index}", error, message)],
        details={"code": code},
    )


def _check_customer(
    index: int, coupon: Coupon, customer: CustomerFacts, uses: Mapping[int, tuple[int, int]]
) -> None:
    restricted = coupon.customer_ids or coupon.tiers or coupon.segments
    if customer.id is None and (restricted or coupon.per_customer_limit is not None):
        raise _refuse(index, coupon.code, CouponError.CUSTOMER_REQUIRED, "sign in to use it")
    if (
        (coupon.customer_ids and customer.id not in coupon.customer_ids)
        or (coupon.tiers and customer.tier not in coupon.tiers)
        or (coupon.segments and customer.segments.isdisjoint(coupon.segments))
    ):
        raise _refuse(index, coupon.code, CouponError.NOT_ELIGIBLE, "not for this customer")
    limit = coupon.per_customer_limit
    if limit is not None and uses.get(coupon.id, (0, 0))[0] >= limit:
        raise Conflict(
            CouponError.CUSTOMER_LIMIT_REACHED,
            f"{coupon.code}: already used {limit} time(s) by this customer",
            details={"code": coupon.code},
        )


def resolve_codes(
    uow: UnitOfWork,
    raw_codes: Sequence[str],
    customer: CustomerFacts,
    at: datetime,
    promotions: Mapping[int, repository.PromotionState],
) -> list[ResolvedCoupon]:
    """The grants for the codes in a cart, or the first problem with one of them.

    ``promotions`` are the active ones already loaded (others are read when needed).
    """
    normalized = [codes.normalize_code(c) for c in raw_codes]
    found = repository.coupons_by_code(uow.session, set(normalized))
    uses = (
        {}
        if customer.id is None
        else repository.customer_usage(uow.session, customer.id, repository.COUPON)
    )
    resolved: list[ResolvedCoupon] = []
    for index, code in enumerate(normalized):
        coupon = found.get(code)
        if coupon is None:
            raise _refuse(index, code, CouponError.NOT_FOUND, "no such coupon code")
        promotion = promotions.get(coupon.promotion_id) or repository.promotion_state(
            uow.session, coupon.promotion_id
        )
        if code in normalized[:index] or any(
            r.grant.promotion_id == coupon.promotion_id for r in resolved
        ):
            raise _refuse(index, code, CouponError.DUPLICATE_CODE, "one code per promotion")
        if not coupon.is_active or promotion is None or promotion.status != "active":
            raise _refuse(index, code, CouponError.INACTIVE, "this code is not active")
        starts = max((m for m in (coupon.starts_at, promotion.starts_at) if m), default=None)
        ends = min((m for m in (coupon.ends_at, promotion.ends_at) if m), default=None)
        if starts is not None and at < starts:
            raise _refuse(index, code, CouponError.NOT_STARTED, f"valid from {starts.isoformat()}")
        if ends is not None and at >= ends:
            raise _refuse(index, code, CouponError.EXPIRED, f"expired at {ends.isoformat()}")
        if coupon.max_uses is not None and coupon.used >= coupon.max_uses:
            raise Conflict(
                CouponError.LIMIT_REACHED,
                f"{code}: all {coupon.max_uses} use(s) are taken",
                details={"code": code},
            )
        _check_customer(index, coupon, customer, uses)
        grant = CouponGrant(code, coupon.promotion_id, coupon.min_spend_minor)
        resolved.append(ResolvedCoupon(coupon.id, grant))
    return resolved
