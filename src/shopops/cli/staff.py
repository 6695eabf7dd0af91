"""users and tokens."""

from __future__ import annotations

from datetime import datetime

import typer

from shopops.auth.permissions import Role
from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import access

users_app = typer.Typer(help="Staff users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Scoped API tokens.", no_args_is_help=True)


@users_app.command("list")
def list_users(fmt: OutputFormat = typer.Option(OutputFormat.TABLE, "--format")) -> None:
    """List staff users."""
    with state.uow() as uow:
        users = access.list_users(uow, after_id=None, limit=10_000)
        rows = [(u.id, u.email, u.full_name, u.role, u.is_active, u.last_login_at) for u in users]
    emit_rows(rows, ["id", "email", "name", "role", "active", "last_login"], fmt, "Users")


@users_app.command("create")
def create_user(
    email: str,
    role: Role = typer.Option(..., help="One of the roles."),
    name: str = typer.Option(..., help="Full name."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a staff user."""
    with state.uow() as uow:
        user = access.create_user(uow, access.CreateUser(email, name, role, password))
        uow.commit()
        console.print(f"created user {user.id} {user.email} ({user.role})")


@users_app.command("set-role")
def set_role(user_id: int, role: Role) -> None:
    """Change a user's role."""
    with state.uow() as uow:
        user = access.change_user(uow, access.ChangeUser(user_id, role=role))
        uow.commit()
        console.print(f"user {user.id} is now {user.role}")


@users_app.command("deactivate")
def deactivate(user_id: int) -> None:
    """Deactivate a user (ends their sessions)."""
    with state.uow() as uow:
        user = access.change_user(uow, access.ChangeUser(user_id, is_active=False))
        uow.commit()
        console.print(f"user {user.id} deactivated")


@tokens_app.command("issue")
def issue_token(
    name: str,
    scope: list[str] = typer.Option(..., "--scope", help="A permission; repeat for several."),
    expires: datetime | None = typer.Option(None, help="Expiry (ISO 8601, UTC)."),
) -> None:
    """Issue an API token for the `--as` user; prints the secret once."""
    with state.uow() as uow:
        issued = access.issue_token(uow, access.IssueToken(name, tuple(scope), expires))
        uow.commit()
        console.print(f"token {issued.token.id} ({issued.token.prefix}...): {issued.secret}")
        console.print("store it now: it is not shown again")


@tokens_app.command("revoke")
def revoke_token(token_id: int) -> None:
    """Revoke a token."""
    with state.uow() as uow:
        access.revoke_token(uow, token_id)
        uow.commit()
        console.print(f"token {token_id} revoked")
