"""Sign-in, users and roles, API tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Request, Response

from shopops.api.deps import (
    RequestContext,
    authenticated_only,
    get_container,
    public,
    request_id_of,
    require,
)
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, after_id, next_cursor_by_id
from shopops.api.schemas.access import (
    LoginRequest,
    MeRead,
    RoleRead,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from shopops.auth.models import User
from shopops.auth.permissions import ROLE_PERMISSIONS, Permission
from shopops.auth.principal import actor_for_user
from shopops.contexts import access
from shopops.kernel.events import Actor

router = APIRouter(tags=["access"])


@router.post(
    "/auth/login",
    response_model=MeRead,
    dependencies=[Depends(public("signing in needs no credentials"))],
)
def login(body: LoginRequest, request: Request, response: Response) -> MeRead:
    """Sign in with e-mail and password; sets the session cookie. Throttled per e-mail and IP."""
    container = get_container(request)
    settings = container.settings
    client = request.client.host if request.client else "unknown"
    anonymous = Actor("anonymous", None, body.email.strip().lower())
    with container.uow(anonymous, request_id_of(request)) as uow:
        try:
            signed_in = access.sign_in(
                uow,
                access.SignIn(body.email, body.password, client),
                ttl=timedelta(minutes=settings.session_ttl_minutes),
                max_failures=settings.login_max_failures,
                window=timedelta(seconds=settings.login_window_seconds),
            )
        except access.SignInFailed:
            uow.commit()  # keep the failed attempt: it is what throttles the next one
            raise
        uow.commit()
    response.set_cookie(
        settings.session_cookie_name,
        signed_in.cookie_value,
        max_age=settings.session_ttl_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=settings.env == "production",
        path="/",
    )
    actor = actor_for_user(signed_in.user)
    return MeRead(
        user=UserRead.model_validate(signed_in.user),
        actor=actor.label,
        permissions=sorted(actor.permissions),
        csrf_token=signed_in.session.csrf_token,
    )


@router.post("/auth/logout", status_code=204)
def logout(response: Response, context: RequestContext = Depends(authenticated_only())) -> Response:
    """End the console session (no-op for API tokens)."""
    if context.console_session is not None:
        with context.uow() as uow:
            access.sign_out(uow, context.console_session.id)
            uow.commit()
    response = Response(status_code=204)
    response.delete_cookie(context.container.settings.session_cookie_name, path="/")
    return response


@router.get("/auth/me", response_model=MeRead)
def me(context: RequestContext = Depends(authenticated_only())) -> MeRead:
    """Who is calling, with their effective permissions."""
    user = None
    if context.actor.kind == "user" and context.actor.id is not None:
        with context.container.session_factory() as session:
            found = session.get(User, context.actor.id)
            user = UserRead.model_validate(found) if found else None
    return MeRead(
        user=user,
        actor=context.actor.label,
        permissions=sorted(context.actor.permissions),
        csrf_token=context.console_session.csrf_token if context.console_session else None,
    )


@router.get("/roles", response_model=list[RoleRead])
def list_roles(_: RequestContext = Depends(require(Permission.USERS_MANAGE))) -> list[RoleRead]:
    """Every role and the permissions it grants."""
    return [
        RoleRead(role=role, permissions=sorted(str(p) for p in permissions))
        for role, permissions in ROLE_PERMISSIONS.items()
    ]


@router.get("/users", response_model=Page[UserRead])
def list_users(
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = Depends(require(Permission.USERS_MANAGE)),
) -> Page[UserRead]:
    with context.uow() as uow:
        rows = list(access.list_users(uow, after_id=after_id(cursor), limit=limit + 1))
        # Serialize inside the block: leaving it rolls back, which expires the rows.
        return Page(
            items=[UserRead.model_validate(u) for u in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(
    body: UserCreate, context: RequestContext = Depends(require(Permission.USERS_MANAGE))
) -> UserRead:
    with context.uow() as uow:
        user = access.create_user(
            uow,
            access.CreateUser(
                str(body.email), body.full_name, body.role, body.password, body.locale
            ),
        )
        uow.commit()
        return UserRead.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(
    user_id: int,
    body: UserUpdate,
    context: RequestContext = Depends(require(Permission.USERS_MANAGE)),
) -> UserRead:
    with context.uow() as uow:
        user = access.change_user(
            uow,
            access.ChangeUser(
                user_id, body.full_name, body.role, body.is_active, body.password, body.locale
            ),
        )
        uow.commit()
        return UserRead.model_validate(user)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(
    context: RequestContext = Depends(require(Permission.TOKENS_MANAGE)),
) -> list[TokenRead]:
    """Your tokens (all tokens for users with `users.manage`). Secrets are never shown again."""
    with context.uow() as uow:
        return [TokenRead.model_validate(t) for t in access.list_tokens(uow)]


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def issue_token(
    body: TokenCreate, context: RequestContext = Depends(require(Permission.TOKENS_MANAGE))
) -> TokenIssued:
    """Issue a scoped API token. The secret is in this response only."""
    with context.uow() as uow:
        issued = access.issue_token(
            uow, access.IssueToken(body.name, tuple(str(s) for s in body.scopes), body.expires_at)
        )
        uow.commit()
        return TokenIssued(
            **TokenRead.model_validate(issued.token).model_dump(), token=issued.secret
        )


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(
    token_id: int, context: RequestContext = Depends(require(Permission.TOKENS_MANAGE))
) -> TokenRead:
    with context.uow() as uow:
        token = access.revoke_token(uow, token_id)
        uow.commit()
        return TokenRead.model_validate(token)
