"""The one mapping from errors to exit codes."""

from __future__ import annotations

from shopops.kernel.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)

EXIT_VALIDATION = 3
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5
EXIT_DENIED = 6
EXIT_OTHER = 1


def exit_code_for(error: DomainError) -> int:
    if isinstance(error, ValidationFailed):
        return EXIT_VALIDATION
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, Conflict):
        return EXIT_CONFLICT
    if isinstance(error, (PermissionDenied, Unauthenticated)):
        return EXIT_DENIED
    return EXIT_OTHER
