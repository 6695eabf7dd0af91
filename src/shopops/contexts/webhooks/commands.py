"""Commands of the webhooks context. In updates, ``None`` leaves a field unchanged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CreateSubscription:
    url: str
    event_types: tuple[str, ...]
    description: str = ""
    is_active: bool = True


@dataclass(frozen=True)
class UpdateSubscription:
    subscription_id: int
    url: str | None = None
    event_types: tuple[str, ...] | None = None
    description: str | None = None
    is_active: bool | None = None


@dataclass(frozen=True)
class ListMessages:
    """Filters combine with AND; newest first, keyset-paginated by id."""

    subscription_id: int | None = None
    status: str | None = None
    event_type: str | None = None
    before_id: int | None = None
    limit: int = 50
