"""Performance figures (a frozen dataclass of counts and ``x_minor`` amounts) by the names
the API and the CLI show them under: a count as it is; an amount as a decimal string named
``x``, or ``x_amount`` when ``x`` is also a count."""

from __future__ import annotations

import dataclasses
from typing import Any

from shopops.kernel.money import to_major


def named_figures(figures: Any, currency: str) -> dict[str, object]:
    """Every field of ``figures`` (a dataclass instance), in field order, renamed as above."""
    fields = dataclasses.fields(figures)
    names = {field.name for field in fields}
    named: dict[str, object] = {}
    for field in fields:
        value = getattr(figures, field.name)
        if field.name.endswith("_minor"):
            name = field.name.removesuffix("_minor")
            named[f"{name}_amount" if name in names else name] = str(to_major(value, currency))
        else:
            named[field.name] = value
    return named
