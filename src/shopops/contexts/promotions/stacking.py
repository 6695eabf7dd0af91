"""Which eligible promotions apply together.

Two promotions conflict when either is exclusive, when they share a stacking
group and at least one line, or when either one's ``combinable_with`` list
leaves the other out. Promotions in no conflict always apply. Among the
conflicting ones the engine builds a bounded number of compatible sets — a
greedy pick by stand-alone value, and the same pick seeded with each of the
most valuable contested promotions the greedy pick left out — prices the
promising ones in full, and keeps the set best for the customer (largest total
discount; ties to the lower priorities, then the lower ids). Every step is
ordered, so the same cart always gets the same answer.

Conflicts are bit masks over the candidates (bit ``k`` is the ``k``-th candidate
by id), so building them is linear in candidates x lines and testing a set is
one AND.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shopops.contexts.promotions.eligibility import Candidate

MAX_SEEDS = 8  # sets seeded with one contested promotion the greedy pick left out
MAX_PRICED = 4  # sets priced in full at most


def conflict_between(a: Candidate, b: Candidate) -> str | None:
    """Why ``a`` and ``b`` cannot apply together, or None when they can."""
    sa, sb = a.rule.stacking, b.rule.stacking
    if sa.exclusive or sb.exclusive:
        return f"promotion {(a if sa.exclusive else b).id} is exclusive"
    if a.group == b.group and not set(a.lines).isdisjoint(b.lines):
        return f"both are in stacking group '{a.group}' and cover the same line"
    if not (sa.allows(b.id, b.group) and sb.allows(a.id, a.group)):
        return "not on each other's combinable_with list"
    return None


def conflict_masks(candidates: Sequence[Candidate]) -> list[int]:
    """For each candidate, the bits of the candidates it cannot apply with (symmetric)."""
    everyone = (1 << len(candidates)) - 1
    covering: dict[str, dict[int, int]] = {}  # group -> line -> candidates covering it
    for k, candidate in enumerate(candidates):
        bit = 1 << k
        lines = covering.setdefault(candidate.group, {})
        for line in candidate.lines:
            lines[line] = lines.get(line, 0) | bit
    masks = []
    for k, candidate in enumerate(candidates):
        lines = covering[candidate.group]
        mask = 0
        for line in candidate.lines:
            mask |= lines[line]
        masks.append(mask & ~(1 << k))
    for k, candidate in enumerate(candidates):
        stacking = candidate.rule.stacking
        if stacking.exclusive:
            blocked = everyone
        elif stacking.combinable_ids is not None:
            blocked = everyone
            for j, other in enumerate(candidates):
                if stacking.allows(other.id, other.group):
                    blocked &= ~(1 << j)
        else:
            continue
        blocked &= ~(1 << k)
        masks[k] |= blocked
        j = 0
        while blocked >> j:
            if blocked >> j & 1:
                masks[j] |= 1 << k
            j += 1
    return masks


def candidate_sets(
    candidates: Sequence[Candidate], masks: Sequence[int], standalone: Callable[[int], int]
) -> list[int]:
    """Compatible sets worth pricing in full, as bit masks over ``candidates``.

    First the greedy pick; then, best first and at most ``MAX_PRICED - 1`` of
    them, the seeded picks whose members' stand-alone values add up to more than
    those of the members they displace (the others cannot be expected to win).
    """
    contested = [k for k, mask in enumerate(masks) if mask]
    free = sum(1 << k for k, mask in enumerate(masks) if not mask)
    if not contested:
        return [free]
    values = {k: standalone(k) for k in contested}
    order = sorted(
        contested,
        key=lambda k: (-values[k], candidates[k].rule.stacking.priority, candidates[k].id),
    )

    def greedy(chosen: int) -> int:
        for k in order:
            if not masks[k] & chosen:
                chosen |= 1 << k
        return free | chosen

    first = greedy(0)
    seeded: list[tuple[int, int]] = []
    for seed in [k for k in order if not first >> k & 1][:MAX_SEEDS]:
        picked = greedy(1 << seed)
        gain = sum(values[k] for k in members(picked & ~first)) - sum(
            values[k] for k in members(first & ~picked)
        )
        if gain > 0 and all(picked != other for _, other in seeded):
            seeded.append((-gain, picked))
    seeded.sort()
    return [first] + [picked for _, picked in seeded[: MAX_PRICED - 1]]


def members(chosen: int) -> list[int]:
    """Indexes of the set bits, ascending."""
    found = []
    while chosen:
        lowest = chosen & -chosen
        found.append(lowest.bit_length() - 1)
        chosen ^= lowest
    return found
