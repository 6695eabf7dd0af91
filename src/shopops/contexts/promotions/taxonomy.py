"""The category tree as promotions need it: a product's category with its ancestors
(a promotion on "Shoes" covers "Trail shoes"), and a category with its descendants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def ancestors(category_id: int | None, parents: Mapping[int, int | None]) -> frozenset[int]:
    """``category_id`` and every category above it (cycles cannot loop forever)."""
    found: set[int] = set()
    current = category_id
    while current is not None and current not in found:
        found.add(current)
        current = parents.get(current)
    return frozenset(found)


def descendants(category_ids: Iterable[int], parents: Mapping[int, int | None]) -> set[int]:
    """The given categories and every category below them."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[int] = set()
    pending = list(category_ids)
    while pending:
        current = pending.pop()
        if current not in found:
            found.add(current)
            pending.extend(children.get(current, ()))
    return found
