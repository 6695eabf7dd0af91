"""Pure returns rules: the status machine and the value of returned units."""

from __future__ import annotations

from shopops.contexts.returns.models import ReturnStatus

S = ReturnStatus

TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.RECEIVED, S.REFUNDED}),
    S.RECEIVED: frozenset({S.REFUNDED}),
    S.REJECTED: frozenset(),
    S.REFUNDED: frozenset(),
}


def can_transition(current: str, target: str, *, refund_only: bool) -> bool:
    """Goods come back before the refund, except on refund-only returns (no receipt)."""
    source, goal = ReturnStatus(current), ReturnStatus(target)
    if goal not in TRANSITIONS[source]:
        return False
    if goal == S.RECEIVED:
        return not refund_only
    if source == S.APPROVED and goal == S.REFUNDED:
        return refund_only
    return True


def units_value(line_total_minor: int, line_quantity: int, start: int, count: int) -> int:
    """Value of units ``start .. start+count`` of a line, split exactly (largest remainder).

    The line total is spread over its units (the first ``total % quantity``
    units carry one extra minor unit), so returning every unit, in any number
    of returns, adds up to exactly the line total.
    """
    base, extra = divmod(line_total_minor, line_quantity)

    def value(units: int) -> int:
        return units * base + min(units, extra)

    return value(start + count) - value(start)
