"""Integer money arithmetic of the pricing engine: one rounding rule, exact splits.

Rates are whole basis points (1 % = 100 bp), so no float or Decimal enters the
hot path. Every rounding goes through ``round_half_even``, the same rule as
``kernel.money.ROUNDING``. Splits of a whole across lines use the kernel's
largest-remainder ``allocate`` so the parts always sum exactly to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence

from shopops.kernel.money import allocate

BASIS_POINTS = 10_000  # 100 %


def round_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half to even (banker's rounding); both >= 0."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def share(amount: int, rate_bp: int) -> int:
    """``rate_bp`` basis points of ``amount``, rounded once (``round_half_even``, inlined:
    this is the engine's hottest line)."""
    quotient, remainder = divmod(amount * rate_bp, BASIS_POINTS)
    if 2 * remainder > BASIS_POINTS or (2 * remainder == BASIS_POINTS and quotient % 2 == 1):
        quotient += 1
    return quotient


def included_tax(gross: int, rate_bp: int) -> int:
    """The tax contained in a tax-inclusive ``gross`` amount at ``rate_bp``."""
    if rate_bp <= 0 or gross <= 0:
        return 0
    return round_half_even(gross * rate_bp, BASIS_POINTS + rate_bp)


def allocate_capped(total: int, weights: Sequence[int], caps: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` with no part above its cap.

    Parts that would exceed their cap are filled to the cap and the rest is
    split again among the others (largest remainder each round), so the parts
    sum exactly to ``total``. Requires ``0 <= total <= sum(caps)``.
    """
    if total < 0 or total > sum(caps):
        raise ValueError("total must lie between 0 and the sum of the caps")
    parts = [0] * len(caps)
    open_lines = [i for i, cap in enumerate(caps) if cap > 0]
    remaining = total
    while remaining > 0:
        shares = allocate(remaining, [weights[i] for i in open_lines])
        saturated = [
            i for i, part in zip(open_lines, shares, strict=True) if part >= caps[i] - parts[i]
        ]
        if not saturated:
            for i, part in zip(open_lines, shares, strict=True):
                parts[i] += part
            break
        for i in saturated:
            remaining -= caps[i] - parts[i]
            parts[i] = caps[i]
        open_lines = [i for i in open_lines if i not in saturated]
    return parts
