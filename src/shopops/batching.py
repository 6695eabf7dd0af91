"""Group commit: many concurrent callers share one transaction.

A hot row (the stock of a flash-sale SKU) admits only one durable transaction
at a time, so one order per transaction caps throughput at the commit rate.
``GroupCommitter`` queues concurrent submissions and hands them to ``process``
in batches from a single thread: one lock, one UPDATE and one commit serve the
whole batch. Batches grow with load and stay at one item when idle, so a lone
caller pays no extra latency.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("shopops.batching")

_STOP = object()


class GroupCommitter(Generic[T, R]):
    def __init__(
        self,
        process: Callable[[Sequence[T]], Sequence[R | BaseException]],
        *,
        max_batch: int = 256,
        linger_seconds: float = 0.001,
        workers: int = 1,
        name: str = "group-commit",
    ) -> None:
        self._process = process
        self._max_batch = max_batch
        self._linger = linger_seconds
        self._last_size = 0
        self._queue: queue.SimpleQueue[tuple[T, Future[R]] | object] = queue.SimpleQueue()
        # One worker by default. A second one can prepare its batch while the first holds
        # the row locks, but measured on the flash sale it lost: its batch then waits for
        # those locks anyway, each batch is half as large, and the two compete for the
        # GIL (see docs/adr/0009).
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True)
            for n in range(workers)
        ]
        self._started = False
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> Future[R]:
        if not self._started:
            with self._lock:
                if not self._started:
                    for thread in self._threads:
                        thread.start()
                    self._started = True
        future: Future[R] = Future()
        self._queue.put((item, future))
        return future

    def close(self) -> None:
        if self._started:
            for _ in self._threads:
                self._queue.put(_STOP)
            for thread in self._threads:
                thread.join(timeout=10)

    def _take_batch(self) -> tuple[list[tuple[T, Future[R]]], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch: list[tuple[T, Future[R]]] = [cast(tuple[T, "Future[R]"], first)]
        stopping = False
        # Under load, callers answered by the previous batch are about to come back:
        # wait a moment for them (never longer than the linger) so batches stay full.
        deadline = time.monotonic() + (self._linger if self._last_size > 1 else 0.0)
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                following = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if following is _STOP:
                stopping = True
                break
            batch.append(cast(tuple[T, "Future[R]"], following))
        self._last_size = len(batch)
        return batch, stopping

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take_batch()
            if batch:
                self._settle(batch)

    def _settle(self, batch: list[tuple[T, Future[R]]], *, retried: bool = False) -> None:
        # A caller that gave up before we started is skipped; one that has not
        # cannot cancel any more, so every remaining future gets an answer.
        batch = [
            (item, future)
            for item, future in batch
            if future.running() or future.set_running_or_notify_cancel()
        ]
        if not batch:
            return
        items = [item for item, _ in batch]
        try:
            results = self._process(items)
        except BaseException as error:  # the shared transaction failed as a whole
            # Once more as it is first: a transient failure (two random order numbers
            # colliding, a dropped connection) then costs one transaction, not one
            # per item. Failing again, the items go alone, so one bad item fails alone.
            if not retried:
                log.warning("batch of %d failed (%s); retrying it", len(batch), error)
                self._settle(batch, retried=True)
                return
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            log.warning("batch of %d failed again (%s); retrying one by one", len(batch), error)
            for single in batch:
                self._settle([single])
            return
        self.batches += 1
        self.items += len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
