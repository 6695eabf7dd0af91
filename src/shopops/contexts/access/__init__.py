"""Staff access: users and roles, API tokens, console sign-in with throttling."""

from shopops.contexts.access.commands import (
    ChangeUser,
    CreateUser,
    IssueToken,
    SignIn,
)
from shopops.contexts.access.errors import AccessError
from shopops.contexts.access.service import (
    IssuedToken,
    SignedIn,
    SignInFailed,
    change_user,
    create_user,
    issue_token,
    list_tokens,
    list_users,
    revoke_token,
    sign_in,
    sign_out,
)

__all__ = [
    "AccessError",
    "ChangeUser",
    "CreateUser",
    "IssueToken",
    "IssuedToken",
    "SignIn",
    "SignInFailed",
    "SignedIn",
    "change_user",
    "create_user",
    "issue_token",
    "list_tokens",
    "list_users",
    "revoke_token",
    "sign_in",
    "sign_out",
]
