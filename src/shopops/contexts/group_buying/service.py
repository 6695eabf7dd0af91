"""Group buying (拼团): offers, opening and joining groups by placing orders at the group
price, success when every place is paid for in time, failure when the group expires.

Nothing here commits. A group's places move by conditional UPDATE on the group row
(``repository.try_take_place``), which also locks it: concurrent buyers queue there,
so a group never has more members than its size. Orders are placed, cancelled and
refunded through the orders context in the same unit of work; refunds reserved when
a group fails are sent to the gateway after the commit (``jobs.expire_groups``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shopops.auth.permissions import Permission
from shopops.contexts import orders
from shopops.contexts.group_buying import repository, rules
from shopops.contexts.group_buying.commands import CreateGroupBuyOffer, JoinGroupBuy
from shopops.contexts.group_buying.errors import GroupBuyError
from shopops.contexts.group_buying.events import (
    GroupBuyFailed,
    GroupBuyJoined,
    GroupBuySucceeded,
)
from shopops.contexts.group_buying.models import BuyingGroup, GroupBuyOffer, GroupMember
from shopops.contexts.group_buying.rules import ACTIVE_MEMBERS, GroupStatus, MemberStatus
from shopops.kernel.errors import Conflict, FieldErrorCollector, NotFound, ValidationFailed
from shopops.kernel.money import to_minor
from shopops.uow import UnitOfWork

HOLD = "group_buy"  # the orders' fulfilment hold until the group succeeds
_CANCELLABLE = (
    orders.OrderStatus.PENDING_PAYMENT,
    orders.OrderStatus.PAID,
    orders.OrderStatus.PROCESSING,
)


@dataclass(frozen=True)
class GroupDetail:
    group: BuyingGroup
    offer: GroupBuyOffer
    members: list[GroupMember] = field(default_factory=list)

    @property
    def paid(self) -> int:
        return sum(1 for m in self.members if m.status == MemberStatus.PAID)


@dataclass(frozen=True)
class JoinResult:
    detail: GroupDetail
    order: orders.Order
    opened: bool


# ---- offers ----


def create_offer(uow: UnitOfWork, command: CreateGroupBuyOffer) -> GroupBuyOffer:
    """A group-buy offer for one SKU: every error at once, nothing written on any."""
    uow.require(Permission.PROMOTIONS_WRITE)
    errors = FieldErrorCollector()
    sku = command.sku.strip()
    facts = repository.variant(uow.session, sku)
    price: int | None = None
    if facts is None or not facts.sellable:
        errors.add("sku", GroupBuyError.UNKNOWN_SKU, f"'{sku}' is not a SKU for sale")
    else:
        try:
            price = to_minor(command.group_price, facts.currency)
        except ValidationFailed as error:
            errors.add("group_price", GroupBuyError.INVALID_PRICE, error.message)
    errors.items.extend(
        rules.validate_offer(
            name=command.name,
            group_price_minor=price,
            group_size=command.group_size,
            duration_minutes=command.duration_minutes,
            starts_at=command.starts_at,
            ends_at=command.ends_at,
            max_groups=command.max_groups,
            max_quantity=command.max_quantity,
        )
    )
    errors.raise_if_any()
    assert facts is not None
    assert price is not None
    now = uow.now()
    offer = GroupBuyOffer(
        name=command.name.strip(),
        sku=sku,
        currency=facts.currency,
        list_price_minor=facts.price_minor,
        group_price_minor=price,
        group_size=command.group_size,
        duration_minutes=command.duration_minutes,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        max_groups=command.max_groups,
        groups_opened=0,
        max_quantity=command.max_quantity,
        status="active",
        created_at=now,
        updated_at=now,
    )
    uow.session.add(offer)
    uow.session.flush()
    uow.audit(
        "group_buy.offer_created",
        "group_buy_offer",
        offer.id,
        after={
            "sku": sku,
            "group_price_minor": price,
            "group_size": offer.group_size,
            "currency": offer.currency,
        },
    )
    return offer


def _offer(uow: UnitOfWork, offer_id: int) -> GroupBuyOffer:
    offer = repository.get_offer(uow.session, offer_id)
    if offer is None:
        raise NotFound(GroupBuyError.NOT_FOUND, f"group-buy offer {offer_id} does not exist")
    return offer


def get_offer(uow: UnitOfWork, offer_id: int) -> GroupBuyOffer:
    uow.require(Permission.PROMOTIONS_READ)
    return _offer(uow, offer_id)


def list_offers(
    uow: UnitOfWork, *, status: str | None = None, after_id: int | None = None, limit: int = 50
) -> Sequence[GroupBuyOffer]:
    uow.require(Permission.PROMOTIONS_READ)
    return repository.list_offers(uow.session, status=status, after_id=after_id, limit=limit)


@dataclass(frozen=True)
class GroupBuyPerformance:
    offer: GroupBuyOffer
    as_of: datetime
    figures: rules.GroupBuyFigures


def offer_performance(uow: UnitOfWork, offer_id: int) -> GroupBuyPerformance:
    """How the offer's groups did, from its groups, members and their orders: three
    queries (the offer, its groups, its members), whatever their number. Writes nothing."""
    uow.require(Permission.PROMOTIONS_READ)
    offer = _offer(uow, offer_id)
    return GroupBuyPerformance(offer, uow.now(), repository.offer_figures(uow.session, offer))


def end_offer(uow: UnitOfWork, offer_id: int) -> GroupBuyOffer:
    """No new groups from now on; groups already open run until they expire."""
    uow.require(Permission.PROMOTIONS_WRITE)
    offer = _offer(uow, offer_id)
    if offer.status != "ended":
        offer.status = "ended"
        offer.updated_at = uow.now()
        uow.audit("group_buy.offer_ended", "group_buy_offer", offer.id, after={"status": "ended"})
    return offer


# ---- groups ----


def _detail(uow: UnitOfWork, group: BuyingGroup) -> GroupDetail:
    members = repository.members_of(uow.session, [group.id])[group.id]
    return GroupDetail(group, _offer(uow, group.offer_id), members)


def get_group(uow: UnitOfWork, group_id: int) -> GroupDetail:
    uow.require(Permission.ORDERS_READ)
    group = repository.get_group(uow.session, group_id)
    if group is None:
        raise NotFound(GroupBuyError.GROUP_NOT_FOUND, f"group {group_id} does not exist")
    return _detail(uow, group)


def list_groups(
    uow: UnitOfWork,
    offer_id: int,
    *,
    status: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[GroupDetail]:
    """Groups of an offer, oldest first, with their members (two queries)."""
    uow.require(Permission.ORDERS_READ)
    offer = _offer(uow, offer_id)
    groups = repository.groups_of_offer(
        uow.session, offer_id, status=status, after_id=after_id, limit=limit
    )
    members = repository.members_of(uow.session, [g.id for g in groups])
    return [GroupDetail(g, offer, members[g.id]) for g in groups]


def _join_errors(command: JoinGroupBuy, offer: GroupBuyOffer) -> None:
    errors = FieldErrorCollector()
    if command.customer_id is None:
        errors.add("customer_id", GroupBuyError.CUSTOMER_REQUIRED, "group buys are for customers")
    if not 1 <= command.quantity <= offer.max_quantity:
        errors.add(
            "quantity",
            GroupBuyError.INVALID_QUANTITY,
            f"1 to {offer.max_quantity} per member",
        )
    errors.raise_if_any()


def _open(uow: UnitOfWork, offer: GroupBuyOffer, customer_id: int) -> BuyingGroup:
    now = uow.now()
    if not repository.try_open_group(uow.session, offer.id, now):
        uow.session.refresh(offer)
        running = offer.status == "active" and offer.starts_at <= now < offer.ends_at
        if running:
            raise Conflict(
                GroupBuyError.MAX_GROUPS_REACHED,
                f"offer {offer.id} has opened all its {offer.max_groups} groups",
                details={"max_groups": offer.max_groups},
            )
        raise Conflict(
            GroupBuyError.OFFER_NOT_RUNNING,
            f"offer {offer.id} is not open for new groups now",
            details={
                "starts_at": offer.starts_at.isoformat(),
                "ends_at": offer.ends_at.isoformat(),
            },
        )
    group = BuyingGroup(
        offer_id=offer.id,
        status=GroupStatus.OPEN,
        size=offer.group_size,
        joined=1,
        opened_by=customer_id,
        opened_at=now,
        expires_at=now + timedelta(minutes=offer.duration_minutes),
    )
    uow.session.add(group)
    uow.session.flush()
    return group


def _take_place(uow: UnitOfWork, offer: GroupBuyOffer, group_id: int) -> BuyingGroup:
    group = repository.get_group(uow.session, group_id)
    if group is None or group.offer_id != offer.id:
        raise NotFound(GroupBuyError.GROUP_NOT_FOUND, f"offer {offer.id} has no group {group_id}")
    now = uow.now()
    taken = repository.try_take_place(uow.session, group.id, now)
    uow.session.refresh(group)
    if not taken:
        state = rules.GroupState(
            GroupStatus(group.status), group.size, group.joined, 0, group.expires_at
        )
        refusal = rules.join_refusal(state, now) or GroupBuyError.GROUP_CLOSED
        raise Conflict(
            refusal,
            f"group {group.id} is {'full' if refusal == GroupBuyError.GROUP_FULL else 'closed'}",
            details={"group_id": group.id, "size": group.size, "status": group.status},
        )
    return group


def join(uow: UnitOfWork, command: JoinGroupBuy) -> JoinResult:
    """Open a group (no ``group_id``) or join one, by placing an order at the group price.

    The order is held from shipping until the group succeeds, and must be paid before
    the group expires. A full group is ``group_buys.group_full``, an expired or
    finished one ``group_buys.group_closed``; a customer already in the group
    ``group_buys.already_member``. Any failure (stock, validation) places nothing and
    takes no place.
    """
    uow.require(Permission.ORDERS_WRITE)
    offer = _offer(uow, command.offer_id)
    _join_errors(command, offer)
    customer_id = command.customer_id
    assert customer_id is not None
    facts = repository.variant(uow.session, offer.sku)
    if facts is None or facts.currency != offer.currency:
        raise Conflict(
            GroupBuyError.OFFER_NOT_RUNNING,
            f"{offer.sku} is no longer sold in {offer.currency}",
        )
    opened = command.group_id is None
    if command.group_id is None:
        group = _open(uow, offer, customer_id)
    else:
        group = _take_place(uow, offer, command.group_id)
        if repository.active_membership(uow.session, group.id, customer_id) is not None:
            raise Conflict(
                GroupBuyError.ALREADY_MEMBER,
                f"customer {customer_id} is already in group {group.id}",
                details={"group_id": group.id},
            )
    order = orders.place_order(
        uow,
        orders.PlaceOrder(
            lines=(orders.OrderLineRequest(offer.sku, command.quantity),),
            shipping_address=command.shipping_address,
            channel=command.channel,
            customer_id=customer_id,
            tags=("group-buy",),
            note=command.note,
        ),
        offer=orders.OfferTerms(
            reference=f"group:{group.id}",
            sku=offer.sku,
            unit_price_minor=offer.group_price_minor,
            payment_due_at=group.expires_at,
            hold=HOLD,
        ),
    )
    now = uow.now()
    member = GroupMember(
        group_id=group.id,
        customer_id=customer_id,
        order_id=order.id,
        order_number=order.number,
        quantity=command.quantity,
        status=MemberStatus.JOINED,
        joined_at=now,
    )
    uow.session.add(member)
    uow.session.flush()
    uow.emit(
        GroupBuyJoined(
            group.id,
            offer.id,
            customer_id,
            order.id,
            order.number,
            group.joined,
            group.size,
            opened,
        )
    )
    uow.audit(
        "group_buy.opened" if opened else "group_buy.joined",
        "buying_group",
        group.id,
        after={"order": order.number, "customer_id": customer_id, "joined": group.joined},
    )
    return JoinResult(_detail(uow, group), order, opened)


# ---- settling ----


def _locked(uow: UnitOfWork, group_id: int) -> tuple[BuyingGroup, list[GroupMember]]:
    group = repository.get_group(uow.session, group_id, for_update=True)
    if group is None:
        raise NotFound(GroupBuyError.GROUP_NOT_FOUND, f"group {group_id} does not exist")
    return group, repository.members_of(uow.session, [group.id])[group.id]


def _sync_payments(uow: UnitOfWork, group: BuyingGroup, members: Sequence[GroupMember]) -> None:
    """Members whose orders were paid before the group expired count as paid (read from
    the orders, so a payment whose event is still on its way counts too)."""
    for member in members:
        if member.status != MemberStatus.JOINED:
            continue
        paid_at = orders.get_order(uow, member.order_id).paid_at
        if paid_at is not None and paid_at < group.expires_at:
            member.status = MemberStatus.PAID
            member.paid_at = paid_at


def _state(group: BuyingGroup, members: Sequence[GroupMember]) -> rules.GroupState:
    paid = sum(1 for m in members if m.status == MemberStatus.PAID)
    return rules.GroupState(
        GroupStatus(group.status), group.size, group.joined, paid, group.expires_at
    )


def _succeed(uow: UnitOfWork, group: BuyingGroup, members: Sequence[GroupMember]) -> None:
    group.status = GroupStatus.SUCCEEDED
    group.closed_at = uow.now()
    numbers = []
    for member in members:
        if member.status == MemberStatus.PAID:
            orders.release_hold(uow, member.order_id, reason=f"group buy {group.id} filled")
            numbers.append(member.order_number)
    uow.emit(GroupBuySucceeded(group.id, group.offer_id, group.size, numbers))
    uow.audit("group_buy.succeeded", "buying_group", group.id, after={"orders": numbers})


def _fail(uow: UnitOfWork, group: BuyingGroup, members: Sequence[GroupMember]) -> list[int]:
    """Cancel every active member's order (releasing its stock and reserving a refund of
    what it paid, through the orders context); returns the refunds to send."""
    now = uow.now()
    paid = sum(1 for m in members if m.status == MemberStatus.PAID)
    group.status = GroupStatus.FAILED
    group.closed_at = now
    refunds: list[int] = []
    numbers: list[str] = []
    for member in members:
        if member.status not in ACTIVE_MEMBERS:
            continue
        if orders.get_order(uow, member.order_id).status in _CANCELLABLE:
            orders.cancel_order(
                uow, member.order_id, reason=f"group buy {group.id} did not fill in time"
            )
            refunds += orders.requested_refunds(uow, member.order_id)
        member.status = MemberStatus.CANCELLED
        member.left_at = now
        numbers.append(member.order_number)
    uow.emit(GroupBuyFailed(group.id, group.offer_id, group.size, paid, numbers, refunds))
    uow.audit("group_buy.failed", "buying_group", group.id, after={"orders": numbers, "paid": paid})
    return refunds


def record_payment(uow: UnitOfWork, order_id: int) -> GroupStatus | None:
    """A member's order was paid: it counts if paid before the group expired, and the
    group succeeds when every place is paid for. None for orders of no group."""
    member = repository.member_by_order(uow.session, order_id)
    if member is None:
        return None
    group, members = _locked(uow, member.group_id)
    if group.status != GroupStatus.OPEN:
        return GroupStatus(group.status)
    _sync_payments(uow, group, members)
    if rules.settle(_state(group, members), uow.now()) == GroupStatus.SUCCEEDED:
        _succeed(uow, group, members)
    return GroupStatus(group.status)


def record_departure(uow: UnitOfWork, order_id: int) -> None:
    """A member's order was closed unpaid or cancelled: an open group frees the place."""
    member = repository.member_by_order(uow.session, order_id)
    if member is None:
        return
    group, members = _locked(uow, member.group_id)
    member = next(m for m in members if m.order_id == order_id)
    if member.status not in ACTIVE_MEMBERS:
        return  # already gone, or cancelled with its failed group
    member.status = MemberStatus.LEFT
    member.left_at = uow.now()
    if group.status == GroupStatus.OPEN:
        repository.give_back_place(uow.session, group.id)


def settle_expired(uow: UnitOfWork, group_id: int) -> tuple[GroupStatus, list[int]]:
    """An expired group: succeeds if every place was paid for in time, else fails and
    its members' orders are cancelled. Returns the outcome and the refunds to send."""
    group, members = _locked(uow, group_id)
    if group.status != GroupStatus.OPEN:
        return GroupStatus(group.status), []
    _sync_payments(uow, group, members)
    outcome = rules.settle(_state(group, members), uow.now())
    if outcome == GroupStatus.SUCCEEDED:
        _succeed(uow, group, members)
        return outcome, []
    if outcome == GroupStatus.FAILED:
        return outcome, _fail(uow, group, members)
    return outcome, []
