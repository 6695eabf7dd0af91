"""A real webhook receiver on 127.0.0.1 for the tests (not a test module).

It verifies every request with ``standardwebhooks.Webhook(secret).verify`` once a
secret is set, answers 401 to a bad signature, and otherwise answers with the
next scripted status (default 200) after an optional delay. Each request is
recorded before the delay, so a request counts as received even if the sender
dies before the reply.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    host: str = "127.0.0.1"
    secret: str | None = None
    delay: float = 0.0
    default_status: int = 200
    statuses: deque[int] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _waiters: list[tuple[int, threading.Event]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # the sender died mid-request (a killed worker): nothing arrived
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._record(headers, body)
                if receiver.delay:
                    time.sleep(receiver.delay)
                reply = json.dumps({"status": status, "received": headers.get("webhook-id")})
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                if 300 <= status < 400:
                    self.send_header("location", receiver.url)
                self.end_headers()
                self.wfile.write(reply.encode())

            def log_message(self, format: str, *args: Any) -> None:
                return None

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                return None  # the sender hung up (timeout, killed worker): expected here

        self._server = Server((self.host, 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        verified = False
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        with self._lock:
            if self.secret is not None and not verified:
                status = 401
            else:
                status = self.statuses.popleft() if self.statuses else self.default_status
            self.requests.append(Received(headers, body, verified, status))
            count = len(self.requests)
            for threshold, event in self._waiters:
                if count >= threshold:
                    event.set()
        return status

    def when_received(self, count: int) -> threading.Event:
        """An event set once ``count`` requests have arrived."""
        event = threading.Event()
        with self._lock:
            self._waiters.append((count, event))
            if len(self.requests) >= count:
                event.set()
        return event

    def ids(self) -> list[str]:
        with self._lock:
            return [r.webhook_id for r in self.requests]
