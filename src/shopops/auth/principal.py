"""Turning credentials (API token, console session) into an Actor. Reads only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.auth.models import ApiToken, ConsoleSession, User
from shopops.auth.permissions import Permission, permissions_for
from shopops.auth.secrets import token_digest
from shopops.kernel.events import Actor

API_TOKEN_PREFIX = "sot"
SESSION_TOKEN_PREFIX = "sos"


def actor_for_user(user: User) -> Actor:
    return Actor("user", user.id, user.email, frozenset(str(p) for p in permissions_for(user.role)))


def actor_for_token(
    session: Session, raw_token: str, now: datetime
) -> tuple[Actor, ApiToken] | None:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_digest(raw_token))
    ).one_or_none()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or not user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    # A token never grants more than its owner currently holds.
    granted = {str(p) for p in permissions_for(user.role)} & set(token.scopes)
    return Actor("token", token.id, f"{user.email}/{token.name}", frozenset(granted)), token


def session_for_cookie(
    session: Session, raw_cookie: str, now: datetime
) -> tuple[ConsoleSession, User] | None:
    row = session.execute(
        select(ConsoleSession, User)
        .join(User, User.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == token_digest(raw_cookie))
    ).one_or_none()
    if row is None:
        return None
    console_session, user = row
    if console_session.revoked_at is not None or console_session.expires_at <= now:
        return None
    if not user.is_active:
        return None
    return console_session, user


def all_permission_names() -> list[str]:
    return [str(p) for p in Permission]
