"""Pure rules for product CSV files: the header, one row, and the checks across rows.

Line numbers are physical lines of the file (the header is line 1), so a row
with a quoted multi-line cell is reported at the line where it starts. Bytes
that are not UTF-8 arrive as lone surrogates (the reader decodes with
``surrogateescape``) and are reported per cell as ``catalog.invalid_encoding``.

Column meanings:

* ``product_code`` (required): the product handle; rows sharing it are variants
  of one product and must agree on ``product_name``, ``category``, ``brand``
  and ``status``.
* ``category``: a category slug that must exist; blank means no category.
* ``brand``: a brand slug; an unknown brand is created (name = slug); blank
  means no brand.
* ``status``: draft, active or archived; blank keeps the current status (draft
  for new products).
* ``sku`` (required, unique), ``barcode`` (unique when present).
* ``price`` (required) and ``cost``: decimals >= 0 with at most the currency's
  decimal places; ``currency`` blank means the import's default currency.
* ``weight_grams``: a whole number; ``attributes``: a JSON object or
  ``key=value;key=value``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from shopops.contexts.catalog.errors import CatalogError
from shopops.contexts.catalog.rules import (
    ProductStatus,
    RuleViolation,
    parse_amount,
    parse_attributes,
    parse_currency,
    parse_identifier,
    parse_name,
    parse_slug,
    parse_status,
    parse_weight,
)
from shopops.kernel.errors import FieldError

CSV_COLUMNS = (
    "product_code",
    "product_name",
    "category",
    "brand",
    "status",
    "sku",
    "barcode",
    "price",
    "cost",
    "currency",
    "weight_grams",
    "attributes",
)
REQUIRED_COLUMNS = ("product_code", "product_name", "sku", "price")
HEADER_LINE = 1
_HEAD_COLUMNS = ("product_name", "category", "brand", "status")
_COLUMN_ORDER = {name: index for index, name in enumerate(CSV_COLUMNS)}
_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")

V = TypeVar("V")


def undecodable(text: str) -> bool:
    """True if ``text`` carries bytes that were not valid UTF-8 (surrogate escapes)."""
    return _SURROGATE_ESCAPE.search(text) is not None


def printable(text: str) -> str:
    """``text`` with undecodable bytes shown as U+FFFD, safe to encode as UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def error_sort_key(error: FieldError) -> tuple[int, int, str]:
    return (error.row or 0, _COLUMN_ORDER.get(error.field, len(CSV_COLUMNS)), error.code)


def check_header(header: Sequence[str]) -> list[FieldError]:
    """Every problem with the header line: bad bytes, repeated or missing columns."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, name in enumerate(header, start=1):
        if undecodable(name):
            errors.append(
                FieldError(
                    f"column {index}",
                    CatalogError.INVALID_ENCODING,
                    "the column name contains bytes that are not valid UTF-8",
                    HEADER_LINE,
                )
            )
            continue
        column = name.strip()
        if column in seen and column in _COLUMN_ORDER:
            errors.append(
                FieldError(
                    column,
                    CatalogError.DUPLICATE_COLUMN,
                    f"column '{column}' appears more than once",
                    HEADER_LINE,
                )
            )
        seen.add(column)
    for column in REQUIRED_COLUMNS:
        if column not in seen:
            errors.append(
                FieldError(
                    column,
                    CatalogError.MISSING_COLUMN,
                    f"the header has no '{column}' column",
                    HEADER_LINE,
                )
            )
    return errors


@dataclass(frozen=True, slots=True)
class ProductRow:
    """One valid CSV row: a variant and the product it belongs to."""

    line: int
    product_code: str
    product_name: str
    category: str | None
    brand: str | None
    status: ProductStatus | None
    sku: str
    barcode: str | None
    price_minor: int
    cost_minor: int | None
    currency: str
    weight_grams: int | None
    attributes: dict[str, Any]


def parse_row(
    line: int, cells: Mapping[str, str], *, default_currency: str
) -> tuple[ProductRow | None, list[FieldError]]:
    """Parse one row; returns the row (None if invalid) and every problem found in it."""
    errors: list[FieldError] = []
    values = {column: cells.get(column) or "" for column in CSV_COLUMNS}
    bad = {column for column, text in values.items() if undecodable(text)}
    for column in CSV_COLUMNS:
        if column in bad:
            errors.append(
                FieldError(
                    column,
                    CatalogError.INVALID_ENCODING,
                    f"{column} contains bytes that are not valid UTF-8",
                    line,
                )
            )

    def take(column: str, parse: Callable[[str], V], *, optional: bool = False) -> V | None:
        text = values[column]
        if column in bad or (optional and not text.strip()):
            return None
        try:
            return parse(text)
        except RuleViolation as violation:
            errors.append(FieldError(column, violation.code, violation.message, line))
            return None

    product_code = take("product_code", lambda t: parse_identifier(t, "product_code"))
    product_name = take("product_name", lambda t: parse_name(t, "product_name"))
    category = take("category", lambda t: t.strip().lower(), optional=True)
    brand = take("brand", parse_slug, optional=True)
    status = take("status", parse_status, optional=True)
    sku = take("sku", lambda t: parse_identifier(t, "sku"))
    barcode = take("barcode", lambda t: parse_identifier(t, "barcode"), optional=True)
    currency_text = values["currency"] if values["currency"].strip() else default_currency
    currency = (
        None if "currency" in bad else take("currency", lambda _: parse_currency(currency_text))
    )
    price_minor = take("price", lambda t: parse_amount(t, currency))
    cost_minor = take("cost", lambda t: parse_amount(t, currency), optional=True)
    weight = take("weight_grams", parse_weight, optional=True)
    attributes = take("attributes", parse_attributes)
    if errors:
        return None, sorted(errors, key=error_sort_key)
    assert product_code is not None
    assert product_name is not None
    assert sku is not None
    assert currency is not None
    assert price_minor is not None
    assert attributes is not None
    row = ProductRow(
        line=line,
        product_code=product_code,
        product_name=product_name,
        category=category,
        brand=brand,
        status=status,
        sku=sku,
        barcode=barcode,
        price_minor=price_minor,
        cost_minor=cost_minor,
        currency=currency,
        weight_grams=weight,
        attributes=attributes,
    )
    return row, errors


def _head_value(column: str, text: str) -> str:
    return " ".join(text.split()) if column == "product_name" else text.strip().lower()


class FileChecks:
    """Rules across the rows of one file: unique SKUs and barcodes, consistent products.

    Feed rows in file order with :meth:`check`; afterwards
    :meth:`first_occurrence_errors` flags the first row of every repeated SKU or
    barcode too, so that no row of a clash is imported in partial mode.
    """

    def __init__(self) -> None:
        self._sku_lines: dict[str, int] = {}
        self._barcodes: dict[str, tuple[int, str]] = {}
        self._heads: dict[str, tuple[int, tuple[str, ...]]] = {}
        self._late: list[FieldError] = []

    def check(self, line: int, cells: Mapping[str, str]) -> list[FieldError]:
        errors: list[FieldError] = []
        sku = (cells.get("sku") or "").strip()
        if sku and not undecodable(sku):
            first = self._sku_lines.setdefault(sku, line)
            if first != line:
                errors.append(
                    FieldError(
                        "sku",
                        CatalogError.DUPLICATE_SKU,
                        f"SKU '{sku}' is also on line {first}",
                        line,
                    )
                )
                self._late.append(
                    FieldError(
                        "sku",
                        CatalogError.DUPLICATE_SKU,
                        f"SKU '{sku}' is repeated on line {line}",
                        first,
                    )
                )
        barcode = (cells.get("barcode") or "").strip()
        if barcode and not undecodable(barcode):
            first_line, first_sku = self._barcodes.setdefault(barcode, (line, sku))
            if first_line != line and first_sku != sku:
                errors.append(
                    FieldError(
                        "barcode",
                        CatalogError.DUPLICATE_BARCODE,
                        f"barcode '{barcode}' is also on line {first_line} (SKU '{first_sku}')",
                        line,
                    )
                )
                self._late.append(
                    FieldError(
                        "barcode",
                        CatalogError.DUPLICATE_BARCODE,
                        f"barcode '{barcode}' is repeated on line {line} (SKU '{sku}')",
                        first_line,
                    )
                )
        errors.extend(self._check_head(line, cells))
        return errors

    def _check_head(self, line: int, cells: Mapping[str, str]) -> list[FieldError]:
        code = (cells.get("product_code") or "").strip()
        if not code or undecodable(code):
            return []
        head = tuple(_head_value(c, cells.get(c) or "") for c in _HEAD_COLUMNS)
        first_line, first_head = self._heads.setdefault(code, (line, head))
        errors: list[FieldError] = []
        for column, mine, theirs in zip(_HEAD_COLUMNS, head, first_head, strict=True):
            if mine != theirs and not undecodable(mine) and not undecodable(theirs):
                errors.append(
                    FieldError(
                        column,
                        CatalogError.INCONSISTENT_PRODUCT,
                        f"product '{code}' has {column} '{theirs}' on line {first_line}",
                        line,
                    )
                )
        return errors

    def first_occurrence_errors(self) -> list[FieldError]:
        return list(self._late)
