"""GroupCommitter: callers share batches, and each gets its own outcome, also on failures."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from shopops.batching import GroupCommitter


class Flaky:
    """Processes a batch as one shared transaction; fails it as a whole when told.

    The first call (a lone blocker item) waits for ``gate``, so that everything the
    test submits meanwhile lands in the next batch."""

    def __init__(self, *, fail_first: int = 0, poison: int | None = None) -> None:
        self.calls: list[list[int]] = []
        self.gate = threading.Event()
        self._fail_first = fail_first
        self._poison = poison
        self._lock = threading.Lock()

    def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        with self._lock:
            self.calls.append(list(items))
            first = len(self.calls) == 1
        if first:
            self.gate.wait(timeout=10)
            return [item * 10 for item in items]
        if len(self.calls) <= self._fail_first + 1:
            raise RuntimeError("the shared transaction failed")
        if self._poison in items:
            raise RuntimeError(f"item {self._poison} breaks every batch it is in")
        return [ValueError(f"odd {item}") if item % 2 else item * 10 for item in items]


def _run(process: Flaky, items: list[int]) -> list[int | BaseException]:
    committer: GroupCommitter[int, int] = GroupCommitter(process, linger_seconds=0.0)
    blocker = committer.submit(-2)
    while not process.calls:  # the worker has taken the blocker and waits at the gate
        threading.Event().wait(0.001)
    futures = [committer.submit(item) for item in items]
    process.gate.set()
    blocker.result(timeout=10)
    outcomes: list[int | BaseException] = []
    for future in futures:
        try:
            outcomes.append(future.result(timeout=10))
        except Exception as error:  # collected for the assertions
            outcomes.append(error)
    committer.close()
    return outcomes


def test_each_caller_gets_its_own_result() -> None:
    outcomes = _run(Flaky(), [2, 3, 4])
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [20, "odd 3", 40]


def test_a_batch_that_fails_once_is_retried_whole() -> None:
    process = Flaky(fail_first=1)
    outcomes = _run(process, [2, 4, 6])
    assert outcomes == [20, 40, 60]
    assert process.calls[1:] == [[2, 4, 6], [2, 4, 6]]


def test_an_item_that_breaks_every_batch_fails_alone() -> None:
    process = Flaky(poison=4)
    outcomes = _run(process, [2, 4, 6])
    assert (outcomes[0], outcomes[2]) == (20, 60)
    assert isinstance(outcomes[1], RuntimeError)
    # whole twice, then alone (the poisoned one twice again)
    assert process.calls[1:] == [[2, 4, 6], [2, 4, 6], [2], [4], [4], [6]]


@pytest.mark.parametrize("workers", [1, 2])
def test_nothing_is_lost_with_several_workers(workers: int) -> None:
    process = Flaky()
    process.gate.set()
    committer: GroupCommitter[int, int] = GroupCommitter(process, workers=workers)
    futures = [committer.submit(item * 2) for item in range(200)]
    assert [future.result(timeout=10) for future in futures] == [i * 20 for i in range(200)]
    committer.close()
