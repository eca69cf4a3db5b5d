"""Pausing Python's cyclic garbage collector while building many small, acyclic objects.

Deriving a full-width layer creates tens of thousands of SymPy symbols and products. None of them forms a
reference cycle, so the cyclic collector finds nothing to free, yet it runs every few hundred allocations
and walks ever more live objects: about a third of the time of a cold theorem check. Reference counting
still frees everything as usual while the collector is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block, and restore its previous state after it, even on error.

    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
