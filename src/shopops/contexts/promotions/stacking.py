"""Which eligible promotions apply together.

Two promotions conflict when either is exclusive, when they share a stacking
group and at least one line, or when either one's ``combinable_with`` list
leaves the other out. Promotions in no conflict always apply. Among the
conflicting ones the engine prices a bounded number of compatible sets — a
greedy pick by stand-alone value, and the same pick seeded with each of the
most valuable contested promotions — and keeps the set best for the customer
(largest total discount; ties to the lower priorities, then the lower ids).
Every step is ordered, so the same cart always gets the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

from shopops.contexts.promotions.eligibility import Candidate

MAX_SEEDS = 8  # extra sets tried, each seeded with one contested promotion

Conflicts = dict[int, frozenset[int]]


def _conflict_reason(a: Candidate, b: Candidate) -> bool:
    sa, sb = a.rule.stacking, b.rule.stacking
    if sa.exclusive or sb.exclusive:
        return True
    if a.rule.group == b.rule.group and not a.line_set.isdisjoint(b.line_set):
        return True
    return not (sa.allows(b.id, b.rule.group) and sb.allows(a.id, a.rule.group))


def conflicts(candidates: Sequence[Candidate]) -> Conflicts:
    """Promotion id -> ids it cannot apply together with (symmetric)."""
    found: dict[int, set[int]] = {c.id: set() for c in candidates}

    def mark(a: Candidate, b: Candidate) -> None:
        found[a.id].add(b.id)
        found[b.id].add(a.id)

    exclusive = [c for c in candidates if c.rule.stacking.exclusive]
    listed = [c for c in candidates if c.rule.stacking.combinable_ids is not None]
    for special in (*exclusive, *listed):
        for other in candidates:
            if other.id != special.id and _conflict_reason(special, other):
                mark(special, other)
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.rule.group, []).append(candidate)
    for members in groups.values():
        for a, b in combinations(members, 2):
            if not a.line_set.isdisjoint(b.line_set):
                mark(a, b)
    return {promotion_id: frozenset(ids) for promotion_id, ids in found.items()}


def candidate_sets(
    candidates: Sequence[Candidate],
    conflict_map: Conflicts,
    standalone: Callable[[Candidate], int],
) -> list[tuple[int, ...]]:
    """Compatible sets of promotion ids worth pricing, each sorted, without repeats."""
    free = [c.id for c in candidates if not conflict_map[c.id]]
    contested = [c for c in candidates if conflict_map[c.id]]
    if not contested:
        return [tuple(sorted(free))]
    values = {c.id: standalone(c) for c in contested}
    order = [
        c.id
        for c in sorted(
            contested, key=lambda c: (-values[c.id], c.rule.stacking.priority, c.id)
        )
    ]

    def greedy(seed: int | None) -> tuple[int, ...]:
        chosen: list[int] = [] if seed is None else [seed]
        for promotion_id in order:
            if promotion_id not in chosen and conflict_map[promotion_id].isdisjoint(chosen):
                chosen.append(promotion_id)
        return tuple(sorted([*free, *chosen]))

    sets: list[tuple[int, ...]] = []
    for seed in [None, *order[:MAX_SEEDS]]:
        picked = greedy(seed)
        if picked not in sets:
            sets.append(picked)
    return sets


def blocker(promotion_id: int, chosen: Sequence[int], conflict_map: Conflicts) -> int | None:
    """The lowest chosen id that keeps ``promotion_id`` out, if any."""
    blocking = conflict_map.get(promotion_id, frozenset()).intersection(chosen)
    return min(blocking) if blocking else None
