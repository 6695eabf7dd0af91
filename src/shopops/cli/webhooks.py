"""webhooks: add, list, remove, rotate, test, messages, show, retry.

Acts as the system operator unless `--as EMAIL` is given (then `webhooks.manage`
is needed). Secrets are printed once, by `add` and `rotate`; messages are sent
by `shopops worker`.
"""

from __future__ import annotations

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import webhooks

webhooks_app = typer.Typer(
    help="Outgoing webhooks: subscriptions, signing secrets, messages and retries.",
    no_args_is_help=True,
)

MESSAGE_HEADERS = ["id", "webhook_id", "subscription", "event_type", "status", "attempts"]
MESSAGE_HEADERS += ["next_attempt_at", "last_status", "last_error"]
FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")


def _print_secret(created: webhooks.SubscriptionWithSecret, verb: str) -> None:
    subscription = created.subscription
    console.print(f"subscription {subscription.id} {verb}: {subscription.url}")
    console.print(f"signing secret (shown only now): {created.secret}", soft_wrap=True)


@webhooks_app.command("add")
def add(
    url: str = typer.Argument(..., help="Absolute http(s) URL that receives the POSTs."),
    event_types: list[str] = typer.Option(
        ..., "--event", "-e", help="An event type, or '*' for all; repeat for several."
    ),
    description: str = typer.Option("", help="What this endpoint is for."),
    inactive: bool = typer.Option(False, help="Create it paused."),
) -> None:
    """Subscribe URL to event types and print its signing secret."""
    command = webhooks.CreateSubscription(
        url=url, event_types=tuple(event_types), description=description, is_active=not inactive
    )
    with state.uow() as uow:
        created = webhooks.create_subscription(uow, command)
        uow.commit()
    _print_secret(created, "created")


@webhooks_app.command("list")
def list_subscriptions(fmt: OutputFormat = FORMAT) -> None:
    """List every subscription."""
    views: list[webhooks.SubscriptionView] = []
    after: int | None = None
    with state.uow() as uow:
        while True:
            page = webhooks.list_subscriptions(uow, after_id=after, limit=500)
            views.extend(page.items)
            if page.next_after_id is None:
                break
            after = page.next_after_id
    emit_rows(
        [
            (v.id, v.url, " ".join(v.event_types), v.is_active, v.description, v.created_at)
            for v in views
        ],
        ["id", "url", "event_types", "active", "description", "created_at"],
        fmt,
        "Webhook subscriptions",
    )


@webhooks_app.command("remove")
def remove(
    subscription_id: int,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a subscription with its messages and delivery log."""
    if not yes:
        typer.confirm(f"delete webhook subscription {subscription_id}?", abort=True)
    with state.uow() as uow:
        webhooks.delete_subscription(uow, subscription_id)
        uow.commit()
    console.print(f"subscription {subscription_id} removed")


@webhooks_app.command("rotate")
def rotate(subscription_id: int) -> None:
    """Issue a new signing secret (the old one keeps signing for 24 hours)."""
    with state.uow() as uow:
        rotated = webhooks.rotate_secret(uow, subscription_id)
        uow.commit()
    _print_secret(rotated, "has a new secret")


@webhooks_app.command("test")
def send_test(subscription_id: int) -> None:
    """Queue a `webhook.test` message for one subscription."""
    with state.uow() as uow:
        message = webhooks.send_test_event(uow, subscription_id)
        uow.commit()
    console.print(f"test message {message.id} ({message.webhook_id}) queued")


@webhooks_app.command("messages")
def messages(
    subscription_id: int | None = typer.Option(None, "--subscription"),
    status: webhooks.MessageStatus | None = typer.Option(
        None, help="pending, delivered or failed."
    ),
    event_type: str | None = typer.Option(None, "--event-type"),
    limit: int = typer.Option(100, min=1, max=500),
    fmt: OutputFormat = FORMAT,
) -> None:
    """List messages, newest first."""
    query = webhooks.ListMessages(
        subscription_id=subscription_id, status=status, event_type=event_type, limit=limit
    )
    with state.uow() as uow:
        page = webhooks.list_messages(uow, query)
    emit_rows(
        [
            (
                m.id,
                m.webhook_id,
                m.subscription_id,
                m.event_type,
                m.status,
                m.attempts,
                m.next_attempt_at,
                m.last_response_status,
                (m.last_error or "")[:80],
            )
            for m in page.items
        ],
        MESSAGE_HEADERS,
        fmt,
        "Webhook messages",
    )


@webhooks_app.command("show")
def show(message_id: int, fmt: OutputFormat = FORMAT) -> None:
    """One message's delivery log: a row per attempt."""
    with state.uow() as uow:
        detail = webhooks.get_message(uow, message_id)
    message = detail.message
    if fmt == OutputFormat.TABLE:
        console.print(
            f"message {message.id} {message.webhook_id} {message.event_type}: {message.status}"
        )
    emit_rows(
        [
            (
                a.number,
                a.outcome,
                a.started_at,
                a.duration_ms,
                a.response_status,
                a.error,
                a.worker,
            )
            for a in detail.attempts
        ],
        ["attempt", "outcome", "started_at", "duration_ms", "status", "error", "worker"],
        fmt,
        "Delivery log",
    )


@webhooks_app.command("retry")
def retry(message_id: int) -> None:
    """Queue a message again now, with a fresh retry budget and the same webhook-id."""
    with state.uow() as uow:
        message = webhooks.retry_message(uow, message_id)
        uow.commit()
    console.print(f"message {message.id} ({message.webhook_id}) re-queued")
