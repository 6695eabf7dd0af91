"""shipping: methods and their rate table, and fee quotes.

Acts as the system operator unless `--as EMAIL` is given (then `shipping.read` to read
and quote, `shipping.manage` to change). Fees are decimal amounts in the store
currency. A rate is written DEST:FEE[:FREE_OVER], DEST being a country (`CN`), a
country and region (`CN/CN-XZ`) or `*` for anywhere: `--rate CN:8.00:150.00`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import shipping
from shopops.kernel.money import to_major

shipping_app = typer.Typer(
    help="Shipping methods, their rates per destination, and fee quotes.", no_args_is_help=True
)
methods_app = typer.Typer(help="Shipping methods and their rates.", no_args_is_help=True)
rates_app = typer.Typer(help="The rates of one shipping method.", no_args_is_help=True)
shipping_app.add_typer(methods_app, name="methods")
shipping_app.add_typer(rates_app, name="rates")

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
METHOD_HEADERS = ["code", "name", "active", "sort_order", "rates"]
RATE_HEADERS = ["id", "country", "region", "fee", "free_over", "currency"]


def _money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else str(to_major(minor, currency))


def _rate_cells(rate: shipping.Rate) -> list[object]:
    c = rate.currency
    return [
        rate.id,
        rate.country,
        rate.region,
        _money(rate.fee_minor, c),
        _money(rate.free_over_minor, c),
        c,
    ]


def _rate_text(rate: shipping.Rate) -> str:
    where = f"{rate.country}/{rate.region}" if rate.region else rate.country
    text = f"{where} {_money(rate.fee_minor, rate.currency)}"
    if rate.free_over_minor is not None:
        text += f" (free over {_money(rate.free_over_minor, rate.currency)})"
    return text


def _method_document(method: shipping.Method) -> dict[str, Any]:
    return {
        "code": method.code,
        "name": method.name,
        "active": method.is_active,
        "sort_order": method.sort_order,
        "rates": [dict(zip(RATE_HEADERS, _rate_cells(r), strict=True)) for r in method.rates],
    }


def parse_rate(spec: str) -> shipping.RateInput:
    """``CN:8.00``, ``CN/CN-XZ:25.00``, ``*:60.00:500`` -> a rate (checked by the service)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
        raise typer.BadParameter(
            f"'{spec}': use DEST:FEE[:FREE_OVER], e.g. CN:8.00:150.00 or CN/CN-XZ:25.00",
            param_hint="--rate",
        )
    country, _, region = parts[0].partition("/")
    return shipping.RateInput(
        country=country,
        fee=parts[1],
        region=region or None,
        free_over=parts[2] if len(parts) == 3 else None,
    )


@methods_app.command("list")
def list_methods(
    active_only: bool = typer.Option(False, "--active-only", help="Only what checkouts offer."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Every method with its rates, in sort order."""
    with state.uow() as uow:
        methods = shipping.list_methods(uow, include_inactive=not active_only)
    if fmt == OutputFormat.JSON:
        document = [_method_document(m) for m in methods]
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    rows = [
        [m.code, m.name, m.is_active, m.sort_order, "; ".join(_rate_text(r) for r in m.rates)]
        for m in methods
    ]
    emit_rows(rows, METHOD_HEADERS, fmt, "Shipping methods")


@methods_app.command("show")
def show(code: str, fmt: OutputFormat = FORMAT) -> None:
    """One method's rates, with their ids."""
    with state.uow() as uow:
        method = shipping.get_method(uow, code)
    state_word = "active" if method.is_active else "off"
    if fmt == OutputFormat.TABLE:
        console.print(
            f"{method.code}: {method.name} ({state_word}, sort order {method.sort_order})"
        )
    emit_rows([_rate_cells(r) for r in method.rates], RATE_HEADERS, fmt, f"{method.code} rates")


@methods_app.command("create")
def create(
    code: str = typer.Argument(..., help="What checkouts send: lowercase, e.g. standard."),
    name: str = typer.Option(..., "--name", help="Shown to staff and buyers."),
    rates: list[str] = typer.Option(
        [], "--rate", help="DEST:FEE[:FREE_OVER], e.g. CN:8.00:150.00; repeat for several."
    ),
    sort_order: int = typer.Option(0, "--sort-order", help="Lowest first; first active: default."),
    inactive: bool = typer.Option(False, "--inactive", help="Create it switched off."),
) -> None:
    """Create a shipping method with its rates."""
    command = shipping.CreateShippingMethod(
        code=code,
        name=name,
        is_active=not inactive,
        sort_order=sort_order,
        rates=tuple(parse_rate(spec) for spec in rates),
    )
    with state.uow() as uow:
        method = shipping.create_method(uow, command)
        uow.commit()
    console.print(f"shipping method {method.code} created with {len(method.rates)} rate(s)")


@methods_app.command("update")
def update(
    code: str,
    name: str | None = typer.Option(None, "--name"),
    active: bool | None = typer.Option(None, "--active/--inactive", help="Switch on or off."),
    sort_order: int | None = typer.Option(None, "--sort-order"),
) -> None:
    """Rename, switch on or off, or reorder a method."""
    command = shipping.UpdateShippingMethod(
        code=code, name=name, is_active=active, sort_order=sort_order
    )
    with state.uow() as uow:
        method = shipping.update_method(uow, command)
        uow.commit()
    state_word = "active" if method.is_active else "off"
    console.print(f"shipping method {method.code}: {method.name}, {state_word}")


@methods_app.command("delete")
def delete(
    code: str,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a method and its rates (placed orders keep their fee)."""
    if not yes:
        typer.confirm(f"delete shipping method {code} and its rates?", abort=True)
    with state.uow() as uow:
        shipping.delete_method(uow, code)
        uow.commit()
    console.print(f"shipping method {code.strip().lower()} deleted")


def _rate_input(
    country: str, fee: str, region: str | None, free_over: str | None
) -> shipping.RateInput:
    return shipping.RateInput(country=country, fee=fee, region=region, free_over=free_over)


REGION = typer.Option(None, "--region", help="One region of the country, e.g. CN-XZ.")
FEE = typer.Option(..., "--fee", help="0 or more, e.g. 8.00.")
FREE_OVER = typer.Option(None, "--free-over", help="No fee once the items reach this.")


@rates_app.command("add")
def add_rate(
    method: str,
    country: str = typer.Argument(..., help="ISO 3166-1 alpha-2, or '*' for anywhere."),
    fee: str = FEE,
    region: str | None = REGION,
    free_over: str | None = FREE_OVER,
) -> None:
    """Add a rate to a method."""
    command = shipping.AddShippingRate(method, _rate_input(country, fee, region, free_over))
    with state.uow() as uow:
        rate = shipping.add_rate(uow, command)
        uow.commit()
    console.print(f"rate {rate.id}: {_rate_text(rate)} {rate.currency}")


@rates_app.command("set")
def set_rate(
    method: str,
    rate_id: int,
    country: str = typer.Argument(..., help="ISO 3166-1 alpha-2, or '*' for anywhere."),
    fee: str = FEE,
    region: str | None = REGION,
    free_over: str | None = FREE_OVER,
) -> None:
    """Replace a rate: destination, fee and free-over threshold."""
    rate_input = _rate_input(country, fee, region, free_over)
    with state.uow() as uow:
        rate = shipping.replace_rate(uow, shipping.ReplaceShippingRate(method, rate_id, rate_input))
        uow.commit()
    console.print(f"rate {rate.id}: {_rate_text(rate)} {rate.currency}")


@rates_app.command("remove")
def remove_rate(method: str, rate_id: int) -> None:
    """Remove a rate from a method."""
    with state.uow() as uow:
        shipping.delete_rate(uow, method, rate_id)
        uow.commit()
    console.print(f"rate {rate_id} removed")


@shipping_app.command("quote")
def quote(
    method: str,
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2, e.g. CN."),
    region: str | None = typer.Option(None, "--region", help="e.g. CN-SH."),
    subtotal: str = typer.Option("0", "--subtotal", help="What the items come to."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """The fee of METHOD to a destination for items worth --subtotal."""
    with state.uow() as uow:
        found = shipping.quote(uow, shipping.QuoteShipping(method, country, region, subtotal))
    rate = found.rate
    row = [
        found.method,
        _money(found.fee_minor, rate.currency),
        rate.currency,
        found.free_over_reached,
        _rate_text(rate),
    ]
    emit_rows([row], ["method", "fee", "currency", "free_over_reached", "rate"], fmt, "Quote")
