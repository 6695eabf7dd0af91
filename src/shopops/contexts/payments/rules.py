"""Pure payment rules: splitting a refund across lines, merchant references."""

from __future__ import annotations

from collections.abc import Sequence

from shopops.kernel.money import allocate


def allocate_refund(amount_minor: int, refundable: Sequence[int]) -> list[int]:
    """Split a refund across lines in proportion to what each can still refund.

    Largest remainder: the parts sum exactly to ``amount_minor`` and no part
    exceeds its line's ``refundable`` amount. Raises ``ValueError`` when the
    lines cannot absorb the amount.
    """
    if amount_minor <= 0:
        raise ValueError("a refund must be positive")
    if any(r < 0 for r in refundable):
        raise ValueError("refundable amounts must not be negative")
    if amount_minor > sum(refundable):
        raise ValueError("the lines cannot absorb the refund")
    return allocate(amount_minor, refundable)


def parse_merchant_reference(value: object) -> tuple[str, int] | None:
    """``"payment:12"`` -> ``("payment", 12)``; anything else -> None."""
    if not isinstance(value, str) or ":" not in value:
        return None
    kind, _, raw_id = value.partition(":")
    if kind not in ("payment", "refund") or not raw_id.isdigit():
        return None
    return kind, int(raw_id)


METHODS = ("card", "wallet", "alipay", "wechat_pay", "bank_transfer")
