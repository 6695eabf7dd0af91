from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now


class User(IdMixin, TimestampMixin, Base):
    """A staff member who signs in to the console or owns API tokens."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    last_login_at: Mapped[datetime | None]


class ApiToken(IdMixin, Base):
    """A scoped integration token; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class ConsoleSession(IdMixin, Base):
    """A signed-in browser session; the cookie carries a secret whose hash is stored."""

    __tablename__ = "console_sessions"

    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(IdMixin, Base):
    """Failed sign-ins, counted per e-mail and per client address for throttling."""

    __tablename__ = "login_attempts"

    email: Mapped[str] = mapped_column(String(254), index=True)
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
