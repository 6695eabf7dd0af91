"""What the promotion pages show, and the promotion form turned into a definition.

The form writes the same definition the API accepts (money as decimal strings in
the promotion's currency); the promotions context checks it in full, and its
field errors come back beside the inputs they concern.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from shopops.console.errors import error_text
from shopops.console.forms import FormErrors
from shopops.console.guards import Staff
from shopops.console.i18n import N_, gettext
from shopops.contexts import orders, promotions
from shopops.kernel.errors import DomainError, FieldError, ValidationFailed
from shopops.kernel.money import to_minor
from shopops.uow import UnitOfWork

_ = gettext

PAGE_SIZE = 25
COUPON_PAGE = 50
TIER_ROWS = 5
SIMULATOR_ROWS = 6
WEEKDAYS: tuple[str, ...] = (
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
)
KIND_LABELS: dict[str, str] = {
    "percentage": N_("Percentage off"),
    "fixed_amount": N_("Fixed amount off"),
    "spend_tiers": N_("Spend tiers"),
    "repeating_threshold": N_("Every amount spent"),
    "multi_buy": N_("Buy X get Y"),
    "nth_item": N_("Nth item off"),
    "gift": N_("Gift with purchase"),
    "free_shipping": N_("Free shipping"),
    "flash_price": N_("Flash sale price"),
    promotions.MEMBER_DISCOUNT_KIND: N_("Member tier discount"),  # a loyalty tier's, in quotes
}
STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "active": N_("Active"),
    "inactive": N_("Inactive"),
}
REASON_LABELS: dict[str, str] = {
    "applied": N_("Applied"),
    "not_started": N_("Not started yet"),
    "ended": N_("Ended"),
    "outside_recurring_window": N_("Outside its recurring days or hours"),
    "channel_not_eligible": N_("Not on this channel"),
    "currency_mismatch": N_("Another currency"),
    "customer_required": N_("Needs a signed-in customer"),
    "tier_not_eligible": N_("Not for this customer's tier"),
    "segment_not_eligible": N_("Not for this customer's segments"),
    "not_first_order": N_("First orders only"),
    "coupon_required": N_("Needs its coupon code"),
    "no_eligible_lines": N_("No line in its scope"),
    "excluded_product": N_("Excluded products only"),
    "min_spend_not_met": N_("Minimum spend not reached"),
    "min_quantity_not_met": N_("Minimum quantity not reached"),
    "usage_limit_reached": N_("Usage limit reached"),
    "customer_limit_reached": N_("Customer's limit reached"),
    "budget_exhausted": N_("Budget used up"),
    "quota_exhausted": N_("Quota used up"),
    "shipping_method_not_eligible": N_("Not for this shipping method"),
    "no_discount": N_("Nothing left to discount"),
}

# The params each kind's form shows (definition keys); choice fields with their options.
PARAMS: dict[str, tuple[str, ...]] = {
    "percentage": ("percent", "applies_to", "max_discount"),
    "fixed_amount": ("amount", "per"),
    "spend_tiers": ("tiers",),
    "repeating_threshold": ("every", "save", "max_discount"),
    "multi_buy": ("buy", "get", "percent", "max_applications"),
    "nth_item": ("n", "percent", "max_applications"),
    "gift": ("sku", "quantity"),
    "free_shipping": ("methods", "max_fee"),
    "flash_price": ("price",),
}
CHOICES: dict[str, tuple[str, ...]] = {"applies_to": ("items", "order"), "per": ("order", "unit")}
CHOICE_LABELS: dict[str, str] = {
    "items": N_("each item in scope"),
    "order": N_("the order (items in scope)"),
    "unit": N_("each unit in scope"),
}
INTEGER_PARAMS = frozenset({"buy", "get", "max_applications", "n", "quantity"})
LIST_PARAMS = frozenset({"methods"})
SCOPE_FIELDS = (
    "products",
    "categories",
    "brands",
    "exclude_products",
    "exclude_categories",
    "exclude_brands",
)
INTEGER_LIMITS = ("max_redemptions", "per_customer", "quota_units", "per_customer_units")
PARAM_LABELS: dict[str, str] = {
    "tiers": N_("Tiers"),
    "percent": N_("Percent off"),
    "applies_to": N_("Applies to"),
    "max_discount": N_("Largest discount per order"),
    "amount": N_("Amount off"),
    "per": N_("Taken off"),
    "every": N_("For every"),
    "save": N_("Amount saved"),
    "buy": N_("Buy (units)"),
    "get": N_("Get (units)"),
    "max_applications": N_("At most this many times per order"),
    "n": N_("Every Nth unit"),
    "sku": N_("Gift SKU"),
    "quantity": N_("Gift quantity"),
    "methods": N_("Shipping methods (empty: all)"),
    "max_fee": N_("Largest fee covered"),
    "price": N_("Sale price per unit"),
}
MONEY_PARAMS = frozenset({"max_discount", "amount", "every", "save", "max_fee", "price"})


def label(labels: Mapping[str, str], value: str | None) -> str:
    if value is None:
        return ""
    known = labels.get(value)
    return gettext(known) if known is not None else value


def reason_label(reason: str) -> str:
    if reason.startswith("not_combinable_with:"):
        other = reason.split(":", 1)[1]
        return _("Not combinable with promotion %(id)s", id=other)
    return label(REASON_LABELS, reason)


# --- small parsers ----------------------------------------------------------------------


def _integer(errors: FormErrors, key: str, raw: str, *, minimum: int = 0) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.add(key, "validation.not_integer")
        return None
    if value < minimum:
        errors.add(key, "validation.not_positive" if minimum > 0 else "validation.negative")
        return None
    return value


def _ids(errors: FormErrors, key: str, raw: str) -> list[int]:
    parts = [p for p in re.split(r"[\s,]+", raw) if p]
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        errors.add(key, "promotions.invalid_ids")
        return []
    return sorted({int(p) for p in parts})


def _texts(raw: str) -> list[str]:
    return sorted({p.strip() for p in raw.split(",") if p.strip()})


def local_moment(errors: FormErrors, key: str, raw: str, tz: str) -> datetime | None:
    """A ``datetime-local`` value in the store's time zone, as an aware datetime."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        errors.add(key, "validation.invalid_datetime")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment


def _clock(errors: FormErrors, key: str, raw: str) -> str | None:
    if not raw:
        return None
    try:
        return time.fromisoformat(raw).isoformat("minutes")
    except ValueError:
        errors.add(key, "validation.invalid_time")
        return None


def local_input(value: str | datetime | None, tz: str) -> str:
    """An ISO moment back into a ``datetime-local`` value in the store's time zone."""
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


# --- the promotion form -------------------------------------------------------------------


@dataclass
class PromotionForm:
    """What the form shows and sends: flat values keyed like the definition's paths."""

    values: dict[str, str] = field(default_factory=dict)
    weekdays: list[int] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)  # checked boxes

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    @property
    def kind(self) -> str:
        return self.get("kind", "percentage")

    @classmethod
    def blank(cls, currency: str) -> PromotionForm:
        return cls(
            values={
                "kind": "percentage",
                "currency": currency,
                "params.applies_to": "items",
                "params.per": "order",
                "stacking.priority": "100",
            }
        )

    @classmethod
    def of(cls, form: FormData) -> PromotionForm:
        values: dict[str, str] = {}
        for key, value in form.multi_items():
            if isinstance(value, str) and key not in {"schedule.weekdays", "conditions.channels"}:
                values[key] = value.strip()
        days = [str(v) for v in form.getlist("schedule.weekdays")]
        weekdays = [int(v) for v in days if v in set("0123456")]
        channels = [str(v) for v in form.getlist("conditions.channels")]
        flags = {
            key
            for key in (
                "requires_coupon",
                "activate",
                "conditions.first_order_only",
                "stacking.exclusive",
            )
            if form.get(key)
        }
        return cls(values, sorted(set(weekdays)), channels, flags)

    @classmethod
    def of_definition(cls, definition: Mapping[str, Any], tz: str) -> PromotionForm:
        """Pre-filled from a stored (canonical) definition, for editing."""
        values: dict[str, str] = {
            "name": str(definition.get("name") or ""),
            "description": str(definition.get("description") or ""),
            "kind": str(definition["kind"]),
            "currency": str(definition.get("currency") or ""),
        }
        params = dict(definition.get("params") or {})
        for key, value in params.items():
            if key == "tiers":
                for index, tier in enumerate(value):
                    values[f"params.tiers.{index}.spend"] = str(tier.get("spend") or "")
                    values[f"params.tiers.{index}.save"] = str(tier.get("save") or "")
            elif isinstance(value, list):
                values[f"params.{key}"] = ", ".join(str(v) for v in value)
            elif value is not None:
                values[f"params.{key}"] = str(value)
        values.setdefault("params.applies_to", "items")
        values.setdefault("params.per", "order")
        for key, value in dict(definition.get("scope") or {}).items():
            values[f"scope.{key}"] = ", ".join(str(v) for v in value)
        schedule = dict(definition.get("schedule") or {})
        values["schedule.starts_at"] = local_input(schedule.get("starts_at"), tz)
        values["schedule.ends_at"] = local_input(schedule.get("ends_at"), tz)
        recurring = schedule.get("recurring") or {}
        values["schedule.start_time"] = str(recurring.get("start_time") or "")
        values["schedule.end_time"] = str(recurring.get("end_time") or "")
        conditions = dict(definition.get("conditions") or {})
        values["conditions.min_spend"] = str(conditions.get("min_spend") or "")
        values["conditions.min_quantity"] = str(conditions.get("min_quantity") or "")
        values["conditions.tiers"] = ", ".join(conditions.get("tiers") or [])
        values["conditions.segments"] = ", ".join(conditions.get("segments") or [])
        stacking = dict(definition.get("stacking") or {})
        values["stacking.group"] = str(stacking.get("group") or "")
        values["stacking.priority"] = str(stacking.get("priority", 100))
        combinable = stacking.get("combinable_with")
        values["stacking.combinable_with"] = (
            "" if combinable is None else ", ".join(str(v) for v in combinable)
        )
        for key, value in dict(definition.get("limits") or {}).items():
            values[f"limits.{key}"] = "" if value is None else str(value)
        flags = set()
        if definition.get("requires_coupon"):
            flags.add("requires_coupon")
        if conditions.get("first_order_only"):
            flags.add("conditions.first_order_only")
        if stacking.get("exclusive"):
            flags.add("stacking.exclusive")
        return cls(
            values,
            sorted(recurring.get("weekdays") or []),
            list(conditions.get("channels") or []),
            flags,
        )

    def tier_rows(self) -> int:
        filled = [
            i
            for i in range(50)
            if self.get(f"params.tiers.{i}.spend") or self.get(f"params.tiers.{i}.save")
        ]
        return max(TIER_ROWS, (filled[-1] + 2) if filled else 0)


def _params(form: PromotionForm, errors: FormErrors) -> dict[str, Any]:
    kind = form.kind
    params: dict[str, Any] = {}
    for name in PARAMS.get(kind, ()):
        key = f"params.{name}"
        raw = form.get(key)
        if name == "tiers":
            tiers = []
            for index in range(form.tier_rows()):
                spend = form.get(f"params.tiers.{index}.spend")
                save = form.get(f"params.tiers.{index}.save")
                if spend or save:
                    tier = {"spend": spend or None, "save": save or None}
                    tiers.append({k: v for k, v in tier.items() if v is not None})
            params["tiers"] = tiers
        elif name in CHOICES:
            params[name] = raw or CHOICES[name][0]
        elif name in LIST_PARAMS:
            params[name] = _texts(raw)
        elif name in INTEGER_PARAMS:
            params[name] = _integer(errors, key, raw)
        else:
            params[name] = raw or None
    return params


def definition_of(form: PromotionForm, tz: str, errors: FormErrors) -> dict[str, Any]:
    """The promotion definition the form describes; unreadable inputs go into ``errors``."""
    starts = local_moment(errors, "schedule.starts_at", form.get("schedule.starts_at"), tz)
    ends = local_moment(errors, "schedule.ends_at", form.get("schedule.ends_at"), tz)
    start_time = _clock(errors, "schedule.start_time", form.get("schedule.start_time"))
    end_time = _clock(errors, "schedule.end_time", form.get("schedule.end_time"))
    recurring = None
    if form.weekdays or start_time or end_time:
        recurring = {
            "weekdays": form.weekdays,
            "days_of_month": [],
            "start_time": start_time,
            "end_time": end_time,
            "timezone": tz,
        }
    combinable_raw = form.get("stacking.combinable_with")
    combinable: list[int | str] | None = None
    if combinable_raw:
        combinable = [int(v) if v.isdigit() else v for v in _texts(combinable_raw)]
    priority = _integer(errors, "stacking.priority", form.get("stacking.priority"))
    return {
        "name": form.get("name"),
        "description": form.get("description"),
        "kind": form.kind,
        "currency": form.get("currency").upper() or None,
        "params": _params(form, errors),
        "scope": {
            name: _ids(errors, f"scope.{name}", form.get(f"scope.{name}")) for name in SCOPE_FIELDS
        },
        "schedule": {
            "starts_at": None if starts is None else starts.isoformat(),
            "ends_at": None if ends is None else ends.isoformat(),
            "recurring": recurring,
        },
        "conditions": {
            "min_spend": form.get("conditions.min_spend") or None,
            "min_quantity": _integer(
                errors, "conditions.min_quantity", form.get("conditions.min_quantity")
            ),
            "channels": sorted(set(form.channels)),
            "tiers": _texts(form.get("conditions.tiers")),
            "segments": _texts(form.get("conditions.segments")),
            "first_order_only": "conditions.first_order_only" in form.flags,
        },
        "requires_coupon": "requires_coupon" in form.flags,
        "stacking": {
            "group": form.get("stacking.group"),
            "priority": 100 if priority is None else priority,
            "exclusive": "stacking.exclusive" in form.flags,
            "combinable_with": combinable,
        },
        "limits": {
            "max_discount": form.get("limits.max_discount") or None,
            **{
                name: _integer(errors, f"limits.{name}", form.get(f"limits.{name}"))
                for name in INTEGER_LIMITS
            },
        },
    }


def form_keys(form: PromotionForm) -> set[str]:
    """Every input the form shows for its kind (where errors can be placed)."""
    keys = {"name", "description", "kind", "currency", "requires_coupon"}
    for name in PARAMS.get(form.kind, ()):
        if name == "tiers":
            for index in range(form.tier_rows()):
                keys |= {
                    f"params.tiers.{index}",
                    f"params.tiers.{index}.spend",
                    f"params.tiers.{index}.save",
                }
            keys.add("params.tiers")
        else:
            keys.add(f"params.{name}")
    keys |= {f"scope.{name}" for name in SCOPE_FIELDS}
    keys |= {
        "schedule.starts_at",
        "schedule.ends_at",
        "schedule.weekdays",
        "schedule.start_time",
        "schedule.end_time",
        "conditions.min_spend",
        "conditions.min_quantity",
        "conditions.channels",
        "conditions.tiers",
        "conditions.segments",
        "conditions.first_order_only",
        "stacking.group",
        "stacking.priority",
        "stacking.exclusive",
        "stacking.combinable_with",
        "limits.max_discount",
        *(f"limits.{name}" for name in INTEGER_LIMITS),
    }
    return keys


def _place(problem: FieldError) -> tuple[str, str]:
    """Where a definition problem shows, and the code whose message explains it there."""
    path, code = problem.field, problem.code
    if path.startswith("schedule.recurring"):
        rest = path.removeprefix("schedule.recurring").lstrip(".")
        key = {"start_time": "schedule.start_time", "end_time": "schedule.end_time"}.get(
            rest, "schedule.weekdays"
        )
        return key, "promotions.invalid_recurrence"
    if code == "promotions.invalid_amount" and path.endswith(".save"):
        return path, "promotions.invalid_save"
    if code == "promotions.invalid_params" and path.startswith("params.tiers"):
        return path, "promotions.invalid_tiers"
    return path, code


def definition_errors(error: DomainError, form: PromotionForm, errors: FormErrors) -> None:
    """Put each problem of a refused definition beside its input (the rest above the form)."""
    keys = form_keys(form)
    problems = error.errors or [FieldError("", error.code, error.message)]
    for problem in problems:
        key, code = _place(problem)
        if error.code == "promotions.overlapping_schedule":
            key = "schedule.starts_at"
        if key in keys:
            errors.add(key, code, problem.message)
        else:
            text = errors.get("_form")
            extra = f"{problem.field}: {problem.message}" if problem.field else ""
            message = error_message(code, extra or problem.message)
            errors.fields["_form"] = f"{text} · {message}" if text else message


def error_message(code: str, fallback: str) -> str:
    return error_text(code, fallback)


# --- actions ------------------------------------------------------------------------------


def create(current: Staff, form: PromotionForm, definition: dict[str, Any]) -> int:
    """A new promotion (a draft, or active at once when asked); nothing is kept on a refusal."""
    with current.uow() as uow:
        view = promotions.create_promotion(uow, promotions.CreatePromotion(definition))
        if "activate" in form.flags:
            promotions.activate_promotion(uow, view.id)
        uow.commit()
    return view.id


def update(current: Staff, promotion_id: int, definition: dict[str, Any]) -> None:
    changes = {key: value for key, value in definition.items() if key != "kind"}
    with current.uow() as uow:
        promotions.update_promotion(uow, promotions.UpdatePromotion(promotion_id, changes))
        uow.commit()


def check(current: Staff, definition: dict[str, Any]) -> None:
    """Every problem of a definition (raised), without writing anything."""
    with current.uow() as uow:
        promotions.validate_definition(uow, definition)


def switch(current: Staff, promotion_id: int, *, on: bool) -> promotions.PromotionView:
    with current.uow() as uow:
        if on:
            view = promotions.activate_promotion(uow, promotion_id)
        else:
            view = promotions.deactivate_promotion(uow, promotion_id)
        uow.commit()
    return view


# --- the list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PromotionList:
    items: list[promotions.PromotionView]
    next_after: int | None


def read_list(
    current: Staff, *, status: str | None, kind: str | None, after: int | None
) -> PromotionList:
    query = promotions.ListPromotions(status, kind, after, PAGE_SIZE + 1)
    with current.uow() as uow:
        found = promotions.list_promotions(uow, query)
    more = len(found) > PAGE_SIZE
    return PromotionList(found[:PAGE_SIZE], found[PAGE_SIZE - 1].id if more else None)


def moment(value: str | None) -> datetime | None:
    """A stored ISO moment as a datetime (for when())."""
    return None if not value else datetime.fromisoformat(value)


def minor(amount: str | None, currency: str | None) -> int | None:
    """A stored decimal amount back in minor units (for money())."""
    if amount is None or currency is None:
        return None
    return to_minor(amount, currency)


# --- a promotion --------------------------------------------------------------------------


@dataclass(frozen=True)
class PromotionPage:
    promotion: promotions.PromotionView
    performance: promotions.PromotionPerformance
    coupons: list[promotions.CouponView]
    coupons_next: int | None


def read_promotion(current: Staff, promotion_id: int, coupons_after: int | None) -> PromotionPage:
    with current.uow() as uow:
        view = promotions.get_promotion(uow, promotion_id)
        report = promotions.promotion_performance(uow, promotion_id)
        found = promotions.list_coupons(
            uow, promotions.ListCoupons(promotion_id, None, coupons_after, COUPON_PAGE + 1)
        )
    more = len(found) > COUPON_PAGE
    return PromotionPage(
        view, report, found[:COUPON_PAGE], found[COUPON_PAGE - 1].id if more else None
    )


def get(current: Staff, promotion_id: int) -> promotions.PromotionView:
    with current.uow() as uow:
        return promotions.get_promotion(uow, promotion_id)


@dataclass
class CouponForm:
    values: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    @classmethod
    def of(cls, form: FormData) -> CouponForm:
        return cls({k: v.strip() for k, v in form.multi_items() if isinstance(v, str)})


def coupon_terms(
    form: CouponForm, tz: str, errors: FormErrors, *, default_uses: int | None
) -> promotions.CouponTerms:
    raw_uses = form.get("max_uses")
    max_uses = _integer(errors, "max_uses", raw_uses, minimum=1) if raw_uses else default_uses
    return promotions.CouponTerms(
        max_uses=max_uses,
        per_customer_limit=_integer(
            errors, "per_customer_limit", form.get("per_customer_limit"), minimum=1
        ),
        min_spend=form.get("min_spend") or None,
        starts_at=local_moment(errors, "starts_at", form.get("starts_at"), tz),
        ends_at=local_moment(errors, "ends_at", form.get("ends_at"), tz),
    )


def coupon_errors(error: DomainError, errors: FormErrors, keys: set[str]) -> None:
    problems = error.errors or [FieldError("", error.code, error.message)]
    for problem in problems:
        key = problem.field if problem.field in keys else "_form"
        if error.code == "coupons.code_taken":
            key = "code"
        errors.add(key, problem.code, problem.message)


def create_coupon(
    current: Staff, promotion_id: int, code: str, terms: promotions.CouponTerms
) -> str:
    with current.uow() as uow:
        view = promotions.create_coupon(uow, promotions.CreateCoupon(promotion_id, code, terms))
        uow.commit()
    return view.code


def generate(
    current: Staff,
    promotion_id: int,
    *,
    count: int,
    name: str,
    prefix: str,
    length: int,
    terms: promotions.CouponTerms,
) -> promotions.BatchView:
    with current.uow() as uow:
        batch = promotions.generate_coupons(
            uow,
            promotions.GenerateCoupons(
                promotion_id, count, name=name, prefix=prefix, length=length, terms=terms
            ),
        )
        uow.commit()
    return batch


# --- the simulator ------------------------------------------------------------------------

ENDED_WITHOUT_SALE = (orders.OrderStatus.CANCELLED, orders.OrderStatus.CLOSED)


@dataclass
class SimulatorForm:
    currency: str
    lines: list[tuple[str, str]]  # (sku, quantity) as typed
    customer_id: str = ""
    coupons: str = ""
    channel: str = "web"
    shipping_method: str = "standard"
    shipping_fee: str = ""
    first_order: str = "auto"  # auto, yes or no

    @property
    def submitted(self) -> bool:
        return any(sku or quantity for sku, quantity in self.lines)

    def rows(self) -> list[tuple[str, str]]:
        """The lines as typed, then blank rows: at least one, and at least SIMULATOR_ROWS."""
        filled = [i for i, (sku, quantity) in enumerate(self.lines) if sku or quantity]
        wanted = max(SIMULATOR_ROWS, (filled[-1] + 2) if filled else 0)
        padded = list(self.lines[:wanted])
        while len(padded) < wanted:
            padded.append(("", ""))
        return padded


def first_order(uow: UnitOfWork, customer_id: int | None, answer: str) -> bool:
    """The caller's answer, else (as the quote API): a customer with no order that went ahead."""
    if answer in {"yes", "no"}:
        return answer == "yes"
    if customer_id is None:
        return False
    earlier = orders.search(
        uow.session,
        orders.OrderFilter(
            customer_id=customer_id,
            status=[s for s in orders.OrderStatus if s not in ENDED_WITHOUT_SALE],
            limit=1,
        ),
    )
    return not earlier


def simulate(
    current: Staff, form: SimulatorForm, errors: FormErrors
) -> promotions.PricedCart | None:
    """The cart priced by the same entry point as ``POST /v1/pricing/quote``; nothing is written."""
    lines: list[promotions.PricingLine] = []
    positions: list[int] = []  # the form row of each priced line
    for index, (sku, quantity) in enumerate(form.lines):
        if not sku and not quantity:
            continue
        if not sku:
            errors.add(f"lines.{index}.sku", "validation.required")
            continue
        amount = _integer(errors, f"lines.{index}.quantity", quantity or "1", minimum=1)
        if amount is not None:
            lines.append(promotions.PricingLine(sku, amount))
            positions.append(index)
    customer_id = _integer(errors, "customer_id", form.customer_id, minimum=1)
    fee = 0
    if form.shipping_fee:
        try:
            fee = to_minor(form.shipping_fee, form.currency or "USD")
        except ValidationFailed:
            errors.add("shipping_fee", "validation.invalid_amount")
        else:
            if fee < 0:
                errors.add("shipping_fee", "validation.negative")
    codes = tuple(c for c in re.split(r"[\s,]+", form.coupons) if c)
    if not lines and not errors:
        errors.add("lines", "pricing.empty_cart")
    if errors:
        return None
    try:
        with current.uow() as uow:
            request = promotions.PricingRequest(
                lines=tuple(lines),
                customer_id=customer_id,
                channel=form.channel or "web",
                coupon_codes=codes,
                shipping_method=form.shipping_method or "standard",
                shipping_fee_minor=fee,
                first_order=first_order(uow, customer_id, form.first_order),
                currency=form.currency or None,
                member_discounts=orders.member_discounts(uow) if customer_id else (),
            )
            return promotions.quote(uow, request)
    except DomainError as refused:
        problems = refused.errors or [FieldError("", refused.code, refused.message)]
        for problem in problems:
            errors.add(
                _line_key(problem, refused.code, form, positions), problem.code, problem.message
            )
        return None


def _line_key(problem: FieldError, code: str, form: SimulatorForm, positions: list[int]) -> str:
    """Where a pricing problem shows on the simulator form."""
    path = problem.field
    if path.startswith("coupon_codes"):
        return "coupons"
    found = re.fullmatch(r"lines\.(\d+)\.(sku|quantity)", path)
    if found and int(found.group(1)) < len(positions):
        return f"lines.{positions[int(found.group(1))]}.{found.group(2)}"
    if problem.code == "pricing.unknown_sku":
        for index, (sku, _quantity) in enumerate(form.lines):
            if sku and f"'{sku}'" in problem.message:
                return f"lines.{index}.sku"
    if path in {"currency", "shipping", "customer_id"}:
        return "shipping_fee" if path == "shipping" else path
    if code == "pricing.unknown_customer":
        return "customer_id"
    return "lines" if path.startswith("lines") else "_form"
