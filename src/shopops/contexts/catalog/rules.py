"""Pure catalog policies: identifiers, slugs, amounts, attributes, the category tree, CSV rows.

Nothing here touches the database. Each ``parse_*`` function returns the clean
value or raises :class:`RuleViolation` with a stable code, so callers can turn
violations into field errors (API field names or CSV columns with line numbers).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from shopops.contexts.catalog.errors import CatalogError
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed
from shopops.kernel.money import currency_exponent, normalize_currency, to_major, to_minor

MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 200
MAX_SLUG_LENGTH = 120
MAX_AMOUNT_MINOR = 10**15
MAX_WEIGHT_GRAMS = 10**9

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_INTEGER = re.compile(r"^\+?\d+$")


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class RuleViolation(ValueError):
    """A value breaks a catalog rule; ``code`` is a :class:`CatalogError` value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


V = TypeVar("V")


def collect(errors: FieldErrorCollector, field_name: str, parse: Callable[[], V]) -> V | None:
    """Run ``parse``; on a rule violation record it against ``field_name`` and return None."""
    try:
        return parse()
    except RuleViolation as violation:
        errors.add(field_name, violation.code, violation.message)
        return None


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))


# --- identifiers, names, slugs ------------------------------------------------------


def parse_identifier(text: str, what: str) -> str:
    """A product code, SKU or barcode: 1-64 printable characters without spaces."""
    value = text.strip()
    if not value:
        raise RuleViolation(CatalogError.REQUIRED, f"{what} is required")
    if len(value) > MAX_CODE_LENGTH:
        raise RuleViolation(
            CatalogError.TOO_LONG, f"{what} is longer than {MAX_CODE_LENGTH} characters"
        )
    if not value.isprintable() or " " in value:  # other spaces are not printable
        raise RuleViolation(
            CatalogError.INVALID_CODE, f"{what} '{value}' must not contain spaces or control chars"
        )
    return value


def parse_name(text: str, what: str = "name") -> str:
    value = " ".join(text.split())
    if not value:
        raise RuleViolation(CatalogError.REQUIRED, f"{what} is required")
    if len(value) > MAX_NAME_LENGTH:
        raise RuleViolation(
            CatalogError.TOO_LONG, f"{what} is longer than {MAX_NAME_LENGTH} characters"
        )
    return value


def slugify(text: str) -> str:
    """``"Café & Bar"`` → ``"cafe-bar"``; may return "" when nothing ASCII remains."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_SLUG_LENGTH]


def parse_slug(text: str) -> str:
    value = text.strip().lower()
    if not value:
        raise RuleViolation(CatalogError.REQUIRED, "slug is required")
    if len(value) > MAX_SLUG_LENGTH or not _SLUG.match(value):
        raise RuleViolation(
            CatalogError.INVALID_SLUG,
            f"'{value}' is not a slug (lowercase letters, digits and single hyphens)",
        )
    return value


def parse_status(text: str) -> ProductStatus:
    value = text.strip().lower()
    try:
        return ProductStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in ProductStatus)
        raise RuleViolation(
            CatalogError.INVALID_STATUS, f"unknown status '{text.strip()}'; allowed: {allowed}"
        ) from None


# --- money, weight, attributes ------------------------------------------------------


def parse_currency(text: str) -> str:
    try:
        return normalize_currency(text)
    except ValidationFailed as error:
        raise RuleViolation(CatalogError.INVALID_CURRENCY, error.message) from None


def parse_amount(text: str, currency: str | None) -> int:
    """A non-negative major-unit decimal (``"12.50"``) as minor units of ``currency``.

    Refuses more decimal places than the currency has (JPY 0, USD 2, KWD 3).
    With ``currency=None`` (the currency itself is invalid) only the form and the
    sign are checked and 0 is returned.
    """
    value = text.strip()
    if not value:
        raise RuleViolation(CatalogError.REQUIRED, "an amount is required")
    if not _DECIMAL.match(value):
        raise RuleViolation(CatalogError.INVALID_AMOUNT, f"'{value}' is not a decimal number")
    if value.startswith("-") and value.strip("-0.") != "":
        raise RuleViolation(CatalogError.NEGATIVE_AMOUNT, f"'{value}' is negative")
    if currency is None:
        return 0
    try:
        minor = to_minor(value.lstrip("+-"), currency)
    except ValidationFailed:
        places = currency_exponent(currency)
        raise RuleViolation(
            CatalogError.TOO_PRECISE,
            f"'{value}' has more than {places} decimal places for {currency}",
        ) from None
    if minor > MAX_AMOUNT_MINOR:
        raise RuleViolation(CatalogError.AMOUNT_TOO_LARGE, f"'{value}' is too large")
    return minor


def format_amount(minor: int, currency: str) -> str:
    """Minor units as a decimal string with exactly the currency's places (``"12.50"``)."""
    return str(to_major(minor, currency))


def parse_weight(text: str) -> int:
    value = text.strip()
    if not _INTEGER.match(value) or int(value) > MAX_WEIGHT_GRAMS:
        raise RuleViolation(
            CatalogError.INVALID_WEIGHT,
            f"weight '{value}' must be a whole number of grams from 0 to {MAX_WEIGHT_GRAMS}",
        )
    return int(value)


def check_weight(value: int) -> int:
    if not 0 <= value <= MAX_WEIGHT_GRAMS:
        raise RuleViolation(
            CatalogError.INVALID_WEIGHT, f"weight must be from 0 to {MAX_WEIGHT_GRAMS} grams"
        )
    return value


def check_attributes(value: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes are a flat object: string keys, scalar values (text, number, bool, null)."""
    clean: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise RuleViolation(CatalogError.INVALID_ATTRIBUTES, "attribute names must be text")
        if isinstance(item, (dict, list)):
            raise RuleViolation(
                CatalogError.INVALID_ATTRIBUTES, f"attribute '{key}' must be a single value"
            )
        clean[key.strip()] = item
    return clean


def parse_attributes(text: str) -> dict[str, Any]:
    """A JSON object (``{"color": "red"}``) or ``key=value;key=value`` pairs."""
    value = text.strip()
    if not value:
        return {}
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise RuleViolation(
                CatalogError.INVALID_ATTRIBUTES, "attributes are not valid JSON"
            ) from None
        if not isinstance(parsed, dict):
            raise RuleViolation(CatalogError.INVALID_ATTRIBUTES, "attributes must be an object")
        return check_attributes(parsed)
    pairs: dict[str, Any] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        key, sep, item = part.partition("=")
        if not sep or not key.strip():
            raise RuleViolation(
                CatalogError.INVALID_ATTRIBUTES,
                f"'{part.strip()}' is not key=value (use key=value;key=value or a JSON object)",
            )
        if key.strip() in pairs:
            raise RuleViolation(
                CatalogError.INVALID_ATTRIBUTES, f"attribute '{key.strip()}' is given twice"
            )
        pairs[key.strip()] = item.strip()
    return pairs


def format_attributes(attributes: Mapping[str, Any]) -> str:
    if not attributes:
        return ""
    return json.dumps(dict(attributes), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- the category tree --------------------------------------------------------------


def creates_cycle(
    category_id: int, new_parent_id: int | None, parent_of: Mapping[int, int | None]
) -> bool:
    """Would making ``new_parent_id`` the parent of ``category_id`` close a loop?"""
    seen: set[int] = set()
    current = new_parent_id
    while current is not None and current not in seen:
        if current == category_id:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return current is not None


def descendants(root_id: int, parent_of: Mapping[int, int | None]) -> set[int]:
    """``root_id`` and every category below it."""
    children: dict[int, list[int]] = {}
    for child, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found = {root_id}
    stack = [root_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


T = TypeVar("T")


@dataclass
class TreeNode(Generic[T]):
    item: T
    children: list[TreeNode[T]] = field(default_factory=list)


def build_tree(
    items: Iterable[T], id_of: Callable[[T], int], parent_of: Callable[[T], int | None]
) -> list[TreeNode[T]]:
    """Nest ``items`` under their parents, keeping the given order among siblings."""
    nodes = [TreeNode(item) for item in items]
    by_id = {id_of(node.item): node for node in nodes}
    roots: list[TreeNode[T]] = []
    for node in nodes:
        parent = parent_of(node.item)
        if parent is not None and parent in by_id:
            by_id[parent].children.append(node)
        else:
            roots.append(node)
    return roots
