"""Tensors of SymPy symbols with readable names: weights ``w_{o,i,u,v}``, biases ``b_{o}``, inputs ``x_{i,h,w}``.

Symbols are created once per (name, shape) and cached, so deriving thousands of output maps reuses them.

>>> from verifier.spec import Conv2d
>>> w = weight_tensor(Conv2d(256, 64, 1, bias=False))
>>> w.shape
(64, 256, 1, 1)
>>> w[0, 3, 0, 0]
w_{0,3,0,0}
>>> input_tensor(2, 1, 2)
[[[x_{0,0,0}, x_{0,0,1}]], [[x_{1,0,0}, x_{1,0,1}]]]
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from itertools import product

import numpy as np

from .. import _validate as check
from ..errors import VerifierError, VerifierTypeError
from ..memory import ensure_fits
from ..spec import Conv2d
from ._sympy_fast import SymbolArray, new_symbol, symbol_array

__all__ = ["SymbolArray", "bias_vector", "input_tensor", "symbol_grid", "weight_tensor"]


def symbol_grid(name: str, shape: tuple[int, ...]) -> SymbolArray:
    """An array of distinct symbols ``name_{i,j,...}``, one per index of ``shape``.

    >>> symbol_grid("g", (2,))
    [g_{0}, g_{1}]
    """
    _check_name(name)
    dims = check.shape("shape", shape, tuple(range(1, 7)))
    return _array(name, dims)


def weight_tensor(conv: Conv2d, name: str = "w") -> SymbolArray:
    """The conv's weights as symbols ``w_{o,i,u,v}`` in PyTorch's OIHW shape (C_out, C_in/groups, k_h, k_w).

    ``i`` counts the input maps of the filter's own group (0 .. C_in/groups - 1), as in PyTorch's weight.

    >>> weight_tensor(Conv2d(4, 2, 1, groups=2, bias=False))
    [[[[w_{0,0,0,0}]], [[w_{0,1,0,0}]]], [[[w_{1,0,0,0}]], [[w_{1,1,0,0}]]]]

    Args:
        conv: the layer.
        name: the letter of the symbols.
    """
    check_conv(conv)
    return _array(_check_name(name), conv.weight_shape)


def bias_vector(conv: Conv2d, name: str = "b") -> SymbolArray | None:
    """The conv's biases ``b_{o}``, shape (C_out,), or None when the conv has ``bias=False``.

    >>> bias_vector(Conv2d(3, 2, 1))
    [b_{0}, b_{1}]
    >>> bias_vector(Conv2d(3, 2, 1, bias=False)) is None
    True
    """
    check_conv(conv)
    _check_name(name)
    return _array(name, (conv.out_channels,)) if conv.bias else None


def input_tensor(channels: int, height: int, width: int, name: str = "x") -> SymbolArray:
    """An input of ``channels`` maps of ``height`` x ``width`` symbols ``x_{i,h,w}`` (CHW, one sample).

    >>> input_tensor(1, 2, 2)
    [[[x_{0,0,0}, x_{0,0,1}], [x_{0,1,0}, x_{0,1,1}]]]
    """
    dims = (
        check.int_at_least("channels", channels, 1),
        check.int_at_least("height", height, 1),
        check.int_at_least("width", width, 1),
    )
    return _array(_check_name(name), dims)


# -- the symbols behind them -----------------------------------------------------------------------
class PlainSymbols(tuple):  # type: ignore[type-arg]
    """A tuple of distinct plain symbols (commutative, no other assumptions), as :func:`flat_symbols` makes them.

    The type tells the derivation that no entry needs checking.
    """

    __slots__ = ()


#: Bytes one symbol takes once made and cached (the Symbol and its name, its places in the flat tuple, the
#: NumPy grid and the SymPy array): about 200 measured with tracemalloc, rounded up.
SYMBOL_BYTES = 256


@lru_cache(maxsize=32)
def flat_symbols(name: str, shape: tuple[int, ...]) -> PlainSymbols:
    """The symbols ``name_{i,j,...}`` for every index of ``shape``, in row-major (C) order.

    A tensor too large for the memory available is refused with the estimate before any symbol is made.
    """
    count = math.prod(shape)
    ensure_fits(
        count * SYMBOL_BYTES,
        f"a tensor of {count:,} symbols {name}_{{...}} with shape {shape}",
        advice="use fewer channels or a smaller input",
    )
    make = new_symbol
    digits = [[str(i) for i in range(n)] for n in shape]  # each index formatted once, not once per symbol
    return PlainSymbols(make(f"{name}_{{{','.join(idx)}}}") for idx in product(*digits))


@lru_cache(maxsize=32)
def symbol_ndarray(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The same symbols as a read-only NumPy object array: fast to index, for the engine and the theorems."""
    grid = np.empty(len(flat_symbols(name, shape)), dtype=object)
    grid[:] = flat_symbols(name, shape)
    grid = grid.reshape(shape)
    grid.flags.writeable = False
    return grid


@lru_cache(maxsize=32)
def _array(name: str, shape: tuple[int, ...]) -> SymbolArray:
    return symbol_array(flat_symbols(name, shape), shape)


def check_conv(conv: object) -> Conv2d:
    """``conv`` itself when it is a :class:`~verifier.spec.Conv2d`; a type error naming it otherwise."""
    if not isinstance(conv, Conv2d):
        raise VerifierTypeError(f"conv must be a verifier.Conv2d, got {conv!r} ({type(conv).__name__})")
    return conv


_NAME = re.compile(r"\\[A-Za-z]+|[A-Za-z][A-Za-z0-9]*")  # matched whole (fullmatch): no trailing newline


def _check_name(name: object, parameter: str = "name") -> str:
    if not isinstance(name, str):
        raise VerifierTypeError(f"{parameter} must be a str, got {name!r} ({type(name).__name__})")
    if not _NAME.fullmatch(name):
        raise VerifierError(
            f"{parameter} must be a letter followed by letters or digits, or a LaTeX command like '\\gamma', "
            f"got {name!r}"
        )
    return name
