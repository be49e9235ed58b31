"""Fast paths, explained once: pausing the cyclic garbage collector (垃圾回收) while the library makes many objects.

Python frees almost everything by reference counting; the cyclic collector only finds reference cycles, and it runs
whenever enough new objects have been made since it last ran, walking every object still alive. Work that makes
many objects and no cycles gains nothing from it and pays for every walk, so the library pauses it there, and only
there (nothing else in the package touches the collector):

>>> import gc
>>> was = gc.isenabled()
>>> with gc_paused():
...     gc.isenabled()
False
>>> gc.isenabled() == was
True
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

BULK_EVENTS = 1000
"""A bulk append pauses the collector from this many events (fewer make too few objects to trigger a collection)."""

_LOCK = threading.Lock()
_PAUSES = [0, False]
"""How many pauses are running in this process, and whether the collector was enabled before the first. Process-wide
on purpose, the one global state of the package: the collector is itself process-wide, and two threads pausing it
at once must not restore it wrongly (the last pause to end restores it)."""


@contextmanager
def gc_paused(events: int | None = None) -> Iterator[None]:
    """Pause cyclic garbage collection for the block: a bulk append of ``events`` (paused from ``BULK_EVENTS``), or
    one step of a batch audit (no number: always paused).

    What it saves: a big batch keeps tens of thousands of young objects alive until it commits (events, rows,
    receipts), which makes the collector run full collections over the whole heap several times per batch: a third
    of the append time in the ingest benchmark. An audit allocates thousands of short-lived objects, and a batch
    audit's caller keeps the reports: the collections they trigger pass over every report kept so far, a tenth of
    the batch audit's time.

    What keeps it safe: neither makes reference cycles (what they make is freed by reference counting), so a pause
    loses nothing; the collector is restored as it was when the last concurrent pause ends, also on an error; and a
    batch audit ends each pause before it hands a report over (never across a ``yield``), so the caller's code runs
    with the collector as the caller left it, and whatever cycles an audit might leave are found by the next
    collection.
    """
    if events is not None and events < BULK_EVENTS:
        yield
        return
    with _LOCK:
        if _PAUSES[0] == 0:
            _PAUSES[1] = gc.isenabled()
            gc.disable()
        _PAUSES[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _PAUSES[0] -= 1
            if _PAUSES[0] == 0 and _PAUSES[1]:
                gc.enable()


__all__ = ["BULK_EVENTS", "gc_paused"]
