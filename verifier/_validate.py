"""Validation at the boundary: small checks whose messages quote the bad value."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .errors import VerifierError, VerifierTypeError

Pair = tuple[int, int]

#: Sizes, counts and indices stay below 2**63, as PyTorch's (int64) do: every count made from them is an
#: exact Python int, and still converts to a float where a report divides it (a product of a few of them
#: stays far below 2**1024).
LIMIT = 2**63


def _below_limit(name: str, value: int, what: str) -> int:
    if value >= LIMIT:
        raise VerifierError(f"{name} must be {what} below 2**63 (PyTorch's int64 sizes), got {value!r}")
    return value


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
    return _below_limit(name, int(value), what)


def pair_at_least(name: str, value: Any, minimum: int) -> Pair:
    """Return an int or a pair of ints as a pair, each ``>= minimum``, else raise naming ``name``."""
    what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    expected = f"{what} or a pair of them"
    if _is_int(value):
        if value < minimum:
            raise VerifierError(f"{name} must be {expected}, got {value!r}")
        return _below_limit(name, int(value), expected), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        if min(value) < minimum:
            raise VerifierError(f"{name} must be {expected}, got {tuple(value)!r}")
        _below_limit(name, max(int(v) for v in value), expected)
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


def finite_real(name: str, value: Any, minimum: float, *, strict: bool = False) -> Any:
    """Return ``value`` if it is a finite real number (Python's or NumPy's, never a bool) ``>=`` (or, with
    ``strict``, ``>``) ``minimum``, else raise naming ``name``. Exact numbers (``Fraction``) stay exact."""
    relation = ">" if strict else ">="
    what = "a positive finite number" if strict and minimum == 0 else f"a finite number {relation} {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise VerifierTypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__})")
    if not isinstance(value, numbers.Rational) and not math.isfinite(float(value)):  # ints and Fractions are finite
        raise VerifierError(f"{name} must be {what}, got {value!r}")
    if value < minimum or (strict and value == minimum):
        raise VerifierError(f"{name} must be {what}, got {value!r}")
    return value


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of the strings ``allowed`` (a NumPy dtype or scalar type is taken by its
    name, so ``np.float32`` means ``"float32"``), else raise naming ``name``."""
    listed = ", ".join(allowed)
    text = value
    if not isinstance(value, str):
        import numpy as np  # only for dtypes given as NumPy objects

        if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
            text = np.dtype(value).name
        else:
            raise VerifierTypeError(f"{name} must be one of {listed}, got {value!r} ({type(value).__name__})")
    if text not in allowed:
        raise VerifierError(f"{name} must be one of {listed}, got {value!r}")
    return str(text)


def flag(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False (not 1, not None), else raise naming ``name``."""
    if not isinstance(value, bool):
        raise VerifierTypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return value


def conv_padding(value: Any, stride: Pair) -> Pair | str:
    """A conv's ``padding``: a non-negative int or pair (as a pair), ``"valid"``, or ``"same"`` at stride 1."""
    if not isinstance(value, str):
        return pair_at_least("padding", value, 0)
    if value not in ("valid", "same"):
        raise VerifierError(f"padding must be a non-negative int, a pair of them, 'valid' or 'same', got {value!r}")
    if value == "same" and stride != (1, 1):
        raise VerifierError(f"padding='same' needs stride=1, got stride={stride}")
    return value


def groups_divide(groups: Any, **channels: int) -> int:
    """``groups`` as a positive int dividing every channel count given (named in the message)."""
    g = int_at_least("groups", groups, 1)
    for name, count in channels.items():
        if count % g:
            raise VerifierError(f"groups must divide {name}: {name}={count} is not divisible by groups={g}")
    return g


def padding_mode(value: Any) -> str:
    """``"zeros"``, the only padding the engines implement, else raise naming the others torch has."""
    if not isinstance(value, str) or value != "zeros":
        raise VerifierError(
            f"padding_mode must be 'zeros' (the only padding the engines implement; torch also has 'reflect', "
            f"'replicate' and 'circular'), got {value!r}"
        )
    return value


def projection(value: Any, stride: int, in_channels: int, out_channels: int) -> bool | None:
    """A block's ``projection``: None, True, or False only where the shortcut can be the identity."""
    if value is not None and not isinstance(value, bool):
        raise VerifierTypeError(f"projection must be True, False or None, got {value!r}")
    if value is False and (stride != 1 or in_channels != out_channels):
        raise VerifierError(
            f"projection=False needs stride=1 and in_channels == out_channels ({out_channels}), "
            f"got stride={stride}, in_channels={in_channels}"
        )
    return value


def activation(input_shape: Any, channels: int, who: str) -> tuple[int, int, int, int, bool]:
    """Split an (N, C, H, W) or (C, H, W) shape, checking C; the flag says whether N was given."""
    shp = shape("input_shape", input_shape, (3, 4))
    batched = len(shp) == 4
    n, c, h, w = shp if batched else (1, *shp)
    if c != channels:
        raise VerifierError(f"input has {c} channels but {who} expects {channels} (input_shape={shp})")
    return n, c, h, w, batched


def pack(n: int, c: int, h: int, w: int, batched: bool) -> tuple[int, ...]:
    """The inverse of :func:`activation`: (N, C, H, W) when the input had a batch, else (C, H, W)."""
    return (n, c, h, w) if batched else (c, h, w)
