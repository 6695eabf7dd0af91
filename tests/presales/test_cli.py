"""`shopops presales ...` against the test database."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from shopops.cli.errors import EXIT_NOT_FOUND, exit_code_for
from shopops.kernel.errors import DomainError, NotFound
from tests.presales.conftest import BALANCE_ENDS, DEPOSIT_ENDS, NOW, Shop, sell

ADDRESS = ["--recipient", "Wang Fang", "--line1", "88 Nanjing Road", "--city", "Shanghai"]
ADDRESS += ["--country", "CN"]


def ok(cli: Any, shop: Shop, *args: str) -> str:
    result = cli(shop.container, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def test_create_order_pay_and_list(cli: Any, shop: Shop) -> None:
    window = [
        "--deposit-from",
        NOW.isoformat(),
        "--deposit-until",
        DEPOSIT_ENDS.isoformat(),
        "--balance-from",
        DEPOSIT_ENDS.isoformat(),
        "--balance-until",
        BALANCE_ENDS.isoformat(),
    ]
    prices = ["--sku", "BOOT", "--price", "299.00", "--deposit", "50.00", "--worth", "100.00"]
    out = ok(cli, shop, "presales", "create", "Boots", *prices, *window)
    assert out.strip() == "presale 1: BOOT, deposit 50.00 worth 100.00 USD"
    bad = cli(shop.container, "presales", "create", "Boots", *prices[:-1], "40.00", *window)
    assert isinstance(bad.exception, DomainError)
    assert [e.code for e in bad.exception.errors] == ["presales.worth_below_deposit"]
    [presale] = json.loads(ok(cli, shop, "presales", "list", "--format", "json"))
    assert (presale["balance"], presale["status"]) == ("199.00", "active")

    out = ok(cli, shop, "presales", "order", "1", "--email", "g@example.com", *ADDRESS)
    assert "deposit 50.00 due by" in out
    assert "balance 199.00 USD" in out
    ok(cli, shop, "payments", "pay", "1")
    [order] = json.loads(ok(cli, shop, "presales", "orders", "1", "--format", "json"))
    assert (order["payment"], order["captured"], order["balance"]) == (
        "deposit_paid",
        "50.00",
        "199.00",
    )
    assert ok(cli, shop, "presales", "end", "1").strip() == "presale 1 is ended"


def table_cells(output: str) -> set[tuple[str, ...]]:
    return {
        tuple(cell.strip() for cell in line.strip("│").split("│"))
        for line in output.splitlines()
        if line.startswith("│")
    }


def test_performance_as_a_table_and_csv(cli: Any, shop: Shop) -> None:
    presale = sell(shop)
    table = ok(cli, shop, "presales", "performance", str(presale))
    assert f"Presale {presale} performance" in table
    assert {
        ("deposits paid", "5"),
        ("deposits paid amount", "350.00"),
        ("balances paid amount", "597.00"),
        ("forfeited amount", "150.00"),
        ("discount", "150.00"),
        ("gmv", "747.00"),
        ("conversion rate", "40.0%"),
    } <= table_cells(table)
    output = ok(cli, shop, "presales", "performance", str(presale), "--format", "csv")
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == ["figure", "value"]
    assert {("conversion_rate", "0.4"), ("gmv", "747.00")} <= {tuple(r) for r in rows}


def test_performance_of_an_unknown_presale_fails(cli: Any, shop: Shop) -> None:
    result = cli(shop.container, "presales", "performance", "42")
    assert result.exit_code != 0
    assert isinstance(result.exception, NotFound)
    assert result.exception.code == "presales.not_found"
    assert exit_code_for(result.exception) == EXIT_NOT_FOUND
