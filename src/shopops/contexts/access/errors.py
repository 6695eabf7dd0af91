from __future__ import annotations

from enum import StrEnum


class AccessError(StrEnum):
    USER_NOT_FOUND = "access.user_not_found"
    EMAIL_TAKEN = "access.email_taken"
    UNKNOWN_ROLE = "access.unknown_role"
    WEAK_PASSWORD = "access.weak_password"
    INVALID_CREDENTIALS = "auth.invalid_credentials"
    TOO_MANY_ATTEMPTS = "auth.rate_limited"
    TOKEN_NOT_FOUND = "access.token_not_found"
    SCOPE_NOT_HELD = "access.scope_not_held"
    UNKNOWN_SCOPE = "access.unknown_scope"
    LAST_OWNER = "access.last_owner"
