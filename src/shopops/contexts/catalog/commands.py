"""Catalog commands: frozen requests with imperative names.

Amounts are decimal strings in major units (``"12.50"``); the service checks
them against the currency's decimal places. ``UNSET`` marks a field a change
command leaves alone, so that ``None`` can mean "clear it".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, BinaryIO, Literal


class Unset(Enum):
    UNSET = "unset"


UNSET = Unset.UNSET
Maybe = Literal[Unset.UNSET]


@dataclass(frozen=True)
class CreateCategory:
    name: str
    slug: str | None = None  # derived from the name when omitted
    parent_id: int | None = None
    is_active: bool = True


@dataclass(frozen=True)
class ChangeCategory:
    category_id: int
    name: str | None = None
    slug: str | None = None
    parent_id: int | Maybe | None = UNSET
    is_active: bool | None = None


@dataclass(frozen=True)
class CreateBrand:
    name: str
    slug: str | None = None


@dataclass(frozen=True)
class ChangeBrand:
    brand_id: int
    name: str | None = None
    slug: str | None = None


@dataclass(frozen=True)
class NewVariant:
    sku: str
    price: str
    currency: str
    cost: str | None = None
    barcode: str | None = None
    weight_grams: int | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    is_active: bool = True


@dataclass(frozen=True)
class CreateProduct:
    code: str
    name: str
    description: str = ""
    category_id: int | None = None
    brand_id: int | None = None
    status: str = "draft"
    variants: tuple[NewVariant, ...] = ()


@dataclass(frozen=True)
class ChangeProduct:
    product_id: int
    name: str | None = None
    description: str | None = None
    category_id: int | Maybe | None = UNSET
    brand_id: int | Maybe | None = UNSET
    status: str | None = None


@dataclass(frozen=True)
class AddVariant:
    product_id: int
    variant: NewVariant


@dataclass(frozen=True)
class ChangeVariant:
    """Change a variant found by SKU. A new currency needs the price (and cost) in it."""

    sku: str
    price: str | None = None
    currency: str | None = None
    cost: str | Maybe | None = UNSET
    barcode: str | Maybe | None = UNSET
    weight_grams: int | Maybe | None = UNSET
    attributes: Mapping[str, Any] | None = None
    is_active: bool | None = None


@dataclass(frozen=True)
class ListProducts:
    status: str | None = None
    category_id: int | None = None  # includes its subcategories
    brand_id: int | None = None
    query: str | None = None  # in code, name or SKU
    after_id: int | None = None
    limit: int = 50


@dataclass(frozen=True)
class ImportProducts:
    """Import a product CSV (see ``rows.py`` for the columns).

    ``source`` must be a seekable binary file: it is read twice, once to
    validate every row and once to write. With ``partial`` the valid rows are
    imported and the invalid ones returned; otherwise any error imports nothing.
    """

    source: BinaryIO
    partial: bool = False
    default_currency: str = "USD"
