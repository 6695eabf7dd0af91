from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CreateUser:
    email: str
    full_name: str
    role: str
    password: str
    locale: str = "en"


@dataclass(frozen=True)
class ChangeUser:
    user_id: int
    full_name: str | None = None
    role: str | None = None
    is_active: bool | None = None
    password: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class IssueToken:
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime | None = None


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    client_address: str
