"""Promotions: the pricing engine, promotion types, stacking, coupons and their ledgers.

Other contexts import only from here. The engine (``price_cart``) is pure; the use
cases below load its inputs inside a unit of work.

Wiring into order placement (the intended call sequence, all in the placement's
unit of work, after validation and before stock is reserved):

1. ``priced = price_order(uow, PricingRequest(lines, customer_id, channel,
   coupon_codes, shipping_method, shipping_fee_minor, points, ..., first_order))``
   — or ``price_orders(uow, requests)`` for a batch (promotions and SKUs load
   once; each entry is a PricedCart or the DomainError for that request).
   ``priced.lines`` lists the cart's SKUs merged in first-seen order, then any
   gift lines (``gift_of`` set, ``total_minor`` 0): reserve stock for those too.
2. reserve stock, write the order with ``subtotal_minor``, ``discount_minor``
   (items, order and shipping discounts), ``shipping_minor`` (the fee before its
   discount) and ``total_minor`` (= subtotal + shipping - discount -
   ``points_minor``) from ``priced``, and ``pricing = priced.as_dict()``; each
   order line's ``discount_minor`` and ``total_minor`` come from the matching
   ``PricedLine`` (refunds start there).
3. ``redeem(uow, order_number, priced, customer_id)`` — counts uses, budgets,
   flash/gift quotas and coupons with conditional UPDATEs; a limit reached since
   pricing raises a Conflict and rolls back only this redemption (a savepoint):
   fail that order, keep the rest of the batch.
4. on cancellation or a full refund: ``release(uow, order_number)`` (idempotent).
   Loyalty debits ``priced.points_redeemed`` through its own public functions.
"""

from shopops.contexts.promotions.cart import (
    Cart,
    CartLine,
    CouponGrant,
    CustomerFacts,
    PointsOffer,
    Shipping,
)
from shopops.contexts.promotions.codes import ALPHABET as COUPON_ALPHABET
from shopops.contexts.promotions.commands import (
    CouponTerms,
    CreateCoupon,
    CreatePromotion,
    GenerateCoupons,
    ListCoupons,
    ListPromotions,
    MemberDiscount,
    PricingLine,
    PricingRequest,
    UpdatePromotion,
)
from shopops.contexts.promotions.coupons import (
    create_coupon,
    generate_coupons,
    get_coupon,
    list_coupons,
)
from shopops.contexts.promotions.definitions import PromotionRule, Usage
from shopops.contexts.promotions.engine import price_cart
from shopops.contexts.promotions.errors import CouponError, PricingError, PromotionError
from shopops.contexts.promotions.events import (
    CouponBatchGenerated,
    CouponCreated,
    PromotionActivated,
    PromotionCreated,
    PromotionDeactivated,
    PromotionsRedeemed,
    PromotionsReleased,
    PromotionUpdated,
)
from shopops.contexts.promotions.index import PromotionSet
from shopops.contexts.promotions.models import (
    Coupon,
    CouponBatch,
    CouponRedemption,
    CustomerUsage,
    FlashSaleQuota,
    Promotion,
    PromotionRedemption,
)
from shopops.contexts.promotions.performance import performance_report, promotion_performance
from shopops.contexts.promotions.priced import (
    AppliedPromotion,
    Consideration,
    CouponOutcome,
    LinePart,
    PricedCart,
    PricedLine,
)
from shopops.contexts.promotions.pricing import (
    MEMBER_DISCOUNT_ID,
    MEMBER_DISCOUNT_KIND,
    MEMBER_GROUP,
    RedemptionReceipt,
    is_stored,
    member_rule,
    price_order,
    price_orders,
    quote,
    redeem,
    release,
)
from shopops.contexts.promotions.reasons import Reason
from shopops.contexts.promotions.refunds import LineRefund, refund_units
from shopops.contexts.promotions.rules import KINDS
from shopops.contexts.promotions.service import (
    STATUSES,
    activate_promotion,
    create_promotion,
    deactivate_promotion,
    get_promotion,
    list_promotions,
    update_promotion,
    validate_definition,
)
from shopops.contexts.promotions.validation import definition_json, parse_definition
from shopops.contexts.promotions.views import (
    BatchView,
    CouponView,
    CurrencyPerformance,
    PromotionPerformance,
    PromotionView,
)

__all__ = [
    "COUPON_ALPHABET",
    "KINDS",
    "MEMBER_DISCOUNT_ID",
    "MEMBER_DISCOUNT_KIND",
    "MEMBER_GROUP",
    "STATUSES",
    "AppliedPromotion",
    "BatchView",
    "Cart",
    "CartLine",
    "Consideration",
    "Coupon",
    "CouponBatch",
    "CouponBatchGenerated",
    "CouponCreated",
    "CouponError",
    "CouponGrant",
    "CouponOutcome",
    "CouponRedemption",
    "CouponTerms",
    "CouponView",
    "CreateCoupon",
    "CreatePromotion",
    "CurrencyPerformance",
    "CustomerFacts",
    "CustomerUsage",
    "FlashSaleQuota",
    "GenerateCoupons",
    "LinePart",
    "LineRefund",
    "ListCoupons",
    "ListPromotions",
    "MemberDiscount",
    "PointsOffer",
    "PricedCart",
    "PricedLine",
    "PricingError",
    "PricingLine",
    "PricingRequest",
    "Promotion",
    "PromotionActivated",
    "PromotionCreated",
    "PromotionDeactivated",
    "PromotionError",
    "PromotionPerformance",
    "PromotionRedemption",
    "PromotionRule",
    "PromotionSet",
    "PromotionUpdated",
    "PromotionView",
    "PromotionsRedeemed",
    "PromotionsReleased",
    "Reason",
    "RedemptionReceipt",
    "Shipping",
    "UpdatePromotion",
    "Usage",
    "activate_promotion",
    "create_coupon",
    "create_promotion",
    "deactivate_promotion",
    "definition_json",
    "generate_coupons",
    "get_coupon",
    "get_promotion",
    "is_stored",
    "list_coupons",
    "list_promotions",
    "member_rule",
    "parse_definition",
    "performance_report",
    "price_cart",
    "price_order",
    "price_orders",
    "promotion_performance",
    "quote",
    "redeem",
    "refund_units",
    "release",
    "update_promotion",
    "validate_definition",
]
