"""`shopops inventory ...` against the test database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from shopops.bootstrap import Container
from shopops.contexts import inventory
from shopops.kernel.errors import DomainError
from tests.commerce import SYSTEM, add_skus, add_warehouse, stock_of


@pytest.fixture
def store(container: Container) -> dict[str, int]:
    add_skus(container, {"TEE-S": 1999, "MUG": 1250})
    return {
        "SH1": add_warehouse(container, "SH1", priority=10, stock={"TEE-S": 10, "MUG": 4}),
        "BJ1": add_warehouse(container, "BJ1", region="CN-BJ", priority=20),
    }


def ok(cli: Any, container: Container, *args: str) -> str:
    result = cli(container, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def as_json(cli: Any, container: Container, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok(cli, container, *args, "--format", "json"))
    return rows


def failure(cli: Any, container: Container, *args: str) -> DomainError:
    result = cli(container, *args)
    assert result.exit_code != 0
    assert isinstance(result.exception, DomainError), result.output
    return result.exception


def test_warehouses_add_and_list(cli: Any, container: Container, store: dict[str, int]) -> None:
    out = ok(cli, container, "inventory", "warehouses", "add", "gz1", "--name", "Guangzhou",
             "--region", "CN-GD", "--priority", "15")  # fmt: skip
    assert "created warehouse" in out
    assert "GZ1" in out
    listed = as_json(cli, container, "inventory", "warehouses", "list")
    assert [(w["code"], w["priority"], w["active"]) for w in listed] == [
        ("SH1", 10, True),
        ("GZ1", 15, True),
        ("BJ1", 20, True),
    ]
    error = failure(cli, container, "inventory", "warehouses", "add", "sh1", "--name", "x",
                    "--region", "CN")  # fmt: skip
    assert error.code == "inventory.warehouse_code_taken"


def test_stock_with_filters_in_every_format(
    cli: Any, container: Container, store: dict[str, int]
) -> None:
    ok(cli, container, "inventory", "receive", "MUG", "3", "--warehouse", "BJ1")
    rows = as_json(cli, container, "inventory", "stock")
    assert [(r["sku"], r["warehouse"], r["on_hand"], r["available"]) for r in rows] == [
        ("TEE-S", "SH1", 10, 10),
        ("MUG", "SH1", 4, 4),
        ("MUG", "BJ1", 3, 3),
    ]
    assert [
        r["warehouse"] for r in as_json(cli, container, "inventory", "stock", "--sku", "MUG")
    ] == [
        "SH1",
        "BJ1",
    ]
    only_bj1 = as_json(cli, container, "inventory", "stock", "--warehouse", "bj1")
    assert [(r["sku"], r["on_hand"]) for r in only_bj1] == [("MUG", 3)]
    ok(cli, container, "inventory", "threshold", "MUG", "3")
    low = as_json(cli, container, "inventory", "stock", "--low")
    assert [(r["sku"], r["warehouse"], r["threshold"]) for r in low] == [("MUG", "BJ1", 3)]
    as_csv = list(csv.reader(io.StringIO(ok(cli, container, "inventory", "stock", "--low",
                                                "--format", "csv"))))  # fmt: skip
    assert as_csv == [
        ["sku", "warehouse", "on_hand", "reserved", "available", "threshold"],
        ["MUG", "BJ1", "3", "0", "3", "3"],
    ]
    table = ok(cli, container, "inventory", "stock", "--sku", "TEE-S")
    assert "TEE-S" in table
    assert "SH1" in table
    assert failure(cli, container, "inventory", "stock", "--warehouse", "XX").code == (
        "inventory.warehouse_not_found"
    )


def test_receive_adjust_and_their_errors(
    cli: Any, container: Container, store: dict[str, int]
) -> None:
    sh1 = store["SH1"]
    out = ok(cli, container, "inventory", "receive", "MUG", "6", "-w", "SH1", "--reference", "PO-1")
    assert "on hand 10" in out
    out = ok(cli, container, "inventory", "adjust", "MUG", "--delta", "-3", "-w", "SH1",
             "--reason", "broken")  # fmt: skip
    assert "on hand 7" in out
    assert stock_of(container, "MUG") == [(sh1, 7, 0)]
    for args, code in [
        (("receive", "MUG", "0", "-w", "SH1"), "validation.failed"),
        (("receive", "MUG", "1000001", "-w", "SH1"), "validation.failed"),
        (("receive", "NOPE", "1", "-w", "SH1"), "inventory.unknown_sku"),
        (("receive", "MUG", "1", "-w", "XX"), "inventory.warehouse_not_found"),
        (
            ("adjust", "MUG", "--delta", "-8", "-w", "SH1", "--reason", "x"),
            "inventory.below_reserved",
        ),
    ]:
        assert failure(cli, container, "inventory", *args).code == code, args
    assert stock_of(container, "MUG") == [(sh1, 7, 0)]


def test_transfer(cli: Any, container: Container, store: dict[str, int]) -> None:
    sh1, bj1 = store["SH1"], store["BJ1"]
    out = ok(
        cli, container, "inventory", "transfer", "TEE-S=4", "MUG=1", "--from", "SH1", "--to", "BJ1"
    )
    assert "SH1 -> BJ1, 2 SKU(s)" in out
    assert sorted(stock_of(container, "TEE-S")) == sorted([(sh1, 6, 0), (bj1, 4, 0)])
    bad = failure(cli, container, "inventory", "transfer", "TEE-S", "MUG=1", "MUG=2",
                  "--from", "SH1", "--to", "BJ1")  # fmt: skip
    assert [(e.field, e.code) for e in bad.errors] == [
        ("lines", "validation.invalid_line"),
        ("lines", "validation.duplicate_sku"),
    ]
    short = failure(
        cli, container, "inventory", "transfer", "MUG=9", "--from", "SH1", "--to", "BJ1"
    )
    assert short.code == "inventory.insufficient_stock"
    assert sorted(stock_of(container, "MUG")) == sorted([(sh1, 3, 0), (bj1, 1, 0)])


def test_count_from_csv(
    cli: Any, container: Container, store: dict[str, int], tmp_path: Path
) -> None:
    sh1 = store["SH1"]
    sheet = tmp_path / "count.csv"
    sheet.write_text("sku,counted\nTEE-S,8\nMUG,4\n", encoding="utf-8")
    rows = as_json(
        cli, container, "inventory", "count", str(sheet), "-w", "SH1", "--note", "aisle 4"
    )
    assert rows == [
        {"sku": "MUG", "expected": 4, "counted": 4, "difference": 0},
        {"sku": "TEE-S", "expected": 10, "counted": 8, "difference": -2},
    ]
    assert stock_of(container, "TEE-S") == [(sh1, 8, 0)]
    broken = tmp_path / "broken.csv"
    broken.write_text("sku,counted\nTEE-S,seven\n,3\nMUG,1\nMUG,2\n", encoding="utf-8")
    error = failure(cli, container, "inventory", "count", str(broken), "-w", "SH1")
    assert [(e.row, e.field, e.code) for e in error.errors] == [
        (2, "counted", "validation.not_integer"),
        (3, "sku", "validation.required"),
        (5, "sku", "validation.duplicate_sku"),
    ]
    headless = tmp_path / "headless.csv"
    headless.write_text("TEE-S,1\n", encoding="utf-8")
    assert failure(cli, container, "inventory", "count", str(headless), "-w", "SH1").code == (
        "inventory.invalid_count_file"
    )
    negative = tmp_path / "negative.csv"
    negative.write_text("sku,counted\nMUG,-1\n", encoding="utf-8")
    assert failure(cli, container, "inventory", "count", str(negative), "-w", "SH1").errors[
        0
    ].code == ("inventory.invalid_quantity")
    assert stock_of(container, "TEE-S") == [(sh1, 8, 0)]
    assert stock_of(container, "MUG") == [(sh1, 4, 0)]


def test_movements_and_reservations(cli: Any, container: Container, store: dict[str, int]) -> None:
    ok(cli, container, "inventory", "adjust", "MUG", "--delta", "-1", "-w", "SH1", "--reason", "x")
    moves = as_json(cli, container, "inventory", "movements")
    assert [(m["sku"], m["kind"], m["quantity"], m["warehouse"]) for m in moves] == [
        ("MUG", "adjustment", -1, "SH1"),
        ("MUG", "receipt", 4, "SH1"),
        ("TEE-S", "receipt", 10, "SH1"),
    ]
    assert (
        len(as_json(cli, container, "inventory", "movements", "--sku", "MUG", "--limit", "1")) == 1
    )
    kinds = as_json(cli, container, "inventory", "movements", "--kind", "receipt")
    assert {m["kind"] for m in kinds} == {"receipt"}
    assert as_json(cli, container, "inventory", "movements", "--until", "2000-01-01") == []
    assert len(as_json(cli, container, "inventory", "movements", "--since", "2000-01-01")) == 3
    with container.uow(SYSTEM) as uow:
        inventory.reserve(uow, inventory.ReserveStock("SO-5", {"MUG": 2}))
        uow.commit()
    held = as_json(cli, container, "inventory", "reservations", "SO-5")
    assert [(r["sku"], r["warehouse"], r["quantity"], r["status"]) for r in held] == [
        ("MUG", "SH1", 2, "active")
    ]


def test_check_ledger_exits_non_zero_on_discrepancies(
    cli: Any, container: Container, store: dict[str, int]
) -> None:
    assert "agree" in ok(cli, container, "inventory", "check-ledger")
    with container.engine.begin() as connection:
        connection.execute(text("UPDATE stock_levels SET on_hand = 3 WHERE sku = 'MUG'"))
    result = cli(container, "inventory", "check-ledger", "--format", "csv")
    assert result.exit_code == 1
    assert "MUG,SH1,3,4,-1" in result.output


def test_acting_as_a_user_applies_their_permissions(
    cli: Any, container: Container, store: dict[str, int], staff_on: Any
) -> None:
    analyst = staff_on(container, "analyst")  # inventory.read only
    rows = as_json(cli, container, "--as", analyst.user.email, "inventory", "stock")
    assert len(rows) == 2
    denied = failure(cli, container, "--as", analyst.user.email, "inventory", "receive", "MUG",
                     "1", "-w", "SH1")  # fmt: skip
    assert denied.code == "auth.permission_denied"
    marketing = staff_on(container, "marketing")
    for args in (("stock",), ("movements",), ("check-ledger",), ("warehouses", "list")):
        error = failure(cli, container, "--as", marketing.user.email, "inventory", *args)
        assert error.code == "auth.permission_denied", args
    assert stock_of(container, "MUG") == [(store["SH1"], 4, 0)]
