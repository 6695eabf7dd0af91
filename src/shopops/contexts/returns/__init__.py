"""Returns and after-sales: return requests per line, receipt, restock or write-off, refund."""

from shopops.contexts.returns.commands import (
    LineReceipt,
    ReceiveReturn,
    RequestReturn,
    ReturnLineRequest,
)
from shopops.contexts.returns.errors import ReturnError
from shopops.contexts.returns.events import ReturnUpdated
from shopops.contexts.returns.handlers import register_handlers
from shopops.contexts.returns.models import (
    Disposition,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from shopops.contexts.returns.refunding import refund_return
from shopops.contexts.returns.repository import ReturnFilter
from shopops.contexts.returns.rules import TRANSITIONS, can_transition, units_value
from shopops.contexts.returns.service import (
    ReturnDetail,
    approve_return,
    get_return,
    list_returns,
    mark_refunded,
    receive_return,
    reject_return,
    request_return,
)

__all__ = [
    "TRANSITIONS",
    "Disposition",
    "LineReceipt",
    "ReceiveReturn",
    "RequestReturn",
    "ReturnDetail",
    "ReturnError",
    "ReturnFilter",
    "ReturnLine",
    "ReturnLineRequest",
    "ReturnReason",
    "ReturnRequest",
    "ReturnStatus",
    "ReturnUpdated",
    "approve_return",
    "can_transition",
    "get_return",
    "list_returns",
    "mark_refunded",
    "receive_return",
    "refund_return",
    "register_handlers",
    "reject_return",
    "request_return",
    "units_value",
]
