"""Bands of work on parallel threads, each calling single-threaded BLAS, when asked for.

By default every matrix product runs whole, on BLAS's own threads: measured on a quiet 2-core machine,
OpenBLAS serialises concurrent calls from several Python threads, so bands with single-threaded BLAS ran
at about the speed of one core (block ratio to a bare product 0.35-0.45, against 0.65-0.70 unbanded).
Under heavy load from other processes the balance can tip the other way, since BLAS's threads then wait for
each other; the environment variable ``VERIFIER_THREADS=N`` splits the work into N bands of pixels run on
N threads (NumPy releases the GIL for products and elementwise passes alike). Without threadpoolctl (which
can hold BLAS to one thread per band) everything runs in one band.

>>> bands(10, workers=3)
[(0, 3), (3, 7), (7, 10)]
>>> bands(5, workers=2, min_size=4)
[(0, 5)]
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import Any

__all__ = ["bands", "elementwise_workers", "parallel", "row_bands", "single_threaded_blas", "workers"]

_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


def _forget_pool() -> None:
    """A forked child has none of its parent's threads: it starts a fresh pool when it needs one."""
    global _POOL, _POOL_SIZE, _POOL_LOCK
    _POOL, _POOL_SIZE, _POOL_LOCK = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl ships with the test extras
        return None
    return ThreadpoolController()


def workers() -> int:
    """Bands to use: ``VERIFIER_THREADS`` if set, else 1 (BLAS threads the products); 1 when BLAS can't be limited."""
    if _blas_controller() is None:
        return 1
    chosen = os.environ.get("VERIFIER_THREADS", "")
    if chosen.isdigit() and int(chosen) >= 1:
        return int(chosen)
    return 1


#: Elementwise passes smaller than this many entries run whole: a thread hand-off costs more than it saves.
ELEMENTWISE_MIN = 1 << 16


def elementwise_workers(entries: int) -> int:
    """Threads for one elementwise pass over ``entries`` values: 1 unless ``VERIFIER_ELEMENTWISE_THREADS`` asks.

    NumPy's elementwise loops run on one core and release the GIL, so a large pass can be split by rows
    over threads. Measured on a quiet 2-core machine it did not pay: the full bottleneck ran at 0.61-0.70
    of a bare matrix product with its ReLUs and adds split over two threads, and at 0.67-0.78 without
    (``benchmarks/bench_bottleneck.py``); the hand-offs cost more than the second core's share of
    memory-bound work. ``VERIFIER_ELEMENTWISE_THREADS=N`` turns the split on for passes of at least
    :data:`ELEMENTWISE_MIN` entries.

    >>> elementwise_workers(100)
    1
    """
    chosen = os.environ.get("VERIFIER_ELEMENTWISE_THREADS", "")
    if entries < ELEMENTWISE_MIN or not chosen.isdigit():
        return 1
    return max(1, min(int(chosen), 8))


def bands(size: int, workers: int | None = None, min_size: int = 1) -> list[tuple[int, int]]:
    """Split 0..size-1 into contiguous non-empty bands, at most one per worker and none under ``min_size``."""
    count = workers if workers is not None else globals()["workers"]()
    count = max(1, min(count, size // max(1, min_size)))
    edges = [round(k * size / count) for k in range(count + 1)]
    return [(edges[k], edges[k + 1]) for k in range(count)]


def row_bands(height: int) -> list[tuple[int, int]]:
    """Bands of image rows for the current number of workers."""
    return bands(height)


def parallel(tasks: list[Callable[[], None]]) -> None:
    """Run the tasks at once (the first in this thread, the rest on the pool); re-raise the first failure."""
    global _POOL, _POOL_SIZE
    if len(tasks) == 1:
        tasks[0]()
        return
    with _POOL_LOCK:
        if _POOL is None or len(tasks) - 1 > _POOL_SIZE:
            _POOL_SIZE = len(tasks) - 1
            _POOL = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="verifier-band")
        pool = _POOL
    # Each task runs in a copy of the caller's context: NumPy keeps its error settings (np.errstate) there, so an
    # overflow the caller chose to report itself does not warn from the pool's threads.
    futures = [pool.submit(contextvars.copy_context().run, task) for task in tasks[1:]]
    try:
        tasks[0]()
    finally:
        for future in futures:
            future.result()


def single_threaded_blas(wanted: bool) -> AbstractContextManager[Any]:
    """While bands run in parallel, keep each BLAS call in its own thread (no nested thread pools)."""
    controller = _blas_controller()
    if not wanted or controller is None:
        return nullcontext()
    return controller.limit(limits=1, user_api="blas")  # type: ignore[no-any-return]
