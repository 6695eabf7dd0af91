from __future__ import annotations

from enum import StrEnum


class InventoryError(StrEnum):
    INSUFFICIENT_STOCK = "inventory.insufficient_stock"
    WAREHOUSE_NOT_FOUND = "inventory.warehouse_not_found"
    WAREHOUSE_CODE_TAKEN = "inventory.warehouse_code_taken"
    WAREHOUSE_INACTIVE = "inventory.warehouse_inactive"
    UNKNOWN_SKU = "inventory.unknown_sku"
    INVALID_QUANTITY = "inventory.invalid_quantity"
    BELOW_RESERVED = "inventory.below_reserved"
    SAME_WAREHOUSE = "inventory.same_warehouse"
    NOTHING_RESERVED = "inventory.nothing_reserved"


MAX_QUANTITY = 1_000_000
