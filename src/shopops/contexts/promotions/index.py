"""Active promotions indexed by what they cover, so a cart only meets the promotions
that can touch its lines (instead of every promotion against every line)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shopops.contexts.promotions.cart import CartLine
from shopops.contexts.promotions.definitions import PromotionRule


class PromotionSet:
    """Rules by id, with lookups from product, category and brand to the rules covering them.

    Build it once for many carts. ``indexed=False`` scans every rule against every
    line; it exists as the baseline of ``bench.pricing`` and gives the same matches.
    """

    def __init__(self, rules: Iterable[PromotionRule], *, indexed: bool = True) -> None:
        self.rules: tuple[PromotionRule, ...] = tuple(sorted(rules, key=lambda r: r.id))
        self.by_id = {rule.id: rule for rule in self.rules}
        if len(self.by_id) != len(self.rules):
            raise ValueError("promotion ids must be unique")
        self.indexed = indexed
        self._everywhere = [r.id for r in self.rules if r.scope.is_all]
        self._by_product: dict[int, list[int]] = {}
        self._by_category: dict[int, list[int]] = {}
        self._by_brand: dict[int, list[int]] = {}
        for rule in self.rules:
            for key, table in (
                (rule.scope.products, self._by_product),
                (rule.scope.categories, self._by_category),
                (rule.scope.brands, self._by_brand),
            ):
                for value in key:
                    table.setdefault(value, []).append(rule.id)

    def __len__(self) -> int:
        return len(self.rules)

    def match(self, lines: Sequence[CartLine]) -> dict[int, tuple[int, ...]]:
        """Promotion id -> indexes of the lines its scope includes (exclusions not applied)."""
        if not self.indexed:
            return self._scan(lines)
        every_line = tuple(range(len(lines)))
        found: dict[int, list[int]] = {}
        for index, line in enumerate(lines):
            hits: set[int] = set(self._by_product.get(line.product_id, ()))
            if line.brand_id is not None:
                hits.update(self._by_brand.get(line.brand_id, ()))
            for category in line.category_ids:
                hits.update(self._by_category.get(category, ()))
            for promotion_id in hits:
                found.setdefault(promotion_id, []).append(index)
        matches = dict.fromkeys(self._everywhere, every_line)
        matches.update((promotion_id, tuple(indexes)) for promotion_id, indexes in found.items())
        return matches

    def _scan(self, lines: Sequence[CartLine]) -> dict[int, tuple[int, ...]]:
        matches: dict[int, tuple[int, ...]] = {}
        for rule in self.rules:
            included = tuple(
                index
                for index, line in enumerate(lines)
                if rule.scope.includes(line.product_id, line.category_ids, line.brand_id)
            )
            if included:
                matches[rule.id] = included
        return matches
