"""Shipping methods and their rate table: what shipping an order costs.

A method (``standard``, ``express``) has rates, each a fee in the store currency to
a destination (a country and optionally one of its regions, or ``*``), optionally
waived once the items reach a free-over threshold (``rules``). Order placement
reads the whole table once per checkout batch (``rate_table``) and quotes each
order's fee from it; a store with no methods at all charges no shipping.

A context with no dependency on other contexts: orders call it. Other code imports
only from here.
"""

from shopops.contexts.shipping.commands import (
    AddShippingRate,
    CreateShippingMethod,
    QuoteShipping,
    RateInput,
    ReplaceShippingRate,
    UpdateShippingMethod,
)
from shopops.contexts.shipping.errors import ShippingError
from shopops.contexts.shipping.models import ShippingMethod, ShippingRate
from shopops.contexts.shipping.rules import (
    ANYWHERE,
    Method,
    Quote,
    Rate,
    RateTable,
    choose_rate,
    fee_for,
    normalize_country,
    normalize_region,
    resolve,
    select_method,
)
from shopops.contexts.shipping.service import (
    add_rate,
    create_method,
    delete_method,
    delete_rate,
    get_method,
    list_methods,
    quote,
    rate_table,
    replace_rate,
    store_currency,
    update_method,
)

__all__ = [
    "ANYWHERE",
    "AddShippingRate",
    "CreateShippingMethod",
    "Method",
    "Quote",
    "QuoteShipping",
    "Rate",
    "RateInput",
    "RateTable",
    "ReplaceShippingRate",
    "ShippingError",
    "ShippingMethod",
    "ShippingRate",
    "UpdateShippingMethod",
    "add_rate",
    "choose_rate",
    "create_method",
    "delete_method",
    "delete_rate",
    "fee_for",
    "get_method",
    "list_methods",
    "normalize_country",
    "normalize_region",
    "quote",
    "rate_table",
    "replace_rate",
    "resolve",
    "select_method",
    "store_currency",
    "update_method",
]
