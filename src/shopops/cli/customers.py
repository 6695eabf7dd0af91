"""customers: list, search, show, create, tag, consent, export, erase.

Acts as the system operator unless `--as EMAIL` is given; personal fields are
masked for users without `customers.pii.read`, exactly as in the API.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import customers
from shopops.kernel.events import jsonable

customers_app = typer.Typer(
    help="Customers: profiles, consent, tags, data-subject export and erasure.",
    no_args_is_help=True,
)

LIST_HEADERS = [
    "id",
    "email",
    "phone",
    "name",
    "channel",
    "region",
    "tags",
    "marketing_email",
    "marketing_sms",
    "registered_at",
    "erased_at",
]
ADDRESS_HEADERS = ["id", "label", "recipient", "line1", "line2", "phone", "city", "region"]
ADDRESS_HEADERS += ["postal_code", "country", "default"]
FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row(view: customers.CustomerView) -> list[Any]:
    return [
        view.id,
        view.email,
        view.phone,
        view.name,
        view.source_channel,
        view.region,
        " ".join(view.tags),
        view.marketing_email_consent,
        view.marketing_sms_consent,
        view.registered_at,
        view.erased_at,
    ]


def _as_json(value: Any) -> str:
    return json.dumps(jsonable(dataclasses.asdict(value)), ensure_ascii=False, indent=2)


def _emit_list(query: customers.SearchCustomers, total: int, fmt: OutputFormat) -> None:
    views: list[customers.CustomerView] = []
    after: int | None = None
    with state.uow() as uow:
        while len(views) < total:
            page = customers.search_customers(
                uow,
                dataclasses.replace(query, after_id=after, limit=min(500, total - len(views))),
            )
            views.extend(page.items)
            if page.next_after_id is None:
                break
            after = page.next_after_id
    emit_rows([_row(v) for v in views], LIST_HEADERS, fmt, "Customers")


@customers_app.command("list")
def list_customers(
    tag: str | None = typer.Option(None, help="Only customers with this tag."),
    channel: str | None = typer.Option(None, help="Source channel, e.g. web or store."),
    region: str | None = typer.Option(None, help="ISO code; CN also matches CN-31."),
    since: datetime | None = typer.Option(None, help="Registered from (inclusive), UTC."),
    until: datetime | None = typer.Option(None, help="Registered until (exclusive), UTC."),
    include_erased: bool = typer.Option(False, "--include-erased"),
    limit: int = typer.Option(100, min=1, max=100_000),
    fmt: OutputFormat = FORMAT,
) -> None:
    """List customers (oldest first) with optional filters."""
    query = customers.SearchCustomers(
        tag=tag,
        source_channel=channel,
        region=region,
        registered_from=_aware(since),
        registered_to=_aware(until),
        include_erased=include_erased,
    )
    _emit_list(query, limit, fmt)


@customers_app.command("search")
def search_customers(
    contact: str = typer.Argument(..., help="An e-mail address or a phone number."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Find customers by exact e-mail or phone (matched through the lookup hash)."""
    if "@" in contact:
        query = customers.SearchCustomers(email=contact, include_erased=True)
    else:
        query = customers.SearchCustomers(phone=contact, include_erased=True)
    _emit_list(query, 100, fmt)


@customers_app.command("show")
def show_customer(customer_id: int, fmt: OutputFormat = FORMAT) -> None:
    """One customer with addresses."""
    with state.uow() as uow:
        view = customers.get_customer(uow, customer_id)
    if fmt == OutputFormat.JSON:
        sys.stdout.write(_as_json(view) + "\n")
        return
    profile = dataclasses.asdict(view)
    addresses = profile.pop("addresses") or []
    emit_rows(list(profile.items()), ["field", "value"], fmt, f"Customer {view.id}")
    if fmt == OutputFormat.TABLE and addresses:
        emit_rows([list(a.values()) for a in addresses], ADDRESS_HEADERS, fmt, "Addresses")


@customers_app.command("create")
def create_customer(
    email: str | None = typer.Option(None, help="E-mail (this or --phone is required)."),
    phone: str | None = typer.Option(None, help="Phone, 7-15 digits, optional +."),
    name: str | None = typer.Option(None),
    channel: str = typer.Option("store", help="Source channel."),
    region: str | None = typer.Option(None, help="ISO code such as CN or CN-31."),
    tag: list[str] = typer.Option([], "--tag", help="A tag; repeat for several."),
    marketing_email: bool = typer.Option(False, "--marketing-email", help="Consents to e-mail."),
    marketing_sms: bool = typer.Option(False, "--marketing-sms", help="Consents to SMS."),
) -> None:
    """Register a customer."""
    command = customers.RegisterCustomer(
        email=email,
        phone=phone,
        name=name,
        source_channel=channel,
        region=region,
        tags=tuple(tag),
        marketing_email_consent=marketing_email,
        marketing_sms_consent=marketing_sms,
    )
    with state.uow() as uow:
        view = customers.register_customer(uow, command)
        uow.commit()
    console.print(f"created customer {view.id} ({view.email or view.phone})")


@customers_app.command("tag")
def tag_customer(
    customer_id: int,
    tags: list[str] = typer.Argument(..., help="Tags to add (or remove with --remove)."),
    remove: bool = typer.Option(False, "--remove", help="Remove the tags instead."),
) -> None:
    """Add or remove tags."""
    with state.uow() as uow:
        if remove:
            view = customers.untag_customer(uow, customers.UntagCustomer(customer_id, tuple(tags)))
        else:
            view = customers.tag_customer(uow, customers.TagCustomer(customer_id, tuple(tags)))
        uow.commit()
    console.print(f"customer {view.id} tags: {' '.join(view.tags) or '(none)'}")


@customers_app.command("consent")
def set_consent(
    customer_id: int,
    marketing_email: bool | None = typer.Option(None, "--marketing-email/--no-marketing-email"),
    marketing_sms: bool | None = typer.Option(None, "--marketing-sms/--no-marketing-sms"),
) -> None:
    """Record marketing consent (audited; see it in the export's consent history)."""
    with state.uow() as uow:
        view = customers.set_consent(
            uow, customers.SetConsent(customer_id, marketing_email, marketing_sms)
        )
        uow.commit()
    console.print(
        f"customer {view.id}: e-mail {_yes_no(view.marketing_email_consent)}, "
        f"SMS {_yes_no(view.marketing_sms_consent)}"
    )


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


@customers_app.command("export")
def export_customer(
    customer_id: int,
    out: Path = typer.Option(..., "--out", help="JSON file to write (created with mode 600)."),
) -> None:
    """Data-subject export of everything held about the customer (needs customers.pii.read)."""
    with state.uow() as uow:
        export = customers.export_customer(uow, customer_id)
        uow.commit()  # the export is audited
    _write_private(out, _as_json(export) + "\n")
    console.print(f"customer {customer_id} exported to {out}")


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


@customers_app.command("erase")
def erase_customer(
    customer_id: int,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Irreversibly anonymise a customer (personal data, addresses, tags, consents)."""
    if not yes:
        typer.confirm(
            f"Erase customer {customer_id}? Their personal data cannot be recovered", abort=True
        )
    with state.uow() as uow:
        view = customers.erase_customer(uow, customers.EraseCustomer(customer_id, confirm=True))
        uow.commit()
    console.print(f"customer {view.id} erased at {view.erased_at:%Y-%m-%d %H:%M:%S} UTC")
