"""Group buying (拼团): a SKU at a group price once enough buyers join and pay in time.

Sits above orders: it places, holds, releases and cancels orders through the
orders context and reacts to their events. Other code imports only from here.
"""

from shopops.contexts.group_buying.commands import CreateGroupBuyOffer, JoinGroupBuy
from shopops.contexts.group_buying.errors import GroupBuyError
from shopops.contexts.group_buying.events import GroupBuyFailed, GroupBuyJoined, GroupBuySucceeded
from shopops.contexts.group_buying.handlers import register_handlers
from shopops.contexts.group_buying.jobs import ExpiryRun, expire_groups
from shopops.contexts.group_buying.models import BuyingGroup, GroupBuyOffer, GroupMember
from shopops.contexts.group_buying.rules import (
    GroupBuyFigures,
    GroupState,
    GroupStatus,
    MemberStatus,
)
from shopops.contexts.group_buying.service import (
    HOLD,
    GroupBuyPerformance,
    GroupDetail,
    JoinResult,
    create_offer,
    end_offer,
    get_group,
    get_offer,
    join,
    list_groups,
    list_offers,
    offer_performance,
    record_departure,
    record_payment,
    settle_expired,
)

__all__ = [
    "HOLD",
    "BuyingGroup",
    "CreateGroupBuyOffer",
    "ExpiryRun",
    "GroupBuyError",
    "GroupBuyFailed",
    "GroupBuyFigures",
    "GroupBuyJoined",
    "GroupBuyOffer",
    "GroupBuyPerformance",
    "GroupBuySucceeded",
    "GroupDetail",
    "GroupMember",
    "GroupState",
    "GroupStatus",
    "JoinGroupBuy",
    "JoinResult",
    "MemberStatus",
    "create_offer",
    "end_offer",
    "expire_groups",
    "get_group",
    "get_offer",
    "join",
    "list_groups",
    "list_offers",
    "offer_performance",
    "record_departure",
    "record_payment",
    "register_handlers",
    "settle_expired",
]
