"""Identity and access: staff users, roles, permissions, API tokens, console sessions."""

from shopops.auth.models import ApiToken, ConsoleSession, LoginAttempt, User
from shopops.auth.permissions import ROLE_PERMISSIONS, Permission, Role, permissions_for

__all__ = [
    "ROLE_PERMISSIONS",
    "ApiToken",
    "ConsoleSession",
    "LoginAttempt",
    "Permission",
    "Role",
    "User",
    "permissions_for",
]
