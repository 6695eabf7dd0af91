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

Conflicts are bit masks over the candidates (a candidate's bit is its rule's
position, by id, in the ``PromotionSet``). The conflicts that do not depend on
the cart (``exclusive``, ``combinable_with``) are worked out once per set; the
ones from stacking groups are linear in candidates x lines; testing a set is one
AND.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from shopops.contexts.promotions.definitions import PromotionRule
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


def static_conflicts(rules: Sequence[PromotionRule]) -> tuple[int, ...]:
    """For each rule (by position), the bits of the rules it can never apply with: one of
    the two is exclusive, or a ``combinable_with`` list leaves the other out (symmetric).

    These do not depend on the cart: ``PromotionSet`` works them out once.
    """
    everyone = (1 << len(rules)) - 1
    exclusive = 0
    for k, rule in enumerate(rules):
        if rule.stacking.exclusive:
            exclusive |= 1 << k
    masks = [everyone if exclusive >> k & 1 else exclusive for k in range(len(rules))]
    for k, rule in enumerate(rules):
        stacking = rule.stacking
        if stacking.combinable_ids is None:
            continue
        for j, other in enumerate(rules):
            if not stacking.allows(other.id, other.group):
                masks[k] |= 1 << j
                masks[j] |= 1 << k
    for k in range(len(rules)):
        masks[k] &= ~(1 << k)
    return tuple(masks)


def conflict_masks(
    candidates: Sequence[Candidate],
    conflicts: Sequence[int],
    line_rules: Sequence[int],
    groups: Mapping[str, int],
) -> tuple[list[int], list[int]]:
    """For each candidate, the bits of the candidates it cannot apply with (symmetric),
    and, within those, the ones of its stacking group that cover one of its lines.

    A candidate's bit is its rule's position in the ``PromotionSet`` (ascending
    positions are ascending ids); ``conflicts`` are the set's ``static_conflicts``,
    ``line_rules`` the bits of the rules keeping each line, ``groups`` those of each
    stacking group's rules.
    """
    present = 0
    for candidate in candidates:
        present |= 1 << candidate.position
    anywhere = 0  # the rules keeping some line: all a candidate covering every line meets
    for rules in line_rules:
        anywhere |= rules
    line_count = len(line_rules)
    in_group: dict[str, int] = {}  # group -> its candidates
    masks, shared = [], []
    for candidate in candidates:
        group = candidate.group
        others = in_group.get(group)
        if others is None:
            others = in_group[group] = groups[group] & present
        lines = candidate.lines
        if len(lines) == line_count:
            met = anywhere
        else:
            met = 0
            for line in lines:
                met |= line_rules[line]
        position = candidate.position
        mask = met & others & ~(1 << position)
        shared.append(mask)
        masks.append(mask | (conflicts[position] & present))
    return masks, shared


def candidate_sets(
    candidates: Sequence[Candidate],
    masks: Sequence[int],
    standalone: Callable[[Candidate], int],
    tiebreak: Sequence[int],
) -> list[int]:
    """Compatible sets worth pricing in full, as bit masks (see ``conflict_masks``).

    First the greedy pick; then, best first and at most ``MAX_PRICED - 1`` of
    them, the seeded picks whose members' stand-alone values add up to more than
    those of the members they displace (the others cannot be expected to win).
    ``tiebreak`` ranks every rule of the set (by position) by priority, then id.
    """
    free = 0
    values: dict[int, int] = {}
    span = len(tiebreak)
    order: list[tuple[int, int, int]] = []  # (greedy order, bit, mask)
    for candidate, mask in zip(candidates, masks, strict=True):
        position = candidate.position
        if mask:
            value = values[position] = standalone(candidate)
            # the most valuable first, ties to the lower priority, then to the lower id
            order.append((tiebreak[position] - value * span, 1 << position, mask))
        else:
            free |= 1 << position
    if not order:
        return [free]
    order.sort()

    def greedy(chosen: int) -> int:
        for _, bit, mask in order:
            if not mask & chosen:
                chosen |= bit
        return free | chosen

    first = greedy(0)
    seeded: list[tuple[int, int]] = []
    for seed in [bit for _, bit, _ in order if not first & bit][:MAX_SEEDS]:
        picked = greedy(seed)
        gain = sum([values[k] for k in members(picked & ~first)]) - sum(
            [values[k] for k in members(first & ~picked)]
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
