"""Admin: webhooks and their delivery log, the audit log, staff users and roles, API
tokens, and the outbox's dead letters.

Each page and action needs the permission its API counterpart needs
(``api/routes/webhooks.py``, ``governance.py``, ``access.py``). Actions answer an htmx
request with the page's refreshed body (422 with messages beside the fields when the
input is wrong, nothing changed); a plain form post is redirected back to the page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopops.auth.permissions import Permission
from shopops.console.forms import FormErrors, parse_date, parse_int
from shopops.console.guards import Staff, staff
from shopops.console.i18n import _
from shopops.console.templating import is_htmx, render
from shopops.console.views.admin import (
    ATTEMPT_OUTCOMES,
    MESSAGE_STATUSES,
    ROLE_LABELS,
    TONE,
    AuditFilter,
    read_audit,
    read_dead_letters,
    read_delivery_log,
    read_users,
    read_webhooks,
)
from shopops.contexts import access, webhooks
from shopops.kernel.errors import Conflict, DomainError, ValidationFailed
from shopops.relay import retry_dead_letter

router = APIRouter(include_in_schema=False)

P = Permission
WEBHOOKS = Depends(staff(P.WEBHOOKS_MANAGE))
AUDIT = Depends(staff(P.AUDIT_READ))
USERS = Depends(staff(P.USERS_MANAGE))
TOKENS = Depends(staff(P.TOKENS_MANAGE))
OUTBOX_READ = Depends(staff(P.OUTBOX_READ))
OUTBOX_MANAGE = Depends(staff(P.OUTBOX_MANAGE))


def _field_errors(errors: FormErrors, error: DomainError) -> None:
    """Field errors under their top-level field name (``event_types.2`` -> ``event_types``)."""
    if not error.errors:
        errors.add("_form", error.code, error.message)
    for item in error.errors:
        errors.add(item.field.split(".")[0] if item.field else "_form", item.code, item.message)


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# --- webhooks ---------------------------------------------------------------------------

EMPTY_SUBSCRIPTION = {"url": "", "description": "", "event_types": []}


def _webhooks_page(
    request: Request,
    current: Staff,
    *,
    after: int | None = None,
    errors: FormErrors | None = None,
    form: dict[str, object] | None = None,
    created: webhooks.SubscriptionWithSecret | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with current.uow() as uow:
        view = read_webhooks(uow, after=after)
    return render(
        request,
        "admin/webhooks_body.html" if is_htmx(request) else "admin/webhooks.html",
        status_code=status_code,
        view=view,
        errors=errors or FormErrors(),
        form=form or EMPTY_SUBSCRIPTION,
        created=created,
        notice=notice,
        tone=TONE,
    )


@router.get("/webhooks")
def webhook_list(request: Request, after: str | None = None, current: Staff = WEBHOOKS) -> Response:
    errors = FormErrors()
    start = parse_int(errors, "after", after, minimum=1, required=False)
    return _webhooks_page(
        request, current, after=start, errors=errors, status_code=422 if errors else 200
    )


@router.post("/webhooks")
def create_webhook(
    request: Request,
    url: str = Form(""),
    description: str = Form(""),
    event_types: list[str] = Form([]),
    current: Staff = WEBHOOKS,
) -> Response:
    """Subscribe a URL to event types; the signing secret is shown this once."""
    form: dict[str, object] = {
        "url": url,
        "description": description,
        "event_types": list(event_types),
    }
    errors = FormErrors()
    if not url.strip():
        errors.add("url", "validation.required")
    if not event_types:
        errors.add("event_types", "webhooks.no_event_types")
    created = None
    if not errors:
        command = webhooks.CreateSubscription(
            url=url, event_types=tuple(event_types), description=description
        )
        try:
            with current.uow() as uow:
                created = webhooks.create_subscription(uow, command)
                uow.commit()
        except ValidationFailed as failed:
            _field_errors(errors, failed)
    if errors:
        return _webhooks_page(request, current, errors=errors, form=form, status_code=422)
    return _webhooks_page(request, current, created=created)


def _set_active(request: Request, current: Staff, subscription_id: int, active: bool) -> Response:
    with current.uow() as uow:
        webhooks.update_subscription(
            uow, webhooks.UpdateSubscription(subscription_id, is_active=active)
        )
        uow.commit()
    if not is_htmx(request):
        return _back("/console/webhooks")
    notice = _("Subscription enabled.") if active else _("Subscription disabled.")
    return _webhooks_page(request, current, notice=notice)


@router.post("/webhooks/{subscription_id}/enable")
def enable_webhook(request: Request, subscription_id: int, current: Staff = WEBHOOKS) -> Response:
    return _set_active(request, current, subscription_id, True)


@router.post("/webhooks/{subscription_id}/disable")
def disable_webhook(request: Request, subscription_id: int, current: Staff = WEBHOOKS) -> Response:
    return _set_active(request, current, subscription_id, False)


@router.post("/webhooks/{subscription_id}/delete")
def delete_webhook(request: Request, subscription_id: int, current: Staff = WEBHOOKS) -> Response:
    """Delete the subscription with its messages and delivery log (asked to confirm first)."""
    with current.uow() as uow:
        webhooks.delete_subscription(uow, subscription_id)
        uow.commit()
    if not is_htmx(request):
        return _back("/console/webhooks")
    return _webhooks_page(request, current, notice=_("Subscription deleted."))


def _deliveries_page(
    request: Request,
    current: Staff,
    subscription_id: int,
    *,
    status: str | None = None,
    before: int | None = None,
    errors: FormErrors | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with current.uow() as uow:
        log = read_delivery_log(uow, subscription_id, status=status, before=before)
    return render(
        request,
        "admin/deliveries.html" if is_htmx(request) else "admin/webhook.html",
        status_code=status_code,
        log=log,
        errors=errors or FormErrors(),
        notice=notice,
        statuses=MESSAGE_STATUSES,
        outcomes=ATTEMPT_OUTCOMES,
        tone=TONE,
    )


@router.get("/webhooks/{subscription_id}")
def webhook_detail(
    request: Request,
    subscription_id: int,
    status: str | None = None,
    before: str | None = None,
    current: Staff = WEBHOOKS,
) -> Response:
    """The subscription and its delivery log: every message with each attempt."""
    errors = FormErrors()
    chosen = status or None
    if chosen is not None and chosen not in MESSAGE_STATUSES:
        errors.add("status", "validation.invalid")
        chosen = None
    older = parse_int(errors, "before", before, minimum=1, required=False)
    return _deliveries_page(
        request,
        current,
        subscription_id,
        status=chosen,
        before=older,
        errors=errors,
        status_code=422 if errors else 200,
    )


@router.post("/webhooks/{subscription_id}/test")
def send_test_webhook(
    request: Request, subscription_id: int, current: Staff = WEBHOOKS
) -> Response:
    """Queue a ``webhook.test`` message for this subscription; the worker sends it."""
    with current.uow() as uow:
        webhooks.send_test_event(uow, subscription_id)
        uow.commit()
    if not is_htmx(request):
        return _back(f"/console/webhooks/{subscription_id}")
    return _deliveries_page(
        request, current, subscription_id, notice=_("A test event is queued for delivery.")
    )


@router.post("/webhooks/messages/{message_id}/retry")
def retry_webhook_message(request: Request, message_id: int, current: Staff = WEBHOOKS) -> Response:
    """Queue a message again now, with a fresh retry budget and the same ``webhook-id``."""
    with current.uow() as uow:
        message = webhooks.retry_message(uow, message_id)
        uow.commit()
    if not is_htmx(request):
        return _back(f"/console/webhooks/{message.subscription_id}")
    return _deliveries_page(
        request,
        current,
        message.subscription_id,
        notice=_("The delivery is queued again."),
    )


# --- audit ------------------------------------------------------------------------------


@router.get("/audit")
def audit_log(
    request: Request,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    before: str | None = None,
    current: Staff = AUDIT,
) -> Response:
    """The audit trail, newest first, filtered by entity, actor and business days."""
    errors = FormErrors()
    first = parse_date(errors, "from", start)
    last = parse_date(errors, "to", end)
    if first and last and last < first:
        errors.add("to", "validation.reversed_range")
    older = parse_int(errors, "before", before, minimum=1, required=False)
    for name, value in (("entity_type", entity_type), ("entity_id", entity_id), ("actor", actor)):
        if value and len(value) > 254:
            errors.add(name, "validation.too_long")
    query = (
        AuditFilter()
        if errors
        else AuditFilter(
            entity_type=(entity_type or "").strip() or None,
            entity_id=(entity_id or "").strip() or None,
            actor=(actor or "").strip().lower() or None,
            first=first,
            last=last,
            before=older,
        )
    )
    with current.container.session_factory() as session:
        page = read_audit(session, query, timezone=current.container.settings.store_timezone)
        response = render(
            request,
            "admin/audit_body.html" if is_htmx(request) else "admin/audit.html",
            status_code=422 if errors else 200,
            page=page,
            errors=errors,
            form={
                "entity_type": entity_type or "",
                "entity_id": entity_id or "",
                "actor": actor or "",
                "from": start or "",
                "to": end or "",
                "before": before or "",
            },
        )
    return response


# --- users, roles, tokens ---------------------------------------------------------------

EMPTY_USER = {"email": "", "full_name": "", "role": "", "password": ""}


def _users_page(
    request: Request,
    current: Staff,
    *,
    after: int | None = None,
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
    row_errors: dict[int, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with current.uow() as uow:
        view = read_users(uow, after=after, with_tokens=current.can(P.TOKENS_MANAGE))
        return render(
            request,
            "admin/users_body.html" if is_htmx(request) else "admin/users.html",
            status_code=status_code,
            view=view,
            errors=errors or FormErrors(),
            form=form or EMPTY_USER,
            row_errors=row_errors or {},
            notice=notice,
            role_labels=ROLE_LABELS,
            now=current.container.clock.now(),
        )


@router.get("/users")
def user_list(request: Request, after: str | None = None, current: Staff = USERS) -> Response:
    """Staff users with role and status, the roles' permissions, and API tokens."""
    errors = FormErrors()
    start = parse_int(errors, "after", after, minimum=1, required=False)
    return _users_page(
        request, current, after=start, errors=errors, status_code=422 if errors else 200
    )


@router.post("/users")
def create_user(
    request: Request,
    email: str = Form(""),
    full_name: str = Form(""),
    role: str = Form(""),
    password: str = Form(""),
    current: Staff = USERS,
) -> Response:
    form = {"email": email, "full_name": full_name, "role": role, "password": ""}
    errors = FormErrors()
    created = ""
    if not email.strip():
        errors.add("email", "validation.required")
    if not role:
        errors.add("role", "validation.required")
    if not errors:
        try:
            with current.uow() as uow:
                user = access.create_user(uow, access.CreateUser(email, full_name, role, password))
                uow.commit()
                created = user.email
        except ValidationFailed as failed:
            _field_errors(errors, failed)
        except Conflict as conflict:
            errors.add(
                "email" if conflict.code == access.AccessError.EMAIL_TAKEN else "_form",
                conflict.code,
                conflict.message,
            )
    if errors:
        return _users_page(request, current, errors=errors, form=form, status_code=422)
    if not is_htmx(request):
        return _back("/console/users")
    return _users_page(request, current, notice=_("User %(email)s created.", email=created))


def _change_user(
    request: Request, current: Staff, command: access.ChangeUser, notice: str
) -> Response:
    with current.uow() as uow:
        access.change_user(uow, command)
        uow.commit()
    if not is_htmx(request):
        return _back("/console/users")
    return _users_page(request, current, notice=notice)


@router.post("/users/{user_id}/role")
def change_role(
    request: Request, user_id: int, role: str = Form(""), current: Staff = USERS
) -> Response:
    if role not in ROLE_LABELS:
        errors = FormErrors()
        errors.add("role", "access.unknown_role" if role else "validation.required")
        message = errors.get("role") or ""
        return _users_page(request, current, row_errors={user_id: message}, status_code=422)
    return _change_user(
        request, current, access.ChangeUser(user_id, role=role), _("The role is changed.")
    )


@router.post("/users/{user_id}/deactivate")
def deactivate_user(request: Request, user_id: int, current: Staff = USERS) -> Response:
    """Deactivate: the user can no longer sign in and their open sessions end."""
    if user_id == current.user.id:
        raise Conflict("console.cannot_deactivate_self", "you cannot deactivate yourself")
    return _change_user(
        request, current, access.ChangeUser(user_id, is_active=False), _("The user is deactivated.")
    )


@router.post("/users/{user_id}/reactivate")
def reactivate_user(request: Request, user_id: int, current: Staff = USERS) -> Response:
    return _change_user(
        request, current, access.ChangeUser(user_id, is_active=True), _("The user is active again.")
    )


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, current: Staff = TOKENS) -> Response:
    """Revoke an API token at once (tokens.manage, as the API)."""
    with current.uow() as uow:
        access.revoke_token(uow, token_id)
        uow.commit()
    if not is_htmx(request) or not current.can(P.USERS_MANAGE):
        return _back("/console/users")
    return _users_page(request, current, notice=_("The token is revoked."))


# --- dead letters -----------------------------------------------------------------------


def _dead_letters_page(
    request: Request,
    current: Staff,
    *,
    after: int | None = None,
    errors: FormErrors | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with current.container.session_factory() as session:
        view = read_dead_letters(session, after=after)
    return render(
        request,
        "admin/dead_letters_body.html" if is_htmx(request) else "admin/dead_letters.html",
        status_code=status_code,
        view=view,
        errors=errors or FormErrors(),
        notice=notice,
    )


@router.get("/dead-letters")
def dead_letters(
    request: Request, after: str | None = None, current: Staff = OUTBOX_READ
) -> Response:
    """Outbox deliveries whose handler kept failing until the relay gave up."""
    errors = FormErrors()
    start = parse_int(errors, "after", after, minimum=1, required=False)
    return _dead_letters_page(
        request, current, after=start, errors=errors, status_code=422 if errors else 200
    )


@router.post("/dead-letters/{delivery_id}/retry")
def retry_dead_letter_delivery(
    request: Request, delivery_id: int, current: Staff = OUTBOX_MANAGE
) -> Response:
    """Put a dead letter back in the queue with a fresh attempt budget."""
    with current.uow() as uow:
        retry_dead_letter(uow, delivery_id)
        uow.commit()
    if not is_htmx(request):
        return _back("/console/dead-letters")
    return _dead_letters_page(request, current, notice=_("The delivery is queued again."))
