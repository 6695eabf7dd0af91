"""Part (d) of the flash sale benchmark: the race through HTTP, over real sockets.

uvicorn serves the API in its own processes; a load generator in another process
runs the buyers as asyncio tasks with keep-alive connections. Both share this
machine's two cores, so the figures include the load generator's cost.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

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


async def _buyers(url: str, token: str, buyers: int) -> tuple[list[float], int, int, float]:
    limits = httpx.Limits(max_connections=buyers, max_keepalive_connections=buyers)
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    placed = refused = 0
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30
    ) as client:

        async def buyer() -> None:
            nonlocal placed, refused
            while True:
                began = time.perf_counter()
                response = await client.post("/v1/orders", json=ORDER_BODY)
                latencies.append((time.perf_counter() - began) * 1000)
                if response.status_code == 201:
                    placed += 1
                    continue
                body = response.json()
                if body.get("code") != "inventory.insufficient_stock":
                    raise RuntimeError(f"unexpected answer {response.status_code}: {body}")
                refused += 1
                return

        began = time.perf_counter()
        await asyncio.gather(*(buyer() for _ in range(buyers)))
        return latencies, placed, refused, time.perf_counter() - began


def _load(url: str, token: str, buyers: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        out.put(asyncio.run(_buyers(url, token, buyers)))
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
    env = {
        **os.environ,
        "SHOPOPS_DATABASE_URL": database_url,
        "SHOPOPS_OUTBOX_INLINE": "false",
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
