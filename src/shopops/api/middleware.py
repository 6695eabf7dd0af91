"""ASGI middleware: request ids, and replay of ``Idempotency-Key`` POSTs."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopops.api.errors import problem
from shopops.bootstrap import Container
from shopops.db.idempotency import IdempotencyRecord
from shopops.kernel.logs import request_id_var

log = logging.getLogger("shopops.api")

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)

        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here, not by Starlette's outermost error middleware, so that the
            # 500 carries the request id and the traceback is logged under it.
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not response_started:
                await problem(
                    Request(scope),
                    500,
                    "internal_error",
                    "an unexpected error occurred; it was logged",
                )(scope, receive, send_with_id)
            raise  # the server (and TestClient) still see the exception
        finally:
            request_id_var.reset(token)


IDEMPOTENCY_HEADER = "idempotency-key"
_NOT_STORED = {401, 403, 429}


class IdempotencyMiddleware:
    """Same key + same body replays the first response; a different body is a 422.

    Keys are scoped by the caller's credentials. A key whose first request is
    still running answers 409 so the caller retries later.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        container: Container = scope["app"].state.container
        if not 1 <= len(key) <= 255:
            await problem(
                request, 422, "idempotency.invalid_key", "Idempotency-Key must be 1-255 characters"
            )(scope, receive, send)
            return
        body = await request.body()
        principal = hashlib.sha256(
            (headers.get("authorization", "") + "|" + headers.get("cookie", "")).encode()
        ).hexdigest()[:40]
        request_hash = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        outcome = await run_in_threadpool(
            _begin, container, principal, key, scope["path"], request_hash
        )
        if isinstance(outcome, Response):
            await outcome(scope, receive, send)
            return
        if isinstance(outcome, str):
            status, code, detail = _REFUSALS[outcome]
            await problem(request, status, code, detail)(scope, receive, send)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def replay_receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            await run_in_threadpool(_finish, container, principal, key, captured)


_REFUSALS = {
    "mismatch": (
        422,
        "idempotency.key_reused",
        "this Idempotency-Key was used with a different request body",
    ),
    "in_progress": (
        409,
        "idempotency.in_progress",
        "a request with this Idempotency-Key is still being processed",
    ),
}


def _begin(
    container: Container, principal: str, key: str, path: str, request_hash: str
) -> Response | str | None:
    now = container.clock.now()
    with container.session_factory() as session:
        existing = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        ).one_or_none()
        ttl = timedelta(hours=container.settings.idempotency_ttl_hours)
        if existing is not None and existing.created_at + ttl < now:
            session.delete(existing)
            session.commit()
            existing = None
        if existing is not None:
            if existing.request_hash != request_hash:
                return "mismatch"
            if existing.status_code is None:
                return "in_progress"
            return Response(
                content=container.pii.decrypt_bytes(existing.response_body)
                if existing.response_body
                else b"",
                status_code=existing.status_code,
                media_type=existing.content_type,
                headers={"Idempotent-Replayed": "true"},
            )
        session.add(
            IdempotencyRecord(
                principal=principal,
                key=key,
                method="POST",
                path=path,
                request_hash=request_hash,
                created_at=now,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            return "in_progress"
    return None


def _finish(container: Container, principal: str, key: str, captured: dict[str, Any]) -> None:
    status = int(captured["status"])
    with container.session_factory() as session:
        where = (IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
        if status >= 500 or status in _NOT_STORED:
            session.execute(delete(IdempotencyRecord).where(*where))
        else:
            record = session.scalars(select(IdempotencyRecord).where(*where)).one()
            content_type = dict(captured["headers"]).get(b"content-type", b"").decode("latin-1")
            record.status_code = status
            # Sealed: a stored response may hold personal data (a customer, an address).
            record.response_body = container.pii.encrypt_bytes(captured["body"])
            record.content_type = content_type or None
            record.completed_at = container.clock.now()
        session.commit()
