"""Small array helpers shared by the engine's and the derivation's tests."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from verifier import VerifierError


def ints(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Small random integers, so exact sums stay readable and far from overflow."""
    return rng.integers(-4, 5, shape)


def as_object(a: np.ndarray) -> np.ndarray:
    """The same values as an object array of Python ints: the exact path's input."""
    out = np.empty(a.shape, object)
    out.ravel()[:] = [int(v) for v in a.ravel()]
    return out


def peak_bytes_of_refusal(call: Callable[[], Any]) -> int:
    """The most memory ``call`` allocated before its memory refusal (it must raise one)."""
    tracemalloc.start()
    try:
        with pytest.raises(VerifierError, match="needs about"):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def pretend_available(monkeypatch: pytest.MonkeyPatch, mib: int) -> None:
    """Make the memory checks see ``mib`` MiB available, so an estimate's boundary can be tested at any size."""
    import verifier.memory as memory

    monkeypatch.setattr(memory, "available_bytes", lambda: mib * 2**20)
