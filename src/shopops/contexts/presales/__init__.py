"""Presales with a deposit (定金): a SKU sold for a deposit now, worth more than it costs
against the final price, and the balance in a later window.

Sits above orders: orders are placed as two-step orders through the orders context,
which charges the deposit, then the balance in its window, and forfeits the deposit
when the balance is not paid in time. Other code imports only from here.
"""

from shopops.contexts.presales.commands import CreatePresale, PlacePresaleOrder
from shopops.contexts.presales.errors import PresaleError
from shopops.contexts.presales.models import PresaleOffer
from shopops.contexts.presales.rules import PresaleAmounts, PresaleFigures, amounts
from shopops.contexts.presales.service import (
    PresalePerformance,
    create_offer,
    end_offer,
    get_offer,
    list_offers,
    list_orders,
    offer_performance,
    place_order,
)

__all__ = [
    "CreatePresale",
    "PlacePresaleOrder",
    "PresaleAmounts",
    "PresaleError",
    "PresaleFigures",
    "PresaleOffer",
    "PresalePerformance",
    "amounts",
    "create_offer",
    "end_offer",
    "get_offer",
    "list_offers",
    "list_orders",
    "offer_performance",
    "place_order",
]
