from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from shopops.auth.permissions import Permission, Role


class LoginRequest(BaseModel):
    email: str = Field(examples=["owner@demo.shopops.dev"])
    password: str = Field(examples=["demo-owner-pass"])


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    locale: str
    last_login_at: datetime | None
    created_at: datetime


class MeRead(BaseModel):
    user: UserRead | None
    actor: str
    permissions: list[str]
    csrf_token: str | None = Field(
        default=None, description="Send as X-CSRF-Token on unsafe requests made with the cookie."
    )


class UserCreate(BaseModel):
    email: EmailStr = Field(examples=["ana@example.com"])
    full_name: str = Field(min_length=1, max_length=200, examples=["Ana Lima"])
    role: Role = Field(examples=["ops_manager"])
    password: str = Field(min_length=10, max_length=200)
    locale: str = Field(default="en", pattern="^(en|zh_CN)$")


class UserUpdate(BaseModel):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)
    locale: str | None = Field(default=None, pattern="^(en|zh_CN)$")


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["storefront"])
    scopes: list[Permission] = Field(min_length=1, examples=[["catalog.read", "orders.read"]])
    expires_at: datetime | None = None


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenRead):
    token: str = Field(description="The secret. Shown once; store it now.")


class RoleRead(BaseModel):
    role: Role
    permissions: list[str]
