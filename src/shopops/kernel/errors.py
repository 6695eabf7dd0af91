"""The one error tree. Every expected failure is a DomainError with a stable code.

Codes are ``<area>.<reason>`` strings that clients may rely on. The HTTP status
for each class lives in ``shopops.api.errors``; the CLI exit code in
``shopops.cli.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field (or CSV cell)."""

    field: str
    code: str
    message: str
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "code": self.code, "message": self.message}
        if self.row is not None:
            data["row"] = self.row
        return data


class DomainError(Exception):
    """Base of every expected business error."""

    default_code = "error"

    def __init__(
        self,
        code: str | None = None,
        message: str = "",
        *,
        errors: list[FieldError] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.message = message or self.code
        self.errors: list[FieldError] = list(errors or [])
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Input is malformed or breaks a rule of the data (one or many field errors)."""

    default_code = "validation.failed"


class NotFound(DomainError):
    default_code = "not_found"


class Conflict(DomainError):
    """The request clashes with current state (duplicate key, wrong state, used key)."""

    default_code = "conflict"


class InvalidTransition(Conflict):
    default_code = "state.invalid_transition"


class Unauthenticated(DomainError):
    default_code = "auth.unauthenticated"


class PermissionDenied(DomainError):
    default_code = "auth.permission_denied"


class RateLimited(DomainError):
    default_code = "auth.rate_limited"


class Unavailable(DomainError):
    """An outside service (carrier, payment gateway) failed or timed out; safe to retry later."""

    default_code = "unavailable"


class Unprocessable(DomainError):
    """Well-formed but not acceptable (for example an idempotency key reused with another body)."""

    default_code = "unprocessable"


@dataclass
class FieldErrorCollector:
    """Gathers every field error before raising once, so users see all problems together."""

    items: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, code: str, message: str, row: int | None = None) -> None:
        self.items.append(FieldError(field_name, code, message, row))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, code: str = "validation.failed", message: str = "") -> None:
        if self.items:
            raise ValidationFailed(
                code, message or f"{len(self.items)} invalid field(s)", errors=self.items
            )
