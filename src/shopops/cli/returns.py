"""returns: list, show, create, approve, reject, receive, refund."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import returns
from shopops.kernel.events import jsonable
from shopops.kernel.money import to_major

returns_app = typer.Typer(
    help="Returns: request, approve or reject, receive (restock or write off), refund.",
    no_args_is_help=True,
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
HEADERS = ["id", "order_id", "status", "refund_only", "lines", "refund", "currency"]
HEADERS += ["requested_at", "refunded_at"]
LINE_HEADERS = ["id", "order_line_id", "sku", "quantity", "reason", "disposition"]
LINE_HEADERS += ["warehouse_id", "refund"]


def _row(found: returns.ReturnDetail) -> list[Any]:
    r = found.request
    return [
        r.id,
        r.order_id,
        r.status,
        r.refund_only,
        " ".join(f"{line.sku}x{line.quantity}" for line in found.lines),
        str(to_major(r.refund_minor, r.currency)),
        r.currency,
        r.requested_at,
        r.refunded_at,
    ]


def _report(found: returns.ReturnDetail) -> None:
    r = found.request
    console.print(f"return {r.id} (order {r.order_id}): {r.status}")


@returns_app.command("list")
def list_returns(
    order: int | None = typer.Option(None, "--order", help="Only this order's returns."),
    status: str | None = typer.Option(None, help="requested, approved, rejected, ..."),
    limit: int = typer.Option(100, min=1, max=500),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Return requests, oldest first."""
    with state.uow() as uow:
        found = returns.list_returns(uow, returns.ReturnFilter(order, status, limit=limit))
        rows = [_row(r) for r in found]
    emit_rows(rows, HEADERS, fmt, "Returns")


@returns_app.command("show")
def show(return_id: int, fmt: OutputFormat = FORMAT) -> None:
    """One return with its lines."""
    with state.uow() as uow:
        found = returns.get_return(uow, return_id)
        row = _row(found)
        lines = [_LineView.of(line, found.request.currency) for line in found.lines]
    if fmt == OutputFormat.JSON:
        data = {
            **dict(zip(HEADERS, row, strict=True)),
            "lines": [dataclasses.asdict(view) for view in lines],
        }
        sys.stdout.write(json.dumps(jsonable(data), indent=2) + "\n")
        return
    emit_rows([row], HEADERS, fmt, f"Return {return_id}")
    emit_rows([dataclasses.astuple(view) for view in lines], LINE_HEADERS, fmt, "Lines")


@dataclasses.dataclass(frozen=True)
class _LineView:
    id: int
    order_line_id: int
    sku: str
    quantity: int
    reason: str
    disposition: str | None
    warehouse_id: int | None
    refund: str

    @classmethod
    def of(cls, line: returns.ReturnLine, currency: str) -> _LineView:
        return cls(
            line.id,
            line.order_line_id,
            line.sku,
            line.quantity,
            line.reason,
            line.disposition,
            line.warehouse_id,
            str(to_major(line.refund_minor, currency)),
        )


def _return_lines(items: list[str]) -> tuple[returns.ReturnLineRequest, ...]:
    parsed = []
    for item in items:
        parts = item.split(":", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].lstrip("-").isdigit():
            raise typer.BadParameter(f"'{item}': use ORDER_LINE_ID:QUANTITY:REASON")
        parsed.append(returns.ReturnLineRequest(int(parts[0]), int(parts[1]), parts[2]))
    return tuple(parsed)


@returns_app.command("create")
def create(
    order_id: int,
    line: list[str] = typer.Option(
        ..., "--line", help="ORDER_LINE_ID:QUANTITY:REASON, e.g. 12:1:damaged; repeatable."
    ),
    refund_only: bool = typer.Option(False, "--refund-only", help="No goods come back."),
    note: str | None = typer.Option(None),
) -> None:
    """Open a return for shipped lines."""
    command = returns.RequestReturn(order_id, _return_lines(line), refund_only, note)
    with state.uow() as uow:
        found = returns.request_return(uow, command)
        uow.commit()
    _report(found)


@returns_app.command("approve")
def approve(return_id: int, note: str | None = typer.Option(None)) -> None:
    with state.uow() as uow:
        found = returns.approve_return(uow, return_id, note=note)
        uow.commit()
    _report(found)


@returns_app.command("reject")
def reject(return_id: int, reason: str = typer.Option(..., help="Told to the customer.")) -> None:
    with state.uow() as uow:
        found = returns.reject_return(uow, return_id, reason=reason)
        uow.commit()
    _report(found)


def _receipts(items: list[str]) -> tuple[returns.LineReceipt, ...]:
    parsed = []
    for item in items:
        parts = item.split(":")
        valid = parts[0].isdigit() and (
            (len(parts) == 2 and parts[1] == "write_off")
            or (len(parts) == 3 and parts[1] == "restock" and parts[2].isdigit())
        )
        if not valid:
            raise typer.BadParameter(
                f"'{item}': use RETURN_LINE_ID:restock:WAREHOUSE_ID or RETURN_LINE_ID:write_off"
            )
        warehouse = int(parts[2]) if len(parts) == 3 else None
        parsed.append(returns.LineReceipt(int(parts[0]), parts[1], warehouse))
    return tuple(parsed)


@returns_app.command("receive")
def receive(
    return_id: int,
    line: list[str] = typer.Option(
        ..., "--line", help="RETURN_LINE_ID:restock:WAREHOUSE_ID or RETURN_LINE_ID:write_off."
    ),
) -> None:
    """The goods are back: restock each line into a warehouse or write it off."""
    with state.uow() as uow:
        found = returns.receive_return(uow, returns.ReceiveReturn(return_id, _receipts(line)))
        uow.commit()
    _report(found)


@returns_app.command("refund")
def refund(return_id: int) -> None:
    """Refund the returned lines' value through the payment gateway."""
    found = returns.refund_return(state.uow, state.container.payment_gateway, return_id=return_id)
    _report(found)
    currency = found.request.currency
    console.print(f"refunded {to_major(found.request.refund_minor, currency)} {currency}")
