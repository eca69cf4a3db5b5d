"""Validation at the boundary: small checks whose messages quote the bad value."""

from __future__ import annotations

import numbers
from typing import Any

from .errors import VerifierError, VerifierTypeError

Pair = tuple[int, int]


def _is_int(value: Any) -> bool:
    # bool is an int subclass, but True as a kernel size is a bug, never a size.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_at_least(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``, else raise naming ``name``."""
    what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    if not _is_int(value):
        raise VerifierTypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise VerifierError(f"{name} must be {what}, got {value!r}")
    return int(value)


def pair_at_least(name: str, value: Any, minimum: int) -> Pair:
    """Return an int or a pair of ints as a pair, each ``>= minimum``, else raise naming ``name``."""
    what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    expected = f"{what} or a pair of them"
    if _is_int(value):
        if value < minimum:
            raise VerifierError(f"{name} must be {expected}, got {value!r}")
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        if min(value) < minimum:
            raise VerifierError(f"{name} must be {expected}, got {tuple(value)!r}")
        return int(value[0]), int(value[1])
    raise VerifierTypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")


def shape(name: str, value: Any, ranks: tuple[int, ...]) -> tuple[int, ...]:
    """Return ``value`` as a tuple of positive ints whose length is one of ``ranks``."""
    allowed = " or ".join(str(r) for r in ranks)
    if not isinstance(value, (tuple, list)) or len(value) not in ranks:
        raise VerifierError(f"{name} must be a tuple of {allowed} positive ints, got {value!r}")
    for i, v in enumerate(value):
        int_at_least(f"{name}[{i}]", v, 1)
    return tuple(int(v) for v in value)
