"""promotions and coupons: definitions from JSON, activation, the pricing simulator,
performance, coupon batches.

Definitions and carts are the same JSON the API takes (see docs/promotions.md);
amounts are decimal strings in the promotion's or cart's currency.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import orders, promotions
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed
from shopops.kernel.events import jsonable
from shopops.kernel.money import to_major, to_minor

promotions_app = typer.Typer(
    help="Promotions: definitions, activation, quotes, performance.", no_args_is_help=True
)
coupons_app = typer.Typer(
    help="Coupon codes: public codes and generated batches.", no_args_is_help=True
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
LIST_HEADERS = [
    "id",
    "name",
    "kind",
    "status",
    "group",
    "priority",
    "exclusive",
    "starts_at",
    "ends_at",
    "redemptions",
]
COUPON_HEADERS = ["id", "code", "promotion", "batch", "active", "used", "max_uses", "ends_at"]
PERFORMANCE_HEADERS = [
    "id",
    "name",
    "status",
    "redemptions",
    "released",
    "currency",
    "orders",
    "discount",
    "gmv",
    "budget_used",
    "units_sold",
]


def _read_json(path: str) -> dict[str, Any]:
    """A JSON object from a file, or from standard input for "-"."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, json.JSONDecodeError) as error:
        raise ValidationFailed("promotions.invalid_file", f"{path}: {error}") from None
    if not isinstance(document, dict):
        raise ValidationFailed("promotions.invalid_file", f"{path}: expected a JSON object")
    return document


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(data), ensure_ascii=False, indent=2) + "\n")


# --- promotions ---------------------------------------------------------------------------


@promotions_app.command("list")
def list_promotions(
    status: str | None = typer.Option(None, help="draft, active or inactive."),
    kind: str | None = typer.Option(None, help="percentage, spend_tiers, flash_price ..."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Promotions by id."""
    rows: list[tuple[object, ...]] = []
    after: int | None = None
    with state.uow() as uow:
        while True:
            page = promotions.list_promotions(
                uow, promotions.ListPromotions(status, kind, after, 500)
            )
            for view in page:
                d = view.definition
                rows.append(
                    (
                        view.id,
                        d["name"],
                        d["kind"],
                        view.status,
                        d["stacking"]["group"],
                        d["stacking"]["priority"],
                        d["stacking"]["exclusive"],
                        d["schedule"]["starts_at"],
                        d["schedule"]["ends_at"],
                        view.redemptions_used,
                    )
                )
            if len(page) < 500:
                break
            after = page[-1].id
    emit_rows(rows, LIST_HEADERS, fmt, "Promotions")


@promotions_app.command("create")
def create_promotion(
    file: str = typer.Argument(..., help="JSON definition file, or - for standard input."),
    activate: bool = typer.Option(False, "--activate", help="Activate it right away."),
) -> None:
    """Create a promotion from a JSON definition (a draft unless --activate)."""
    definition = _read_json(file)
    with state.uow() as uow:
        view = promotions.create_promotion(uow, promotions.CreatePromotion(definition))
        if activate:
            view = promotions.activate_promotion(uow, view.id)
        uow.commit()
    console.print(f"created promotion {view.id} '{view.name}' ({view.kind}), {view.status}")


@promotions_app.command("update")
def update_promotion(
    promotion_id: int,
    file: str = typer.Argument(..., help="JSON with the fields to change, or -."),
) -> None:
    """Change a promotion: top-level fields replace, sections merge key by key."""
    changes = _read_json(file)
    with state.uow() as uow:
        view = promotions.update_promotion(uow, promotions.UpdatePromotion(promotion_id, changes))
        uow.commit()
    console.print(f"promotion {view.id} is at revision {view.revision}")


@promotions_app.command("activate")
def activate(promotion_id: int) -> None:
    with state.uow() as uow:
        view = promotions.activate_promotion(uow, promotion_id)
        uow.commit()
    console.print(f"promotion {view.id} is {view.status}")


@promotions_app.command("deactivate")
def deactivate(promotion_id: int) -> None:
    with state.uow() as uow:
        view = promotions.deactivate_promotion(uow, promotion_id)
        uow.commit()
    console.print(f"promotion {view.id} is {view.status}")


@promotions_app.command("show")
def show(promotion_id: int) -> None:
    """The definition, status and usage as JSON."""
    with state.uow() as uow:
        view = promotions.get_promotion(uow, promotion_id)
    _print_json(
        {
            "id": view.id,
            "status": view.status,
            "revision": view.revision,
            **view.definition,
            "usage": {
                "redemptions_used": view.redemptions_used,
                "discount_used_minor": view.discount_used_minor,
                "units_sold": view.units_sold,
            },
        }
    )


def _minor(errors: FieldErrorCollector, name: str, value: Any, currency: str) -> int:
    try:
        return to_minor(str(value), currency)
    except ValidationFailed as problem:
        errors.add(name, problem.code, problem.message)
        return 0


def _rate(errors: FieldErrorCollector, value: Any) -> int:
    try:
        scaled = Decimal(str(value)) * 100
        if scaled != scaled.to_integral_value():
            raise InvalidOperation
    except InvalidOperation:
        errors.add("tax_rate", "pricing.invalid_tax_rate", "a percentage with two decimals")
        return 0
    return int(scaled)


def _cart(document: dict[str, Any]) -> promotions.PricingRequest:
    """The API's quote body as a pricing request (amounts in the cart's currency)."""
    errors = FieldErrorCollector()
    currency = str(document.get("currency") or "")
    if not currency:
        errors.add("currency", "validation.required", "the cart's currency, e.g. CNY")
        errors.raise_if_any()
    lines = []
    for index, line in enumerate(document.get("lines") or []):
        if not isinstance(line, dict) or not isinstance(line.get("quantity"), int):
            errors.add(f"lines.{index}", "validation.invalid", "{sku, quantity}")
            continue
        lines.append(promotions.PricingLine(str(line.get("sku", "")), line["quantity"]))
    shipping = document.get("shipping") or {}
    points = document.get("points") or {}
    at = document.get("at")
    request = promotions.PricingRequest(
        lines=tuple(lines),
        customer_id=document.get("customer_id"),
        channel=str(document.get("channel", "web")),
        coupon_codes=tuple(document.get("coupon_codes") or ()),
        shipping_method=str(shipping.get("method", "standard")),
        shipping_fee_minor=_minor(errors, "shipping.fee", shipping.get("fee", "0"), currency),
        points=int(points.get("points", 0)),
        point_value_minor=_minor(errors, "points.value", points.get("value", "0.01"), currency),
        points_per_value=int(points.get("per", 1)),
        first_order=bool(document.get("first_order", False)),
        tax_rate_bp=_rate(errors, document.get("tax_rate", "0")),
        floor=str(document.get("floor", "cost")),
        at=datetime.fromisoformat(at) if isinstance(at, str) else None,
        currency=currency,
    )
    errors.raise_if_any()
    return request


@promotions_app.command("quote")
def quote(
    file: str = typer.Argument(..., help="Cart JSON (the API's quote body), or -."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Price a cart against the active promotions and explain every one of them
    (a customer's cart with the discount of their loyalty tier, as at checkout)."""
    request = _cart(_read_json(file))
    with state.uow() as uow:
        if request.customer_id is not None:
            request = replace(request, member_discounts=orders.member_discounts(uow))
        priced = promotions.quote(uow, request)
    if fmt == OutputFormat.JSON:
        _print_json(priced.as_dict(explanation=True))
        return
    currency = priced.currency

    def money(minor: int) -> str:
        return str(to_major(minor, currency))

    emit_rows(
        [
            (
                line.sku,
                line.quantity,
                money(line.unit_price_minor),
                money(line.discount_minor),
                money(line.points_minor),
                money(line.total_minor),
                line.gift_of or "",
            )
            for line in priced.lines
        ],
        ["sku", "quantity", "unit_price", "discount", "points", "total", "gift_of"],
        fmt,
        "Lines",
    )
    emit_rows(
        [
            (c.promotion_id, c.name, c.reason, money(c.discount_minor), c.message)
            for c in priced.explanation
        ],
        ["promotion", "name", "reason", "discount", "detail"],
        fmt,
        "Explanation",
    )
    console.print(
        f"subtotal {money(priced.subtotal_minor)}  discount {money(priced.discount_minor)}  "
        f"shipping {money(priced.shipping_minor - priced.shipping_discount_minor)}  "
        f"points {money(priced.points_minor)}  total {money(priced.total_minor)} {currency} "
        f"(tax included {money(priced.tax_minor)})"
    )


@promotions_app.command("performance")
def performance(
    promotion_id: int | None = typer.Argument(None, help="One promotion; all when omitted."),
    status: str | None = typer.Option(None, help="Only promotions in this status."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Redemptions, discount cost, orders and GMV with each promotion, budget and quota used."""
    with state.uow() as uow:
        if promotion_id is not None:
            reports = [promotions.promotion_performance(uow, promotion_id)]
        else:
            reports = promotions.performance_report(
                uow, promotions.ListPromotions(status=status, limit=500)
            )
    rows: list[tuple[object, ...]] = []
    for report in reports:
        budget = None
        for c in report.by_currency or (promotions.CurrencyPerformance("-", 0, 0, 0, 0),):
            if report.budget_minor is not None and c.currency != "-":
                budget = _major(report.budget_used_minor, c.currency)
            rows.append(
                (
                    report.promotion_id,
                    report.name,
                    report.status,
                    report.redemptions,
                    report.released,
                    c.currency,
                    c.orders,
                    _major(c.discount_minor, c.currency),
                    _major(c.gmv_minor, c.currency),
                    budget,
                    report.units_sold,
                )
            )
    emit_rows(rows, PERFORMANCE_HEADERS, fmt, "Promotion performance")


def _major(minor: int, currency: str) -> str:
    return "0" if currency == "-" else str(to_major(minor, currency))


# --- coupons ------------------------------------------------------------------------------


def _terms(
    max_uses: int | None, per_customer: int | None, min_spend: str | None, ends_at: datetime | None
) -> promotions.CouponTerms:
    return promotions.CouponTerms(
        max_uses=max_uses, per_customer_limit=per_customer, min_spend=min_spend, ends_at=ends_at
    )


@coupons_app.command("create")
def create_coupon(
    promotion_id: int,
    code: str,
    max_uses: int | None = typer.Option(None, help="Empty: unlimited."),
    per_customer: int | None = typer.Option(None, help="Uses per customer."),
    min_spend: str | None = typer.Option(None, help="Decimal, in the promotion's currency."),
    ends_at: datetime | None = typer.Option(None, help="ISO 8601 with an offset."),
) -> None:
    """A public code such as SPRING10."""
    command = promotions.CreateCoupon(
        promotion_id, code, _terms(max_uses, per_customer, min_spend, ends_at)
    )
    with state.uow() as uow:
        view = promotions.create_coupon(uow, command)
        uow.commit()
    console.print(f"created coupon {view.code} for promotion {view.promotion_id}")


@coupons_app.command("generate")
def generate(
    promotion_id: int,
    count: int = typer.Option(..., "--count", "-n", help="How many codes (up to 100,000)."),
    prefix: str = typer.Option("", help="Up to 12 letters and digits."),
    length: int = typer.Option(10, help="Random characters per code."),
    name: str = typer.Option("", help="A name for the batch."),
    max_uses: int | None = typer.Option(1, help="Uses per code."),
    per_customer: int | None = typer.Option(None),
    min_spend: str | None = typer.Option(None),
    ends_at: datetime | None = typer.Option(None),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the codes here."),
) -> None:
    """Generate a batch of unique codes; they are printed (or written) one per line."""
    command = promotions.GenerateCoupons(
        promotion_id,
        count,
        name=name,
        prefix=prefix,
        length=length,
        terms=_terms(max_uses, per_customer, min_spend, ends_at),
    )
    with state.uow() as uow:
        batch = promotions.generate_coupons(uow, command)
        uow.commit()
    text = "".join(f"{code}\n" for code in batch.codes)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"batch {batch.id}: {batch.size} codes written to {output}")


@coupons_app.command("list")
def list_coupons(
    promotion: int | None = typer.Option(None, "--promotion", help="Only this promotion."),
    batch: int | None = typer.Option(None, "--batch", help="Only this batch."),
    limit: int = typer.Option(1000, min=1, max=100_000),
    fmt: OutputFormat = FORMAT,
) -> None:
    rows: list[tuple[object, ...]] = []
    after: int | None = None
    with state.uow() as uow:
        while len(rows) < limit:
            page = promotions.list_coupons(
                uow, promotions.ListCoupons(promotion, batch, after, min(1000, limit - len(rows)))
            )
            rows += [
                (
                    c.id,
                    c.code,
                    c.promotion_id,
                    c.batch_id,
                    c.is_active,
                    c.used,
                    c.max_uses,
                    c.ends_at,
                )
                for c in page
            ]
            if not page or len(page) < 1000:
                break
            after = page[-1].id
    emit_rows(rows, COUPON_HEADERS, fmt, "Coupons")
