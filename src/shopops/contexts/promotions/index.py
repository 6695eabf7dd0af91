"""Active promotions indexed by what they cover, so a cart only meets the promotions
that can touch its lines (instead of every promotion against every line), together
with everything about them that does not depend on the cart, worked out once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from shopops.contexts.promotions.cart import CartLine
from shopops.contexts.promotions.definitions import PromotionRule
from shopops.contexts.promotions.eligibility import NEEDS_COUPON, NOT_IN_SCOPE, Gate, Refusal
from shopops.contexts.promotions.priced import Consideration
from shopops.contexts.promotions.stacking import static_conflicts

Scoped = dict[int, tuple[int, ...]]  # rule position -> indexes of cart lines


class Scoping(NamedTuple):
    """Which rules reach which lines of one cart."""

    included: Scoped  # rules whose scope includes a line -> the lines it includes
    kept: Scoped  # the same rules -> those lines less the ones they exclude (maybe none)
    line_rules: list[int]  # per line: the bits of the rules that keep it


MAX_REMEMBERED = 20_000  # entries kept for reuse per table (explanation lines, line facts)


class PromotionSet:
    """Rules by id, with lookups from product, category and brand to the rules covering them.

    Build it once for many carts. Positions (a rule's place by id) are the bits of the
    stacking masks. Besides the index it holds what pricing needs of the rules that no
    cart changes: their checks' facts (``gates``), their conflicts from ``exclusive`` and
    ``combinable_with`` (``conflicts``), and the explanation lines that read the same for
    every cart. ``indexed=False`` scans every rule against every line; it exists as the
    baseline of ``bench.pricing`` and gives the same matches.
    """

    def __init__(self, rules: Iterable[PromotionRule], *, indexed: bool = True) -> None:
        self.rules: tuple[PromotionRule, ...] = tuple(sorted(rules, key=lambda r: r.id))
        self.by_id = {rule.id: rule for rule in self.rules}
        if len(self.by_id) != len(self.rules):
            raise ValueError("promotion ids must be unique")
        self.indexed = indexed
        self.positions = {rule.id: position for position, rule in enumerate(self.rules)}
        self.exclusive = tuple(rule.stacking.exclusive for rule in self.rules)
        ranks = _ranks([rule.order_key for rule in self.rules])  # the application order
        self.gates = tuple(Gate.of(rule, p, ranks[p]) for p, rule in enumerate(self.rules))
        self.conflicts = static_conflicts(self.rules)
        # each rule's rank by priority, then id: the greedy pick's tie-break
        self.tiebreak = _ranks([(rule.stacking.priority, rule.id) for rule in self.rules])
        self.not_in_scope = tuple(_considered(rule, NOT_IN_SCOPE) for rule in self.rules)
        self.needs_coupon = tuple(_considered(rule, NEEDS_COUPON) for rule in self.rules)
        # Explanation lines met again and again, remembered as carts are priced (bounded):
        # (loser x rules + winner) x 3 + cause -> a losing promotion's line (positions; the
        # cause: 0 exclusive, 1 group, 2 combinable_with); (position, reason, message) -> a
        # refused one's (refusals that name the cart's time are not remembered).
        self.losers: dict[int, Consideration] = {}
        self.refused: dict[tuple[int, str, str], Consideration] = {}
        # (product, brand, categories) of a line -> its ``_reach``, as carts are priced
        self._covering: dict[
            tuple[int, int | None, frozenset[int]],
            tuple[tuple[int, ...], int, tuple[int, ...], int],
        ] = {}
        self._everywhere = tuple(p for p, r in enumerate(self.rules) if r.scope.is_all)
        self._everywhere_bits = _bits(self._everywhere)
        self.groups: dict[str, int] = {}  # stacking group -> the bits of its rules
        for position, rule in enumerate(self.rules):
            self.groups[rule.group] = self.groups.get(rule.group, 0) | 1 << position
        self._by_product: dict[int, list[int]] = {}
        self._by_category: dict[int, list[int]] = {}
        self._by_brand: dict[int, list[int]] = {}
        self._excluding_product: dict[int, list[int]] = {}
        self._excluding_category: dict[int, list[int]] = {}
        self._excluding_brand: dict[int, list[int]] = {}
        for position, rule in enumerate(self.rules):
            scope = rule.scope
            for values, table in (
                (scope.products, self._by_product),
                (scope.categories, self._by_category),
                (scope.brands, self._by_brand),
                (scope.exclude_products, self._excluding_product),
                (scope.exclude_categories, self._excluding_category),
                (scope.exclude_brands, self._excluding_brand),
            ):
                for value in values:
                    table.setdefault(value, []).append(position)

    def __len__(self) -> int:
        return len(self.rules)

    def match(self, lines: Sequence[CartLine]) -> dict[int, tuple[int, ...]]:
        """Promotion id -> indexes of the lines its scope includes (exclusions not applied)."""
        included = self.scope(lines).included
        rules = self.rules
        return {rules[p].id: found for p, found in sorted(included.items())}

    def scope(self, lines: Sequence[CartLine]) -> Scoping:
        """Which rules reach which lines of a cart (see ``Scoping``)."""
        if not self.indexed:
            return self._scan(lines)
        found: dict[int, list[int]] = {}
        excluded: dict[int, list[int]] = {}
        line_rules = []
        covering, everywhere = self._covering, self._everywhere_bits
        for index, line in enumerate(lines):
            facts = (line.product_id, line.brand_id, line.category_ids)
            reach = covering.get(facts)
            if reach is None:
                reach = self._reach(line)
                if len(covering) < MAX_REMEMBERED:
                    covering[facts] = reach
            hits, hit_bits, out, out_bits = reach
            for position in hits:
                indexes = found.get(position)
                if indexes is None:
                    found[position] = [index]
                else:
                    indexes.append(index)
            for position in out:
                excluded.setdefault(position, []).append(index)
            line_rules.append((hit_bits | everywhere) & ~out_bits)
        included = dict.fromkeys(self._everywhere, tuple(range(len(lines))))
        for position, indexes in found.items():
            included[position] = tuple(indexes)
        kept = included
        if excluded:
            kept = included.copy()
            for position, removed in excluded.items():
                if position in included:
                    kept[position] = tuple(i for i in included[position] if i not in removed)
        return Scoping(included, kept, line_rules)

    def _reach(self, line: CartLine) -> tuple[tuple[int, ...], int, tuple[int, ...], int]:
        """The positions of the rules whose products, brands or categories include the line,
        and of those whose exclusions name it, each with their bits."""
        hits = set(self._by_product.get(line.product_id, ()))
        out = set(self._excluding_product.get(line.product_id, ()))
        if line.brand_id is not None:
            hits.update(self._by_brand.get(line.brand_id, ()))
            out.update(self._excluding_brand.get(line.brand_id, ()))
        for category in line.category_ids:
            hits.update(self._by_category.get(category, ()))
            out.update(self._excluding_category.get(category, ()))
        return tuple(sorted(hits)), _bits(hits), tuple(sorted(out)), _bits(out)

    def _scan(self, lines: Sequence[CartLine]) -> Scoping:
        included: Scoped = {}
        kept: Scoped = {}
        for position, rule in enumerate(self.rules):
            scope = rule.scope
            found = tuple(
                index
                for index, line in enumerate(lines)
                if scope.includes(line.product_id, line.category_ids, line.brand_id)
            )
            if not found:
                continue
            included[position] = kept[position] = found
            if scope.exclude_products or scope.exclude_categories or scope.exclude_brands:
                kept[position] = tuple(
                    i
                    for i in found
                    if not scope.excludes(
                        lines[i].product_id, lines[i].category_ids, lines[i].brand_id
                    )
                )
        line_rules = [0] * len(lines)
        for position, indexes in kept.items():
            bit = 1 << position
            for i in indexes:
                line_rules[i] |= bit
        return Scoping(included, kept, line_rules)


def _bits(positions: Iterable[int]) -> int:
    mask = 0
    for position in positions:
        mask |= 1 << position
    return mask


def _ranks(keys: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    """Each position's rank when the positions are sorted by ``keys`` (all distinct)."""
    ranks = [0] * len(keys)
    for rank, position in enumerate(sorted(range(len(keys)), key=keys.__getitem__)):
        ranks[position] = rank
    return tuple(ranks)


def _considered(rule: PromotionRule, refusal: Refusal) -> Consideration:
    return Consideration(rule.id, rule.name, rule.kind, False, refusal.reason, 0, refusal.message)
