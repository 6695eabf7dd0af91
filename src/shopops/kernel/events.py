"""Domain events and the actor who caused them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: a user, an API token, or the system itself."""

    kind: str  # "user" | "token" | "system"
    id: int | None
    name: str
    permissions: frozenset[str] = frozenset()

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls("system", None, name, frozenset({"*"}))

    def can(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id if self.id is not None else self.name}"


@dataclass(frozen=True)
class Event:
    """Base of all domain events. Subclasses are frozen dataclasses, named in past tense.

    ``event_type`` is the stable name used in the outbox, handlers and webhooks.
    ``aggregate`` names the entity type; ``aggregate_id`` is taken from the
    field named by ``id_field``.
    """

    event_type: ClassVar[str] = "event"
    aggregate: ClassVar[str] = ""
    id_field: ClassVar[str] = "id"

    def payload(self) -> dict[str, Any]:
        return {name: jsonable(getattr(self, name)) for name in _field_names(type(self))}

    @property
    def aggregate_id(self) -> str:
        return str(getattr(self, self.id_field, ""))


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(event_class: type[Event]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(event_class)
    if names is None:
        names = _FIELD_NAMES[event_class] = tuple(f.name for f in dataclasses.fields(event_class))
    return names


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    if type(value) in _PLAIN or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
