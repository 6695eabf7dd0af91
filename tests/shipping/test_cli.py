"""`shopops shipping ...` against the test database."""

from __future__ import annotations

import json
from typing import Any

from shopops.kernel.errors import DomainError
from tests.promotions.conftest import Shop
from tests.shipping.conftest import count_rows


def ok(cli: Any, store: Shop, *args: str) -> str:
    result = cli(store.container, "shipping", *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def test_methods_and_rates_from_the_command_line(cli: Any, store: Shop) -> None:
    out = ok(
        cli,
        store,
        "methods",
        "create",
        "standard",
        "--name",
        "Standard",
        "--rate",
        "CN:8.00:150.00",
        "--rate",
        "cn/cn-xz:25",
        "--rate",
        "*:60",
    )
    assert out.strip() == "shipping method standard created with 3 rate(s)"
    ok(cli, store, "methods", "create", "express", "--name", "Express", "--sort-order", "5")
    assert ok(cli, store, "rates", "add", "express", "CN", "--fee", "20.00").strip() == (
        "rate 4: CN 20.00 CNY"
    )
    out = ok(cli, store, "rates", "set", "express", "4", "CN", "--fee", "18", "--free-over", "300")
    assert out.strip() == "rate 4: CN 18.00 (free over 300.00) CNY"
    assert ok(cli, store, "methods", "update", "express", "--inactive").strip() == (
        "shipping method express: Express, off"
    )
    listed = json.loads(ok(cli, store, "methods", "list", "--format", "json"))
    assert [(m["code"], m["active"], len(m["rates"])) for m in listed] == [
        ("standard", True, 3),
        ("express", False, 1),
    ]
    assert listed[0]["rates"][1] == {
        "id": 2,
        "country": "CN",
        "region": "CN-XZ",
        "fee": "25.00",
        "free_over": None,
        "currency": "CNY",
    }
    assert "Shipping methods" in ok(cli, store, "methods", "list")  # a Rich table
    assert ok(cli, store, "methods", "list", "--format", "csv").splitlines() == [
        "code,name,active,sort_order,rates",
        "standard,Standard,True,0,CN 8.00 (free over 150.00); CN/CN-XZ 25.00; * 60.00",
        "express,Express,False,5,CN 18.00 (free over 300.00)",
    ]
    rates = json.loads(ok(cli, store, "methods", "show", "express", "--format", "json"))
    assert [r["fee"] for r in rates] == ["18.00"]
    [quote] = json.loads(
        ok(
            cli,
            store,
            "quote",
            "standard",
            "--country",
            "CN",
            "--subtotal",
            "150",
            "--format",
            "json",
        )
    )
    assert (quote["fee"], quote["free_over_reached"]) == ("0.00", True)
    assert ok(cli, store, "rates", "remove", "express", "4").strip() == "rate 4 removed"
    assert ok(cli, store, "methods", "delete", "express", "--yes").strip() == (
        "shipping method express deleted"
    )
    assert count_rows(store.container)["methods"] == 1


def test_bad_input_exits_non_zero_with_a_message(cli: Any, store: Shop) -> None:
    malformed = cli(
        store.container, "shipping", "methods", "create", "x", "--name", "X", "--rate", "CN"
    )
    assert malformed.exit_code == 2
    assert "use DEST:FEE[:FREE_OVER]" in malformed.output
    invalid = cli(
        store.container, "shipping", "methods", "create", "x", "--name", "X", "--rate", "CHN:-1"
    )
    assert isinstance(invalid.exception, DomainError)
    assert [e.code for e in invalid.exception.errors] == [
        "shipping.invalid_country",
        "shipping.invalid_fee",
    ]
    unknown = cli(store.container, "shipping", "quote", "drone", "--country", "CN")
    assert isinstance(unknown.exception, DomainError)
    assert unknown.exception.code == "shipping.unknown_method"
    assert count_rows(store.container)["methods"] == 0
