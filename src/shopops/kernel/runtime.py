"""Settings for long-running processes (API workers, benchmarks of the serving path)."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move everything allocated so far out of the cyclic garbage collector's reach.

    An API worker builds the app, the container, SQLAlchemy's and pydantic's machinery
    at startup: some 400,000 objects that live as long as the process. A full
    collection walks all of them; measured on the development machine it takes
    0.2-0.4 s, during which every request in the process waits (it was most of the
    flash sale's p99). Frozen, they are never walked again. Call it once startup is
    done; it is not for tests, where apps come and go (frozen objects are never freed).

    Young collections then run after 10,000 net allocations instead of 700: a request
    allocates hundreds of objects that mostly die young, and with the default every
    few requests paid for a collection of everything in flight.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


YOUNG_THRESHOLD = 10_000
