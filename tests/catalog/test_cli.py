"""`shopops catalog ...` against the test database."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from shopops.bootstrap import Container
from shopops.cli.context import state as cli_state
from shopops.cli.errors import EXIT_DENIED, EXIT_NOT_FOUND, EXIT_VALIDATION, exit_code_for
from shopops.cli.main import run
from shopops.contexts import catalog
from shopops.kernel.errors import DomainError
from tests.catalog.conftest import HEADER, UowFactory, counts, csv_bytes, row
from tests.catalog.test_import import BAD_FILE, BAD_NAME
from tests.conftest import CliInvoke


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.stdout)


def as_json(result) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    return json.loads(ok(result))  # type: ignore[no-any-return]


def run_shopops(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    container: Container,
    *args: str,
) -> tuple[int, str, str]:
    """The real console entry point: domain errors become a message and an exit code."""
    monkeypatch.setattr(cli_state, "_container", container)
    monkeypatch.setattr(cli_state, "acting_as", None)
    monkeypatch.setattr(sys, "argv", ["shopops", *args])
    try:
        run()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())


def test_categories_and_brands(container: Container, cli: CliInvoke) -> None:
    ok(cli(container, "catalog", "categories", "add", "Apparel"))
    ok(cli(container, "catalog", "categories", "add", "Running Shoes", "--parent", "apparel"))
    ok(
        cli(
            container,
            "catalog",
            "categories",
            "add",
            "Bags",
            "--slug",
            "bags-and-more",
            "--inactive",
        )
    )
    assert as_json(cli(container, "catalog", "categories", "list", "--format", "json")) == [
        {"id": 1, "slug": "apparel", "name": "Apparel", "parent": None, "active": True},
        {
            "id": 2,
            "slug": "running-shoes",
            "name": "Running Shoes",
            "parent": "apparel",
            "active": True,
        },
        {"id": 3, "slug": "bags-and-more", "name": "Bags", "parent": None, "active": False},
    ]
    table = ok(cli(container, "catalog", "categories", "list"))
    assert "  Running Shoes" in table
    ok(cli(container, "catalog", "brands", "add", "Acme Outdoor"))
    assert ok(cli(container, "catalog", "brands", "list", "--format", "csv")).splitlines() == [
        "id,slug,name",
        "1,acme-outdoor,Acme Outdoor",
    ]
    missing_parent = cli(container, "catalog", "categories", "add", "X", "--parent", "nope")
    assert missing_parent.exit_code != 0
    assert exit_code_for(missing_parent.exception) == EXIT_NOT_FOUND
    assert missing_parent.exception.code == "catalog.category_not_found"


def test_product_commands(
    container: Container, cli: CliInvoke, uow: UowFactory, seeded: dict[str, int]
) -> None:
    created = cli(
        container,
        "catalog",
        "products",
        "create",
        "TRAIL",
        "--name",
        "Trail Runner",
        "--category",
        "shoes",
        "--brand",
        "acme",
        "--status",
        "active",
        "--sku",
        "TRAIL-42",
        "--price",
        "89.90",
        "--cost",
        "41",
        "--barcode",
        "4006381333931",
        "--weight",
        "640",
        "--attr",
        "size=42",
        "--attr",
        "color=black",
    )
    assert "created product 1 TRAIL (active)" in ok(created)
    ok(cli(container, "catalog", "products", "create", "BARE", "--name", "No variants yet"))
    assert as_json(cli(container, "catalog", "products", "show", "TRAIL", "--format", "json")) == [
        {
            "sku": "TRAIL-42",
            "barcode": "4006381333931",
            "price": "89.90",
            "cost": "41.00",
            "currency": "USD",
            "weight_grams": 640,
            "attributes": '{"size": "42", "color": "black"}',
            "active": True,
        }
    ]
    assert "TRAIL-42: 79.50 USD" in ok(
        cli(container, "catalog", "variants", "set-price", "TRAIL-42", "79.5")
    )
    listed = as_json(
        cli(container, "catalog", "products", "list", "--category", "apparel", "--format", "json")
    )
    assert listed == [
        {"id": 1, "code": "TRAIL", "name": "Trail Runner", "status": "active", "skus": "TRAIL-42"}
    ]
    assert "product TRAIL is archived" in ok(
        cli(container, "catalog", "products", "archive", "TRAIL")
    )
    statuses = as_json(cli(container, "catalog", "products", "list", "--format", "json"))
    assert [(p["code"], p["status"]) for p in statuses] == [
        ("TRAIL", "archived"),
        ("BARE", "draft"),
    ]
    with uow() as u:
        assert catalog.get_variant(u, "TRAIL-42").price_minor == 7950


def test_bad_input_fails_with_a_message(
    container: Container, cli: CliInvoke, seeded: dict[str, int]
) -> None:
    before = counts(container)
    half = cli(container, "catalog", "products", "create", "P", "--name", "P", "--sku", "P-1")
    assert half.exit_code == 2
    assert "needs both --sku and --price" in half.output
    bad_price = cli(
        container,
        "catalog",
        "products",
        "create",
        "P",
        "--name",
        "P",
        "--sku",
        "P-1",
        "--price",
        "-1",
    )
    assert isinstance(bad_price.exception, DomainError)
    assert exit_code_for(bad_price.exception) == EXIT_VALIDATION
    assert [(e.field, e.code) for e in bad_price.exception.errors] == [
        ("variants.0.price", "catalog.negative_amount")
    ]
    no_sku = cli(container, "catalog", "variants", "set-price", "NOPE", "1.00")
    assert exit_code_for(no_sku.exception) == EXIT_NOT_FOUND
    assert counts(container) == before


def test_import_all_or_nothing_prints_every_error(
    container: Container,
    seeded: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD_FILE)
    before = counts(container)
    code, _, err = run_shopops(monkeypatch, capsys, container, "catalog", "import", str(path))
    assert code == EXIT_VALIDATION
    assert "error catalog.import_invalid: 6 problem(s) in 6 row(s); nothing was imported" in err
    for line in (
        "row 2, sku: SKU 'TRAIL-42' is repeated on line 5 [catalog.duplicate_sku]",
        "row 3, sku: sku is required [validation.required]",
        "row 4, price: '-5.00' is negative [catalog.negative_amount]",
        "row 5, sku: SKU 'TRAIL-42' is also on line 2 [catalog.duplicate_sku]",
        "row 6, category: no category with slug 'nowhere' [catalog.unknown_category]",
        "row 7, product_name: product_name contains bytes that are not valid UTF-8"
        " [catalog.invalid_encoding]",
    ):
        assert line in err
    assert counts(container) == before
    missing = tmp_path / "none.csv"
    code, _, err = run_shopops(monkeypatch, capsys, container, "catalog", "import", str(missing))
    assert code == 2
    assert "does not exist" in err


def test_partial_import_writes_a_rejects_file(
    container: Container, cli: CliInvoke, seeded: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "products.csv"
    path.write_bytes(
        csv_bytes([row(), row(sku="TRAIL-43", price="-1")])
        + b"CAFE,"
        + BAD_NAME
        + b",bags,,,CAFE-1,,9.50,,USD,,\n"
    )
    refused = cli(container, "catalog", "import", str(path), "--rejects", str(tmp_path / "r.csv"))
    assert refused.exit_code == 2
    result = cli(container, "catalog", "import", str(path), "--partial", "--format", "json")
    report = {r["result"]: r["count"] for r in as_json(result)}
    assert (report["created"], report["rejected"], report["rows"]) == (1, 2, 3)
    rejects = tmp_path / "products.rejects.csv"
    assert f"2row(s)rejected;see{rejects}" in "".join(result.stderr.split())  # rich may wrap
    raw = rejects.read_bytes()
    assert BAD_NAME in raw  # the bytes come back exactly as they were
    rows = list(csv.reader(raw.decode("utf-8", "replace").splitlines()))
    assert rows[0] == [*HEADER, "errors"]
    assert rows[1][5] == "TRAIL-43"
    assert rows[1][-1] == "price: '-1' is negative [catalog.negative_amount]"
    assert rows[2][-1] == (
        "product_name: product_name contains bytes that are not valid UTF-8"
        " [catalog.invalid_encoding]"
    )
    fixed = tmp_path / "fixed.csv"  # fix the rejects file and import it again
    with fixed.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0], [*rows[1][:7], "5.00", *rows[1][8:]]])
    retry = cli(container, "catalog", "import", str(fixed), "--format", "json")
    assert {r["result"]: r["count"] for r in as_json(retry)}["created"] == 1


def test_import_export_round_trip(
    container: Container, cli: CliInvoke, seeded: dict[str, int], tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(csv_bytes([row(), row(sku="TRAIL-43", attributes="", cost="")]))
    first = {
        r["result"]: r["count"]
        for r in as_json(cli(container, "catalog", "import", str(source), "--format", "json"))
    }
    assert (first["created"], first["products_created"]) == (2, 1)
    exported = tmp_path / "out.csv"
    assert "exported 2 variant(s)" in ok(cli(container, "catalog", "export", str(exported)))
    assert exported.read_text().splitlines()[1] == (
        "TRAIL,Trail Runner,shoes,acme,active,TRAIL-42,,89.90,41.00,USD,640,"
        '"{""color"":""black"",""size"":""42""}"'
    )
    before = counts(container)
    again = {
        r["result"]: r["count"]
        for r in as_json(cli(container, "catalog", "import", str(exported), "--format", "json"))
    }
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert counts(container) == before
    assert ok(cli(container, "catalog", "export", "-")).splitlines()[0] == ",".join(HEADER)


def test_acting_as_a_read_only_user_is_denied(
    container: Container,
    cli: CliInvoke,
    make_staff,
    seeded: dict[str, int],  # type: ignore[no-untyped-def]
) -> None:
    analyst = make_staff("analyst")
    before = counts(container)
    denied = cli(container, "--as", analyst.user.email, "catalog", "brands", "add", "Nope")
    assert exit_code_for(denied.exception) == EXIT_DENIED
    assert denied.exception.code == "auth.permission_denied"
    assert counts(container) == before
    listed = cli(
        container, "--as", analyst.user.email, "catalog", "brands", "list", "--format", "json"
    )
    assert [b["slug"] for b in as_json(listed)] == ["acme"]
