"""Use cases for staff access. Every mutation is audited; nothing here commits."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from shopops.auth.models import ApiToken, ConsoleSession, LoginAttempt, User
from shopops.auth.permissions import Permission, Role, permissions_for
from shopops.auth.principal import API_TOKEN_PREFIX, SESSION_TOKEN_PREFIX
from shopops.auth.secrets import hash_password, new_token, token_digest, verify_password
from shopops.contexts.access import repository
from shopops.contexts.access.commands import ChangeUser, CreateUser, IssueToken, SignIn
from shopops.contexts.access.errors import AccessError
from shopops.kernel.errors import (
    Conflict,
    FieldErrorCollector,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
)
from shopops.kernel.events import Actor
from shopops.uow import UnitOfWork

MIN_PASSWORD_LENGTH = 10


def _user_view(user: User) -> dict[str, object]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "is_active": user.is_active,
        "locale": user.locale,
    }


def _check_password(errors: FieldErrorCollector, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(
            "password",
            AccessError.WEAK_PASSWORD,
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
        )


def _check_role(errors: FieldErrorCollector, role: str) -> None:
    if role not in {r.value for r in Role}:
        errors.add(
            "role",
            AccessError.UNKNOWN_ROLE,
            f"unknown role '{role}'; allowed: {', '.join(r.value for r in Role)}",
        )


def create_user(uow: UnitOfWork, command: CreateUser) -> User:
    uow.require(Permission.USERS_MANAGE)
    errors = FieldErrorCollector()
    email = command.email.strip().lower()
    if "@" not in email:
        errors.add("email", "validation.invalid_email", "not a valid e-mail address")
    if not command.full_name.strip():
        errors.add("full_name", "validation.required", "full name is required")
    _check_role(errors, command.role)
    _check_password(errors, command.password)
    errors.raise_if_any()
    if repository.get_user_by_email(uow.session, email) is not None:
        raise Conflict(AccessError.EMAIL_TAKEN, f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        full_name=command.full_name.strip(),
        role=command.role,
        password_hash=hash_password(command.password),
        is_active=True,
        locale=command.locale,
    )
    uow.session.add(user)
    uow.session.flush()
    uow.audit("user.created", "user", user.id, after=_user_view(user))
    return user


def change_user(uow: UnitOfWork, command: ChangeUser) -> User:
    uow.require(Permission.USERS_MANAGE)
    user = repository.get_user(uow.session, command.user_id)
    if user is None:
        raise NotFound(AccessError.USER_NOT_FOUND, f"user {command.user_id} does not exist")
    errors = FieldErrorCollector()
    if command.role is not None:
        _check_role(errors, command.role)
    if command.password is not None:
        _check_password(errors, command.password)
    if command.full_name is not None and not command.full_name.strip():
        errors.add("full_name", "validation.required", "full name cannot be empty")
    errors.raise_if_any()
    before = _user_view(user)
    leaves_owner = user.role == Role.OWNER and (
        (command.role is not None and command.role != Role.OWNER) or command.is_active is False
    )
    if leaves_owner and repository.count_active_owners(uow.session) <= 1:
        raise Conflict(AccessError.LAST_OWNER, "the last active owner cannot be demoted")
    if command.full_name is not None:
        user.full_name = command.full_name.strip()
    if command.role is not None:
        user.role = command.role
    if command.is_active is not None:
        user.is_active = command.is_active
    if command.locale is not None:
        user.locale = command.locale
    after = _user_view(user)
    if command.password is not None:
        user.password_hash = hash_password(command.password)
        before["password"], after["password"] = "(hidden)", "(changed)"
    if command.password is not None or command.is_active is False:
        _revoke_sessions(uow, user.id, uow.now())
    uow.audit("user.changed", "user", user.id, before=before, after=after)
    return user


def list_users(uow: UnitOfWork, *, after_id: int | None, limit: int) -> Sequence[User]:
    uow.require(Permission.USERS_MANAGE)
    return repository.list_users(uow.session, after_id=after_id, limit=limit)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def issue_token(uow: UnitOfWork, command: IssueToken) -> IssuedToken:
    uow.require(Permission.TOKENS_MANAGE)
    actor = uow.actor
    if actor.kind != "user" or actor.id is None:
        raise PermissionDenied("access.user_required", "API tokens are issued by signed-in users")
    errors = FieldErrorCollector()
    known = {p.value for p in Permission}
    if not command.name.strip():
        errors.add("name", "validation.required", "a token needs a name")
    if not command.scopes:
        errors.add("scopes", "validation.required", "a token needs at least one scope")
    for scope in command.scopes:
        if scope not in known:
            errors.add("scopes", AccessError.UNKNOWN_SCOPE, f"unknown permission '{scope}'")
        elif not actor.can(scope):
            errors.add("scopes", AccessError.SCOPE_NOT_HELD, f"you do not hold '{scope}'")
    if command.expires_at is not None and command.expires_at <= uow.now():
        errors.add("expires_at", "validation.in_past", "expiry must be in the future")
    errors.raise_if_any()
    secret = new_token(API_TOKEN_PREFIX)
    token = ApiToken(
        user_id=actor.id,
        name=command.name.strip(),
        prefix=secret[:10],
        token_hash=token_digest(secret),
        scopes=sorted(set(command.scopes)),
        created_at=uow.now(),
        expires_at=command.expires_at,
    )
    uow.session.add(token)
    uow.session.flush()
    uow.audit(
        "api_token.issued",
        "api_token",
        token.id,
        after={"name": token.name, "scopes": token.scopes, "prefix": token.prefix},
    )
    return IssuedToken(token, secret)


def revoke_token(uow: UnitOfWork, token_id: int) -> ApiToken:
    uow.require(Permission.TOKENS_MANAGE)
    token = uow.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(AccessError.TOKEN_NOT_FOUND, f"token {token_id} does not exist")
    if token.user_id != uow.actor.id and not uow.actor.can(Permission.USERS_MANAGE):
        raise PermissionDenied("auth.permission_denied", "you can revoke only your own tokens")
    if token.revoked_at is None:
        token.revoked_at = uow.now()
        uow.audit(
            "api_token.revoked",
            "api_token",
            token.id,
            before={"revoked": False},
            after={"revoked": True},
        )
    return token


def list_tokens(uow: UnitOfWork) -> Sequence[ApiToken]:
    uow.require(Permission.TOKENS_MANAGE)
    owner = None if uow.actor.can(Permission.USERS_MANAGE) else uow.actor.id
    return repository.list_tokens(uow.session, user_id=owner)


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: ConsoleSession
    cookie_value: str


def sign_in(
    uow: UnitOfWork, command: SignIn, *, ttl: timedelta, max_failures: int, window: timedelta
) -> SignedIn:
    """Check credentials with throttling; failures are recorded even though sign-in fails.

    The caller commits in both outcomes: the attempt row is what throttles the
    next try, so a failed sign-in raises only after its attempt is flushed via
    ``uow.commit()`` by the entrypoint (see ``SignInFailed``).
    """
    email = command.email.strip().lower()
    now = uow.now()
    since = now - window
    failures = repository.recent_failures(
        uow.session, email=email, client_address=command.client_address, since=since
    )
    if failures >= max_failures:
        oldest = repository.oldest_failure_since(
            uow.session, email=email, client_address=command.client_address, since=since
        )
        retry_after = int(((oldest or now) + window - now).total_seconds()) + 1
        raise RateLimited(
            AccessError.TOO_MANY_ATTEMPTS,
            "too many failed sign-ins; try again later",
            details={"retry_after": max(retry_after, 1)},
        )
    user = repository.get_user_by_email(uow.session, email)
    valid = verify_password(user.password_hash if user else None, command.password)
    uow.session.add(
        LoginAttempt(
            email=email,
            client_address=command.client_address,
            succeeded=bool(valid and user and user.is_active),
            attempted_at=now,
        )
    )
    if not valid or user is None or not user.is_active:
        raise SignInFailed()
    cookie_value = new_token(SESSION_TOKEN_PREFIX)
    console_session = ConsoleSession(
        user_id=user.id,
        token_hash=token_digest(cookie_value),
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + ttl,
    )
    user.last_login_at = now
    uow.session.add(console_session)
    uow.session.flush()
    uow.actor = Actor("user", user.id, user.email, frozenset(map(str, permissions_for(user.role))))
    uow.audit("user.signed_in", "user", user.id, after={"client_address": command.client_address})
    return SignedIn(user, console_session, cookie_value)


class SignInFailed(Unauthenticated):
    """Wrong e-mail or password; the message never says which."""

    def __init__(self) -> None:
        super().__init__(AccessError.INVALID_CREDENTIALS, "e-mail or password is incorrect")


def sign_out(uow: UnitOfWork, console_session_id: int) -> None:
    console_session = uow.session.get(ConsoleSession, console_session_id)
    if console_session is not None and console_session.revoked_at is None:
        console_session.revoked_at = uow.now()
        uow.audit(
            "user.signed_out",
            "user",
            console_session.user_id,
            before={"session": "active"},
            after={"session": "revoked"},
        )


def _revoke_sessions(uow: UnitOfWork, user_id: int, moment: datetime) -> None:
    """A password change or deactivation ends every open session of the user."""
    uow.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=moment)
    )
