"""serve, db, worker."""

from __future__ import annotations

import signal
import time
from types import FrameType

import typer
import uvicorn

from shopops.cli.context import console, state
from shopops.contexts import webhooks
from shopops.db import migrate
from shopops.kernel.logs import configure_logging

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(state.container.engine, revision)
    console.print(f"database at {migrate.current_revision(state.container.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the applied revision."""
    console.print(migrate.current_revision(state.container.engine) or "(empty database)")


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (PostgreSQL only)."),
    access_log: bool = typer.Option(True, help="Log every request."),
) -> None:
    """Serve the API (and console) with uvicorn."""
    configure_logging()
    settings = state.container.settings
    if workers > 1 and settings.is_sqlite:
        raise typer.BadParameter("several workers need PostgreSQL", param_hint="--workers")
    console.print(
        f"shopops on http://{host}:{port}  (console: http://{host}:{port}/console, "
        f"API docs: http://{host}:{port}/docs)"
    )
    uvicorn.run(
        "shopops.console.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=access_log,
        # A worker process builds the whole app before it answers the supervisor's ping.
        timeout_worker_healthcheck=60,
    )


def worker(
    once: bool = typer.Option(False, help="Drain what is ready, then exit."),
    worker_id: str | None = typer.Option(None, help="Name for this worker's leases."),
    batch: int = typer.Option(50, min=1, help="Deliveries claimed per round."),
) -> None:
    """Run the outbox relay (event handlers, webhooks) until stopped."""
    configure_logging()
    relay = state.container.make_relay(worker_id)
    scheduler = state.container.make_scheduler(relay.worker_id)
    container = state.container
    dispatcher = webhooks.WebhookDispatcher(
        container.session_factory,
        container.clock,
        container.pii,
        worker_id=relay.worker_id,
        lease_seconds=container.settings.outbox_lease_seconds,
    )
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    console.print(f"worker {relay.worker_id} started")
    poll = state.container.settings.worker_poll_seconds
    while not stopping:
        scheduler.run_due()
        processed = relay.run_once(batch) + dispatcher.run_once(batch)
        if once and processed == 0:
            break
        if processed == 0:
            time.sleep(poll)
    dispatcher.close()
    console.print(f"worker {relay.worker_id} stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("serve")(serve)
    app.command("worker")(worker)
