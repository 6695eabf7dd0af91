"""Outgoing webhooks: subscriptions, their signing secrets, messages and the delivery log.

Requests are signed per the Standard Webhooks specification (`webhook-id`,
`webhook-timestamp`, `webhook-signature`) and retried with backoff; a message
keeps its `webhook-id` across retries so receivers can deduplicate. Sending
happens in `shopops worker`, never during these requests.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, after_id, encode_cursor
from shopops.api.schemas.webhooks import (
    WebhookAttemptRead,
    WebhookMessageDetail,
    WebhookMessageRead,
    WebhookSubscriptionCreate,
    WebhookSubscriptionRead,
    WebhookSubscriptionUpdate,
    WebhookSubscriptionWithSecret,
)
from shopops.auth.permissions import Permission
from shopops.contexts import webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

MANAGE = require(Permission.WEBHOOKS_MANAGE)


def _with_secret(created: webhooks.SubscriptionWithSecret) -> WebhookSubscriptionWithSecret:
    read = WebhookSubscriptionRead.model_validate(created.subscription)
    return WebhookSubscriptionWithSecret(**read.model_dump(), secret=created.secret)


@router.get("/event-types", response_model=list[str])
def list_event_types(context: RequestContext = Depends(MANAGE)) -> list[str]:
    """The event types a subscription may name (or `*` for all of them)."""
    return list(webhooks.EVENT_TYPES)


@router.post("/subscriptions", response_model=WebhookSubscriptionWithSecret, status_code=201)
def create_subscription(
    body: WebhookSubscriptionCreate, context: RequestContext = Depends(MANAGE)
) -> WebhookSubscriptionWithSecret:
    """Subscribe a URL to event types. The response holds the signing secret, shown only once."""
    command = webhooks.CreateSubscription(
        url=body.url,
        event_types=tuple(body.event_types),
        description=body.description,
        is_active=body.is_active,
    )
    with context.uow() as uow:
        created = webhooks.create_subscription(uow, command)
        uow.commit()
    return _with_secret(created)


@router.get("/subscriptions", response_model=Page[WebhookSubscriptionRead])
def list_subscriptions(
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = Depends(MANAGE),
) -> Page[WebhookSubscriptionRead]:
    with context.uow() as uow:
        page = webhooks.list_subscriptions(uow, after_id=after_id(cursor), limit=limit)
    next_cursor = None if page.next_after_id is None else encode_cursor({"id": page.next_after_id})
    return Page(
        items=[WebhookSubscriptionRead.model_validate(s) for s in page.items],
        next_cursor=next_cursor,
    )


@router.get("/subscriptions/{subscription_id}", response_model=WebhookSubscriptionRead)
def get_subscription(
    subscription_id: int, context: RequestContext = Depends(MANAGE)
) -> WebhookSubscriptionRead:
    with context.uow() as uow:
        view = webhooks.get_subscription(uow, subscription_id)
    return WebhookSubscriptionRead.model_validate(view)


@router.patch("/subscriptions/{subscription_id}", response_model=WebhookSubscriptionRead)
def update_subscription(
    subscription_id: int,
    body: WebhookSubscriptionUpdate,
    context: RequestContext = Depends(MANAGE),
) -> WebhookSubscriptionRead:
    """Change the URL, event types, description or active flag (inactive: nothing is sent)."""
    command = webhooks.UpdateSubscription(
        subscription_id,
        url=body.url,
        event_types=None if body.event_types is None else tuple(body.event_types),
        description=body.description,
        is_active=body.is_active,
    )
    with context.uow() as uow:
        view = webhooks.update_subscription(uow, command)
        uow.commit()
    return WebhookSubscriptionRead.model_validate(view)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(
    subscription_id: int, context: RequestContext = Depends(MANAGE)
) -> Response:
    """Delete the subscription together with its messages and delivery log."""
    with context.uow() as uow:
        webhooks.delete_subscription(uow, subscription_id)
        uow.commit()
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/rotate-secret", response_model=WebhookSubscriptionWithSecret
)
def rotate_secret(
    subscription_id: int, context: RequestContext = Depends(MANAGE)
) -> WebhookSubscriptionWithSecret:
    """A new signing secret, shown only once; the old one also signs for 24 hours."""
    with context.uow() as uow:
        rotated = webhooks.rotate_secret(uow, subscription_id)
        uow.commit()
    return _with_secret(rotated)


@router.post(
    "/subscriptions/{subscription_id}/test", response_model=WebhookMessageRead, status_code=202
)
def send_test_event(
    subscription_id: int, context: RequestContext = Depends(MANAGE)
) -> WebhookMessageRead:
    """Queue a `webhook.test` message for this subscription; the worker sends it."""
    with context.uow() as uow:
        message = webhooks.send_test_event(uow, subscription_id)
        uow.commit()
    return WebhookMessageRead.model_validate(message)


@router.get("/messages", response_model=Page[WebhookMessageRead])
def list_messages(
    subscription_id: int | None = None,
    status: webhooks.MessageStatus | None = Query(None, examples=["failed"]),
    event_type: str | None = Query(None, examples=["order.paid"]),
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = Depends(MANAGE),
) -> Page[WebhookMessageRead]:
    """Messages, newest first; `status=failed` lists the dead ones."""
    query = webhooks.ListMessages(
        subscription_id=subscription_id,
        status=status,
        event_type=event_type,
        before_id=after_id(cursor),
        limit=limit,
    )
    with context.uow() as uow:
        page = webhooks.list_messages(uow, query)
    next_cursor = (
        None if page.next_before_id is None else encode_cursor({"id": page.next_before_id})
    )
    return Page(
        items=[WebhookMessageRead.model_validate(m) for m in page.items], next_cursor=next_cursor
    )


@router.get("/messages/{message_id}", response_model=WebhookMessageDetail)
def get_message(message_id: int, context: RequestContext = Depends(MANAGE)) -> WebhookMessageDetail:
    """The message, the payload it sends, and one delivery-log row per attempt."""
    with context.uow() as uow:
        detail = webhooks.get_message(uow, message_id)
    read = WebhookMessageRead.model_validate(detail.message)
    return WebhookMessageDetail(
        **read.model_dump(),
        payload=detail.payload,
        delivery_log=[WebhookAttemptRead.model_validate(a) for a in detail.attempts],
    )


@router.post("/messages/{message_id}/retry", response_model=WebhookMessageRead)
def retry_message(message_id: int, context: RequestContext = Depends(MANAGE)) -> WebhookMessageRead:
    """Queue the message again now, with a fresh retry budget and the same `webhook-id`."""
    with context.uow() as uow:
        message = webhooks.retry_message(uow, message_id)
        uow.commit()
    return WebhookMessageRead.model_validate(message)
