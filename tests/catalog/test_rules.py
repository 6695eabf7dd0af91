"""Pure catalog rules: amounts per currency, identifiers, attributes, the tree, CSV rows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.catalog.errors import CatalogError
from shopops.contexts.catalog.rows import FileChecks, check_header, parse_row, printable
from shopops.contexts.catalog.rules import (
    MAX_AMOUNT_MINOR,
    ProductStatus,
    RuleViolation,
    TreeNode,
    build_tree,
    creates_cycle,
    descendants,
    format_amount,
    format_attributes,
    parse_amount,
    parse_attributes,
    parse_identifier,
    parse_slug,
    parse_status,
    parse_weight,
    slugify,
)
from shopops.kernel.errors import FieldError
from shopops.kernel.money import currency_exponent
from tests.catalog.conftest import HEADER, row

CURRENCIES = ["USD", "EUR", "CNY", "JPY", "KRW", "KWD", "BHD", "CLF"]


def violation(call: object, *args: object) -> str:
    with pytest.raises(RuleViolation) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.code


# --- amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "USD", 1250),
        ("12.5", "USD", 1250),
        ("12", "USD", 1200),
        ("0", "USD", 0),
        ("-0.00", "USD", 0),
        ("+3.10", "EUR", 310),
        (".5", "EUR", 50),
        ("1200", "JPY", 1200),
        ("1200.0", "JPY", 1200),
        ("1.234", "KWD", 1234),
        (" 7.1 ", "CNY", 710),
    ],
)
def test_parse_amount_uses_the_currency_exponent(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "code"),
    [
        ("", "USD", CatalogError.REQUIRED),
        ("abc", "USD", CatalogError.INVALID_AMOUNT),
        ("1e3", "USD", CatalogError.INVALID_AMOUNT),
        ("NaN", "USD", CatalogError.INVALID_AMOUNT),
        ("1,000", "USD", CatalogError.INVALID_AMOUNT),
        ("-1", "USD", CatalogError.NEGATIVE_AMOUNT),
        ("-0.01", "USD", CatalogError.NEGATIVE_AMOUNT),
        ("12.345", "USD", CatalogError.TOO_PRECISE),
        ("12.5", "JPY", CatalogError.TOO_PRECISE),
        ("1.2345", "KWD", CatalogError.TOO_PRECISE),
        ("10000000000000.01", "USD", CatalogError.AMOUNT_TOO_LARGE),
    ],
)
def test_parse_amount_refuses(text: str, currency: str, code: str) -> None:
    assert violation(parse_amount, text, currency) == code


def test_parse_amount_without_currency_checks_only_form_and_sign() -> None:
    assert parse_amount("12.34567", None) == 0
    assert violation(parse_amount, "-2", None) == CatalogError.NEGATIVE_AMOUNT
    assert violation(parse_amount, "x", None) == CatalogError.INVALID_AMOUNT


@given(st.sampled_from(CURRENCIES), st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR))
def test_format_then_parse_round_trips(currency: str, minor: int) -> None:
    text = format_amount(minor, currency)
    assert parse_amount(text, currency) == minor
    places = currency_exponent(currency)
    assert ("." in text) == (places > 0)
    if places:
        assert len(text.split(".")[1]) == places


@given(
    st.sampled_from(CURRENCIES),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=1, max_value=9),
)
def test_one_digit_more_than_the_currency_allows_is_refused(
    currency: str, minor: int, extra: int
) -> None:
    text = format_amount(minor, currency)
    text = f"{text}{extra}" if "." in text else f"{text}.{extra}"
    assert violation(parse_amount, text, currency) == CatalogError.TOO_PRECISE


@given(st.sampled_from(CURRENCIES), st.integers(min_value=1, max_value=MAX_AMOUNT_MINOR))
def test_every_negative_amount_is_refused(currency: str, minor: int) -> None:
    assert violation(parse_amount, "-" + format_amount(minor, currency), currency) == (
        CatalogError.NEGATIVE_AMOUNT
    )


# --- identifiers, slugs, status, weight, attributes -------------------------------------


def test_identifiers() -> None:
    assert parse_identifier("  SKU-1/A.b_c ", "sku") == "SKU-1/A.b_c"
    assert violation(parse_identifier, "", "sku") == CatalogError.REQUIRED
    assert violation(parse_identifier, "A B", "sku") == CatalogError.INVALID_CODE
    assert violation(parse_identifier, "A\x00", "sku") == CatalogError.INVALID_CODE
    assert violation(parse_identifier, "x" * 65, "sku") == CatalogError.TOO_LONG


def test_slugs() -> None:
    assert slugify("Café & Bar — Ünïcode") == "cafe-bar-unicode"
    assert slugify("中文") == ""
    assert parse_slug(" Trail-Shoes ") == "trail-shoes"
    assert violation(parse_slug, "trail shoes") == CatalogError.INVALID_SLUG
    assert violation(parse_slug, "-a") == CatalogError.INVALID_SLUG
    assert violation(parse_slug, "") == CatalogError.REQUIRED


def test_status_and_weight() -> None:
    assert parse_status(" Active ") is ProductStatus.ACTIVE
    assert violation(parse_status, "published") == CatalogError.INVALID_STATUS
    assert parse_weight("640") == 640
    for bad in ("-1", "1.5", "heavy", str(10**9 + 1)):
        assert violation(parse_weight, bad) == CatalogError.INVALID_WEIGHT


def test_attributes_as_json_or_pairs() -> None:
    assert parse_attributes("") == {}
    assert parse_attributes('{"size": 42, "color": "red", "eco": true}') == {
        "size": 42,
        "color": "red",
        "eco": True,
    }
    assert parse_attributes("size=42; color = red ;") == {"size": "42", "color": "red"}
    for bad in ("{nope", "[1, 2]", '{"a": {"b": 1}}', "size", "=x", "a=1;a=2"):
        assert violation(parse_attributes, bad) == CatalogError.INVALID_ATTRIBUTES


def test_attributes_format_round_trips() -> None:
    attributes = {"size": "42", "color": "schwarz", "n": 3}
    text = format_attributes(attributes)
    assert text == '{"color":"schwarz","n":3,"size":"42"}'
    assert parse_attributes(text) == attributes
    assert format_attributes({}) == ""


# --- the category tree ------------------------------------------------------------------

PARENTS = {1: None, 2: 1, 3: 2, 4: None, 5: 4}


def test_cycles_are_detected() -> None:
    assert creates_cycle(1, 3, PARENTS)  # 1 under its own grandchild
    assert creates_cycle(2, 2, PARENTS)  # under itself
    assert not creates_cycle(3, 4, PARENTS)
    assert not creates_cycle(1, None, PARENTS)
    assert creates_cycle(9, 7, {7: 8, 8: 7})  # an existing loop is never extended


def test_descendants_and_tree() -> None:
    assert descendants(1, PARENTS) == {1, 2, 3}
    assert descendants(5, PARENTS) == {5}
    tree = build_tree(sorted(PARENTS), lambda i: i, lambda i: PARENTS[i])
    assert tree == [
        TreeNode(1, [TreeNode(2, [TreeNode(3)])]),
        TreeNode(4, [TreeNode(5)]),
    ]


# --- CSV rows ---------------------------------------------------------------------------


def test_a_valid_row_parses() -> None:
    parsed, errors = parse_row(2, row(), default_currency="EUR")
    assert errors == []
    assert parsed is not None
    assert (parsed.sku, parsed.price_minor, parsed.cost_minor, parsed.currency) == (
        "TRAIL-42",
        8990,
        4100,
        "USD",
    )
    assert parsed.attributes == {"size": "42", "color": "black"}
    assert parsed.status is ProductStatus.ACTIVE
    assert (parsed.category, parsed.brand, parsed.weight_grams) == ("shoes", "acme", 640)


def test_blank_optional_cells_take_defaults() -> None:
    cells = row(currency="", cost="", barcode="", weight_grams="", attributes="", status="")
    cells.update(category="", brand="", price="1500")
    parsed, errors = parse_row(2, cells, default_currency="JPY")
    assert errors == []
    assert parsed is not None
    assert (parsed.currency, parsed.price_minor, parsed.cost_minor) == ("JPY", 1500, None)
    assert (parsed.status, parsed.category, parsed.brand, parsed.barcode) == (
        None,
        None,
        None,
        None,
    )


def test_every_problem_of_a_row_is_reported_with_line_and_column() -> None:
    cells = row(
        product_code="",
        sku="has space",
        status="live",
        brand="Not A Slug",
        price="-2",
        cost="1.999",
        currency="usd",
        weight_grams="-5",
        attributes="{bad",
    )
    parsed, errors = parse_row(7, cells, default_currency="USD")
    assert parsed is None
    assert [(e.row, e.field, e.code) for e in errors] == [
        (7, "product_code", CatalogError.REQUIRED),
        (7, "brand", CatalogError.INVALID_SLUG),
        (7, "status", CatalogError.INVALID_STATUS),
        (7, "sku", CatalogError.INVALID_CODE),
        (7, "price", CatalogError.NEGATIVE_AMOUNT),
        (7, "cost", CatalogError.TOO_PRECISE),
        (7, "weight_grams", CatalogError.INVALID_WEIGHT),
        (7, "attributes", CatalogError.INVALID_ATTRIBUTES),
    ]


def test_a_bad_currency_still_checks_the_price_form() -> None:
    _, errors = parse_row(3, row(currency="US", price="-1"), default_currency="USD")
    assert [(e.field, e.code) for e in errors] == [
        ("price", CatalogError.NEGATIVE_AMOUNT),
        ("currency", CatalogError.INVALID_CURRENCY),
    ]


def test_undecodable_bytes_are_reported_per_cell() -> None:
    name = b"Caf\xe9".decode("utf-8", "surrogateescape")
    parsed, errors = parse_row(4, row(product_name=name), default_currency="USD")
    assert parsed is None
    assert errors == [
        FieldError(
            "product_name",
            CatalogError.INVALID_ENCODING,
            "product_name contains bytes that are not valid UTF-8",
            4,
        )
    ]
    assert printable(name) == "Caf\ufffd"


def test_header_checks() -> None:
    assert check_header(HEADER) == []
    assert check_header(["product_code", "sku", "sku", "extra", "extra"]) == [
        FieldError("sku", CatalogError.DUPLICATE_COLUMN, "column 'sku' appears more than once", 1),
        FieldError(
            "product_name",
            CatalogError.MISSING_COLUMN,
            "the header has no 'product_name' column",
            1,
        ),
        FieldError("price", CatalogError.MISSING_COLUMN, "the header has no 'price' column", 1),
    ]


def test_file_checks_flag_both_rows_of_a_duplicate() -> None:
    checks = FileChecks()
    assert checks.check(2, row(sku="A", barcode="111")) == []
    assert checks.check(3, row(sku="B", barcode="222")) == []
    later = checks.check(5, row(sku="A", barcode="333"))
    barcode_clash = checks.check(6, row(sku="C", barcode="222"))
    assert [(e.row, e.field, e.code) for e in later] == [(5, "sku", CatalogError.DUPLICATE_SKU)]
    assert [(e.row, e.field, e.code) for e in barcode_clash] == [
        (6, "barcode", CatalogError.DUPLICATE_BARCODE)
    ]
    assert [(e.row, e.field, e.code) for e in checks.first_occurrence_errors()] == [
        (2, "sku", CatalogError.DUPLICATE_SKU),
        (3, "barcode", CatalogError.DUPLICATE_BARCODE),
    ]


def test_rows_of_one_product_must_agree() -> None:
    checks = FileChecks()
    assert checks.check(2, row(sku="A")) == []
    assert checks.check(3, row(sku="B", product_name="  Trail   Runner ", status="ACTIVE")) == []
    errors = checks.check(4, row(sku="C", product_name="Other", category="bags"))
    assert [(e.row, e.field, e.code) for e in errors] == [
        (4, "product_name", CatalogError.INCONSISTENT_PRODUCT),
        (4, "category", CatalogError.INCONSISTENT_PRODUCT),
    ]
    assert errors[1].message == "product 'TRAIL' has category 'shoes' on line 2"
