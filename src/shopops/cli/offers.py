"""What the presale and group-buy commands share: an offer's performance as one table.

The figures come from the context's frozen dataclass, in its field order, with the same
names as the API (``kernel.figures.named_figures``); rates follow.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from shopops.cli.context import OutputFormat, emit_rows
from shopops.kernel.figures import named_figures

Figure = tuple[str, object]
HEADERS = ["figure", "value"]


class Offer(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def currency(self) -> str: ...


def emit_performance(
    id_name: str,
    offer: Offer,
    as_of: datetime,
    figures: Any,
    rates: Mapping[str, float | None],
    fmt: OutputFormat,
    title: str,
) -> None:
    """The offer (``id_name``: its id as the API names it), then its figures and rates."""
    heading: list[Figure] = [(id_name, offer.id), ("name", offer.name), ("status", offer.status)]
    heading += [("currency", offer.currency), ("as_of", as_of)]
    emit_figures(figures_of(heading, figures, offer.currency, rates), fmt, title)


def figures_of(
    heading: Sequence[Figure], figures: Any, currency: str, rates: Mapping[str, float | None]
) -> list[Figure]:
    """``heading`` (the offer: id, name, status...), then every field of ``figures`` (a
    dataclass instance), then ``rates``."""
    return [*heading, *named_figures(figures, currency).items(), *rates.items()]


def emit_figures(figures: Sequence[Figure], fmt: OutputFormat, title: str) -> None:
    """JSON: one object; CSV: figure,value rows as they are; a table: readable labels,
    rates as percentages."""
    if fmt == OutputFormat.JSON:
        payload = {name: _plain(value) for name, value in figures}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == OutputFormat.CSV:
        emit_rows(figures, HEADERS, fmt)
        return
    shown = [(name.replace("_", " "), _shown(value)) for name, value in figures]
    emit_rows(shown, HEADERS, fmt, title)


def _plain(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _shown(value: object) -> object:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1%}"
    return value
