"""Proofs that verifier/numeric/parallel.py splits work as it says, and runs it where it says.

The split (:func:`bands`) is checked against its promise for every small size, worker count and minimum;
the environment variables are read as documented; the pool runs every task but the first on threads of its
own, grows when a call needs more threads, is reused otherwise, and carries the caller's NumPy error
settings; BLAS is held to one thread only while asked.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
import threadpoolctl

from verifier.numeric import parallel as par


@pytest.mark.parametrize("min_size", [1, 2, 3, 5])
@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
def test_bands_cover_the_range_once_in_as_many_even_bands_as_the_workers_and_minimum_allow(
    workers: int, min_size: int
) -> None:
    for size in range(1, 40):
        split = par.bands(size, workers=workers, min_size=min_size)
        assert split[0][0] == 0 and split[-1][1] == size
        assert all(lo < hi for lo, hi in split)  # non-empty
        assert all(a[1] == b[0] for a, b in itertools.pairwise(split))  # contiguous, no overlap
        lengths = [hi - lo for lo, hi in split]
        assert max(lengths) - min(lengths) <= 1  # as even as whole numbers allow
        assert len(split) <= workers
        if len(split) > 1:
            assert min(lengths) >= min_size  # no band under the minimum ...
        if len(split) < workers:  # ... and no more bands possible without one
            assert size // (len(split) + 1) < min_size


def test_bands_take_one_entry_as_the_default_minimum_and_the_environment_for_the_worker_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert par.bands(3, workers=3) == [(0, 1), (1, 2), (2, 3)]
    monkeypatch.setenv("VERIFIER_THREADS", "2")
    assert par.bands(10) == [(0, 5), (5, 10)] and par.row_bands(10) == [(0, 5), (5, 10)]
    assert par.bands(10, workers=3) == [(0, 3), (3, 7), (7, 10)]  # an explicit count wins


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 1), ("", 1), ("1", 1), ("3", 3), ("0", 1), ("-2", 1), ("two", 1), (" 2", 1)]
)
def test_the_worker_count_is_read_from_verifier_threads(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: int
) -> None:
    if value is None:
        monkeypatch.delenv("VERIFIER_THREADS", raising=False)
    else:
        monkeypatch.setenv("VERIFIER_THREADS", value)
    assert par.workers() == expected


def test_without_a_way_to_limit_blas_everything_runs_in_one_band(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERIFIER_THREADS", "4")
    monkeypatch.setattr(par, "_blas_controller", lambda: None)
    assert par.workers() == 1
    with par.single_threaded_blas(True):  # nothing to limit: a context that does nothing
        pass


@pytest.mark.parametrize(
    ("entries", "value", "expected"),
    [
        (par.ELEMENTWISE_MIN - 1, "4", 1),  # too small to split
        (par.ELEMENTWISE_MIN, "4", 4),
        (par.ELEMENTWISE_MIN, None, 1),
        (par.ELEMENTWISE_MIN, "0", 1),
        (par.ELEMENTWISE_MIN, "1", 1),
        (par.ELEMENTWISE_MIN, "8", 8),
        (par.ELEMENTWISE_MIN, "20", 8),  # at most eight
        (par.ELEMENTWISE_MIN, "many", 1),
    ],
)
def test_elementwise_threads_are_read_from_their_variable_and_bounded(
    monkeypatch: pytest.MonkeyPatch, entries: int, value: str | None, expected: int
) -> None:
    if value is None:
        monkeypatch.delenv("VERIFIER_ELEMENTWISE_THREADS", raising=False)
    else:
        monkeypatch.setenv("VERIFIER_ELEMENTWISE_THREADS", value)
    assert par.elementwise_workers(entries) == expected


def _blas_threads() -> list[int]:
    return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


def test_blas_is_held_to_one_thread_only_while_bands_ask_for_it() -> None:
    before = _blas_threads()
    assert before, "NumPy's BLAS is visible to threadpoolctl"
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # a known starting point
        with par.single_threaded_blas(True):
            assert _blas_threads() == [1] * len(before)
        with par.single_threaded_blas(False):
            assert _blas_threads() == [2] * len(before)
        assert _blas_threads() == [2] * len(before)
    assert _blas_threads() == before


def test_the_first_task_runs_here_and_the_others_on_the_pools_named_threads() -> None:
    where: dict[int, str] = {}

    def task(k: int) -> None:
        where[k] = threading.current_thread().name

    par.parallel([lambda k=k: task(k) for k in range(3)])
    assert where[0] == threading.current_thread().name
    assert all(where[k].startswith("verifier-band") for k in (1, 2))


def test_the_pool_grows_to_run_every_task_at_once_and_is_reused_when_large_enough() -> None:
    """Tasks that wait for each other finish only if they all run at the same time."""
    for count in (2, 3, 4, 5, 3):
        barrier = threading.Barrier(count, timeout=10)
        par.parallel([barrier.wait] * count)
        assert par._POOL is not None and count - 1 <= par._POOL_SIZE
    pool = par._POOL
    for count in (5, 3):  # as many tasks as the pool was grown for, then fewer: the same pool
        barrier = threading.Barrier(count, timeout=10)
        par.parallel([barrier.wait] * count)
        assert par._POOL is pool


def test_a_forked_child_starts_without_its_parents_pool() -> None:
    par.parallel([lambda: None] * 2)
    pool = par._POOL
    par._forget_pool()
    assert par._POOL is None and par._POOL_SIZE == 0 and not par._POOL_LOCK.locked()
    assert pool is not None
    pool.shutdown()  # in a real child its threads do not exist; here they would idle until exit


def test_a_failing_task_is_raised_to_the_caller() -> None:
    def fail() -> None:
        raise ValueError("band 2 failed")

    with pytest.raises(ValueError, match="band 2 failed"):
        par.parallel([lambda: None, fail])


def test_tasks_on_the_pool_keep_the_callers_numpy_error_settings() -> None:
    """np.errstate lives in the caller's context; a band run on another thread must see it too."""
    seen: list[str] = []
    with np.errstate(over="raise"):
        par.parallel([lambda: seen.append(np.geterr()["over"])] * 3)
    assert seen == ["raise"] * 3
