from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shopops.auth.models import ApiToken, LoginAttempt, User


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def list_users(session: Session, *, after_id: int | None, limit: int) -> Sequence[User]:
    stmt = select(User).order_by(User.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(User.id > after_id)
    return session.scalars(stmt).all()


def count_active_owners(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(User).where(User.role == "owner", User.is_active)
        )
        or 0
    )


def recent_failures(session: Session, *, email: str, client_address: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.attempted_at >= since,
                or_(LoginAttempt.email == email, LoginAttempt.client_address == client_address),
            )
        )
        or 0
    )


def oldest_failure_since(
    session: Session, *, email: str, client_address: str, since: datetime
) -> datetime | None:
    return session.scalar(
        select(func.min(LoginAttempt.attempted_at)).where(
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.attempted_at >= since,
            or_(LoginAttempt.email == email, LoginAttempt.client_address == client_address),
        )
    )


def list_tokens(session: Session, *, user_id: int | None) -> Sequence[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return session.scalars(stmt).all()
