"""Part (d) of the flash sale benchmark: the race through HTTP, over real sockets.

`shopops serve` (uvicorn, production settings, no access log) serves the API in its
own processes; a load generator in another process runs the buyers as asyncio tasks
on uvloop, each with one kept-alive connection that sends a prepared HTTP/1.1
request and parses the answer with httptools. Before the timed race every buyer
reads once (opening its connection and warming each server process: FastAPI builds
its routes on the first request). Server and load generator share this machine's two
cores, so the figures include the load generator's cost (about 0.1 ms of CPU per
request).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httptools
import httpx
import uvloop

from bench.flash_sale import HOT_SKU, RaceResult
from shopops.bootstrap import Container
from shopops.contexts import access, inventory
from shopops.kernel.events import Actor

ORDER_BODY = {
    "lines": [{"sku": HOT_SKU, "quantity": 1}],
    "shipping_address": {
        "recipient": "Li Lei",
        "line1": "1 Century Ave",
        "city": "Shanghai",
        "country": "CN",
        "region": "CN-SH",
        "postal_code": "200120",
    },
    "channel": "app",
    "guest": {"email": "buyer@example.com", "name": "Buyer"},
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _token(container: Container) -> str:
    with container.uow(Actor.system("bench")) as uow:
        user = access.create_user(
            uow,
            access.CreateUser(
                "checkout@bench.example.com", "Checkout", "owner", "bench-password-123"
            ),
        )
        uow.commit()
    from shopops.auth.principal import actor_for_user

    with container.uow(actor_for_user(user)) as uow:
        issued = access.issue_token(
            uow, access.IssueToken("storefront", ("orders.read", "orders.write"))
        )
        uow.commit()
    return issued.secret


class _Response:
    """One HTTP/1.1 response, parsed by httptools (uvicorn's own parser)."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.complete = False

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


class _Connection:
    """A kept-alive connection that sends one prepared request at a time.

    The load generator shares the server's two cores, so it must cost little per
    request: the request bytes are built once, and nothing but the status and the
    body of refusals is decoded. A connection the server closes is an error, never
    retried (POST is not idempotent)."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(request)
        response = _Response()
        parser = httptools.HttpResponseParser(response)
        while not response.complete:
            data = await self._reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection mid-request")
            parser.feed_data(data)
        if not parser.should_keep_alive():
            self.close()
        return parser.get_status_code(), bytes(response.body)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None


def _requests(url: str, token: str) -> tuple[str, int, bytes, bytes]:
    """(host, port, the checkout request, a warm-up read), as bytes ready to send."""
    parsed = urlsplit(url)
    body = json.dumps(ORDER_BODY).encode()
    head = f"Host: {parsed.netloc}\r\nAuthorization: Bearer {token}\r\n"
    order = (
        f"POST /v1/orders HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    warm_up = f"GET /v1/orders?limit=1 HTTP/1.1\r\n{head}\r\n".encode()
    return str(parsed.hostname), int(parsed.port or 80), order, warm_up


async def _buyers(url: str, token: str, buyers: int) -> tuple[list[float], int, int, float]:
    host, port, order, warm_up = _requests(url, token)
    connections = [_Connection(host, port) for _ in range(buyers)]
    # Not timed: every buyer opens its connection and reads once, so that each server
    # process has built its routes (FastAPI does it on the first request, in about a
    # second), checked the token and filled its connection pool, as a running shop has.
    for status, _ in await asyncio.gather(*(c.send(warm_up) for c in connections)):
        if status != 200:
            raise RuntimeError(f"warm-up read answered {status}")
    latencies: list[float] = []
    placed = refused = 0

    async def buyer(connection: _Connection) -> None:
        nonlocal placed, refused
        try:
            while True:
                began = time.perf_counter()
                status, body = await connection.send(order)
                latencies.append((time.perf_counter() - began) * 1000)
                if status == 201:
                    if b'"number":"SO-' not in body:  # the whole order comes back
                        raise RuntimeError(f"unexpected answer 201: {body[:200]!r}")
                    placed += 1
                    continue
                problem = json.loads(body)
                if problem.get("code") != "inventory.insufficient_stock":
                    raise RuntimeError(f"unexpected answer {status}: {problem}")
                refused += 1
                return
        finally:
            connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(buyer(connection) for connection in connections))
    return latencies, placed, refused, time.perf_counter() - began


def _load(url: str, token: str, buyers: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        out.put(uvloop.run(_buyers(url, token, buyers)))
    except Exception as error:  # surface it in the parent instead of hanging
        out.put(error)


def run_http(
    database_url: str,
    buyers: int,
    units: int,
    make_store: Callable[[str, int], Container],
    workers: int = 2,
) -> RaceResult:
    container = make_store(database_url, units)
    token = _token(container)
    port = _free_port()
    settings = container.settings
    # Served as in production: the outbox and the analytics refresh are `shopops worker`'s
    # work, not the API processes'. The keys are the store's (one PII key for all rows).
    env = {
        **os.environ,
        "SHOPOPS_ENV": "production",
        "SHOPOPS_DATABASE_URL": database_url,
        "SHOPOPS_SECRET_KEY": settings.secret_key,
        "SHOPOPS_PII_KEY": settings.pii_key,
        "SHOPOPS_PAYMENT_GATEWAY_SECRET": "bench-gateway-secret-" + "g" * 24,
        "SHOPOPS_DATABASE_POOL_SIZE": "8",
    }
    shopops = Path(sys.executable).with_name("shopops")
    server = subprocess.Popen(
        [str(shopops), "serve", "--port", str(port), "--workers", str(workers), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        generator = multiprocessing.Process(target=_load, args=(base, token, buyers, results))
        generator.start()
        outcome = results.get(timeout=900)
        generator.join()
        if isinstance(outcome, Exception):
            raise outcome
        latencies, placed, refused, seconds = outcome
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    result = RaceResult(f"(d) HTTP API, uvicorn x{workers}", seconds, placed, refused, latencies)
    with container.session_factory() as session:
        level = session.query(inventory.StockLevel).one()
        result.oversold = max(0, level.reserved - level.on_hand) + max(0, placed - units)
        assert inventory.ledger_discrepancies(session) == []
    container.dispose()
    return result
