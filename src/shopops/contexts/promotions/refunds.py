"""What returning some units of a priced line gives back, exactly.

Units are refunded by cumulative shares: the first ``k`` of ``n`` units are worth
``total * k // n``, so a return of units ``[r, r + q)`` refunds
``share(r + q) - share(r)``. However a line is returned — all at once or unit by
unit, in any order of partial returns — the refunds sum to exactly what was paid
for it, and each promotion's reversed discount sums to exactly what it gave.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopops.contexts.promotions.priced import PricedLine


def _share(amount: int, units: int, quantity: int) -> int:
    return amount * units // quantity


@dataclass(frozen=True, slots=True)
class LineRefund:
    amount_minor: int  # money back to the customer
    discounts_reversed: dict[int, int]  # promotion id -> discount taken back with the units
    points_minor: int  # value of points given back


def refund_units(line: PricedLine, already_returned: int, quantity: int) -> LineRefund:
    """The refund for returning ``quantity`` more units of ``line``."""
    if quantity <= 0 or already_returned < 0 or already_returned + quantity > line.quantity:
        raise ValueError("cannot return more units than the line has")
    before, after = already_returned, already_returned + quantity

    def part(amount: int) -> int:
        return _share(amount, after, line.quantity) - _share(amount, before, line.quantity)

    reversed_: dict[int, int] = {}
    for discount in (*line.item_discounts, *line.order_discounts):
        reversed_[discount.promotion_id] = reversed_.get(discount.promotion_id, 0) + part(
            discount.amount_minor
        )
    return LineRefund(part(line.total_minor), reversed_, part(line.points_minor))
