"""audit and outbox."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from shopops.audit import AuditQuery, list_entries
from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.db.outbox import DeliveryStatus
from shopops.kernel.errors import PermissionDenied, ValidationFailed
from shopops.relay import list_deliveries, retry_dead_letter

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
outbox_app = typer.Typer(help="Outbox deliveries and dead letters.", no_args_is_help=True)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@audit_app.command("list")
def audit_list(
    entity_type: str | None = typer.Option(None, "--entity-type"),
    entity_id: str | None = typer.Option(None, "--entity-id"),
    actor_kind: str | None = typer.Option(None, "--actor-kind"),
    actor_id: int | None = typer.Option(None, "--actor-id"),
    action: str | None = typer.Option(None),
    since: datetime | None = typer.Option(None, help="From (inclusive), UTC if no offset."),
    until: datetime | None = typer.Option(None, help="Until (exclusive), UTC if no offset."),
    limit: int = typer.Option(100, min=1, max=10_000),
    fmt: OutputFormat = typer.Option(OutputFormat.TABLE, "--format"),
) -> None:
    """Query the audit trail by entity, actor and time range (newest first)."""
    start, end = _aware(since), _aware(until)
    if start and end and start >= end:
        raise ValidationFailed("validation.reversed_range", "--since must be before --until")
    if not state.actor().can("audit.read"):
        raise PermissionDenied("auth.permission_denied", "needs the 'audit.read' permission")
    with state.container.session_factory() as session:
        entries = list_entries(
            session,
            AuditQuery(
                entity_type, entity_id, actor_kind, actor_id, action, start, end, None, limit
            ),
        )
        rows = [
            (
                e.id,
                e.occurred_at,
                f"{e.actor_kind}:{e.actor_name}",
                e.action,
                f"{e.entity_type}/{e.entity_id}",
                e.changes,
                e.request_id,
            )
            for e in entries
        ]
    emit_rows(
        rows, ["id", "at", "actor", "action", "entity", "changes", "request_id"], fmt, "Audit"
    )


@outbox_app.command("list")
def outbox_list(
    status: DeliveryStatus | None = typer.Option(None, help="pending, done or dead."),
    handler: str | None = typer.Option(None),
    limit: int = typer.Option(100, min=1, max=10_000),
    fmt: OutputFormat = typer.Option(OutputFormat.TABLE, "--format"),
) -> None:
    """List outbox deliveries (`--status dead` for dead letters)."""
    if not state.actor().can("outbox.read"):
        raise PermissionDenied("auth.permission_denied", "needs the 'outbox.read' permission")
    with state.container.session_factory() as session:
        rows = [
            (
                d.id,
                e.event_type,
                f"{e.aggregate_type}/{e.aggregate_id}",
                d.handler,
                d.status,
                d.attempts,
                d.next_attempt_at,
                (d.last_error or "")[:80],
            )
            for d, e in list_deliveries(session, status=status, handler=handler, limit=limit)
        ]
    emit_rows(
        rows,
        ["id", "event", "aggregate", "handler", "status", "attempts", "next_attempt", "last_error"],
        fmt,
        "Outbox deliveries",
    )


@outbox_app.command("retry")
def outbox_retry(delivery_id: int) -> None:
    """Re-queue a dead-lettered delivery."""
    with state.uow() as uow:
        retry_dead_letter(uow, delivery_id)
        uow.commit()
    console.print(f"delivery {delivery_id} re-queued")
