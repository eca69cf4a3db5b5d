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
from collections.abc import Callable
from functools import lru_cache
from itertools import product
from typing import Any

import numpy as np
import sympy as sp

from .. import _validate as check
from ..errors import VerifierError, VerifierTypeError
from ..memory import ensure_fits
from ..spec import Conv2d

__all__ = ["SymbolArray", "bias_vector", "input_tensor", "symbol_grid", "weight_tensor"]

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


class PlainSymbols(tuple):  # type: ignore[type-arg]
    """A tuple of distinct plain symbols (commutative, no other assumptions), as :func:`_flat` makes them.

    The type tells the derivation that no entry needs checking.
    """

    __slots__ = ()


#: Bytes one symbol takes once made and cached (the Symbol and its name, its places in the flat tuple, the
#: NumPy grid and the SymPy array): about 200 measured with tracemalloc, rounded up.
SYMBOL_BYTES = 256


@lru_cache(maxsize=32)
def _flat(name: str, shape: tuple[int, ...]) -> PlainSymbols:
    """The symbols ``name_{i,j,...}`` for every index of ``shape``, in row-major (C) order.

    A tensor too large for the memory available is refused with the estimate before any symbol is made.
    """
    count = math.prod(shape)
    ensure_fits(
        count * SYMBOL_BYTES,
        f"a tensor of {count:,} symbols {name}_{{...}} with shape {shape}",
        advice="use fewer channels or a smaller input",
    )
    make = _new_symbol
    digits = [[str(i) for i in range(n)] for n in shape]  # each index formatted once, not once per symbol
    return PlainSymbols(make(f"{name}_{{{','.join(idx)}}}") for idx in product(*digits))


def _xnew_symbol(name: str) -> sp.Symbol:
    """``Symbol(name)`` without SymPy's argument cache: equal (``==``, hash) to it, and faster by the thousand."""
    return sp.Symbol.__xnew__(sp.Symbol, name)


_SLOTS = ("name", "_assumptions", "_assumptions_orig", "_assumptions0", "_args", "_mhash")


def _shared_assumption_symbol() -> Callable[[str], sp.Symbol] | None:
    """A maker of plain symbols that shares one assumptions record, as SymPy's own constructor does.

    SymPy caches the canonical assumptions of ``Symbol(name)`` and gives every plain symbol the same
    records; this sets them directly, skipping the per-symbol lookup (about 2.5x faster). It is used only
    if a probe symbol made this way has exactly the state SymPy's constructor gives (otherwise None).
    """
    try:
        records, original, canonical = sp.Symbol._canonical_assumptions()
        sorted_canonical = tuple(sorted(canonical.items()))
        new = sp.Expr.__new__
        symbol = sp.Symbol

        def make(name: str) -> sp.Symbol:
            obj = new(symbol)
            obj.name = name
            obj._assumptions = records
            obj._assumptions_orig = original
            obj._assumptions0 = sorted_canonical
            return obj

        probe, reference = make("w_{0,0}"), _xnew_symbol("w_{0,0}")
        same = all(getattr(probe, slot) == getattr(reference, slot) for slot in _SLOTS)
        if same and probe == reference and hash(probe) == hash(reference):
            return make
    except Exception:  # a SymPy whose internals differ: keep its public constructor
        return None
    return None


_new_symbol: Callable[[str], sp.Symbol] = _shared_assumption_symbol() or _xnew_symbol


@lru_cache(maxsize=32)
def _grid(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The same symbols as a read-only NumPy object array: fast to index, for internal use."""
    grid = np.empty(len(_flat(name, shape)), dtype=object)
    grid[:] = _flat(name, shape)
    grid = grid.reshape(shape)
    grid.flags.writeable = False
    return grid


_SHORT = 64  # arrays with more entries than this are abbreviated in their repr


class SymbolArray(sp.ImmutableDenseNDimArray):  # type: ignore[misc]
    """A SymPy ``ImmutableDenseNDimArray`` whose integer indexing and ``tolist`` are fast at full width.

    SymPy's generic indexing parses every index symbolically, which is slow for tens of thousands of
    entries; integer tuples here go straight to the flat list. Everything else is SymPy's.
    """

    @classmethod
    def _of_symbols(cls, flat: tuple[sp.Symbol, ...], shape: tuple[int, ...]) -> SymbolArray:
        """The array SymPy's constructor builds from ``flat`` and ``shape``, without its per-entry work.

        SymPy flattens and sympifies every entry, which takes longer than creating the symbols; these
        entries are symbols already, in row-major order, so they are stored as they are.
        """
        dims = sp.Tuple(*(sp.Integer(n) for n in shape))
        entries = sp.Tuple(*flat, sympify=False)
        self = sp.Basic.__new__(cls, entries, dims)
        self._shape = dims
        self._array = list(flat)
        self._rank = len(shape)
        self._loop_size = math.prod(shape)
        return self  # type: ignore[no-any-return]

    def __getitem__(self, index: Any) -> Any:
        if type(index) is tuple and len(index) == self.rank():
            flat = 0
            for i, n in zip(index, self.shape, strict=True):
                if type(i) is not int or not 0 <= i < n:
                    return super().__getitem__(index)
                flat = flat * n + i
            return self._array[flat]
        return super().__getitem__(index)

    def __repr__(self) -> str:
        """SymPy's nested form when short; for a full-width tensor, its shape and first and last entries.

        >>> symbol_grid("w", (64, 256, 1, 1))
        SymbolArray(shape=(64, 256, 1, 1), 16384 entries: w_{0,0,0,0}, w_{0,1,0,0}, w_{0,2,0,0}, ..., w_{63,255,0,0})
        """
        entries = self._array
        if len(entries) <= _SHORT:
            return str(super().__repr__())
        head = ", ".join(str(e) for e in entries[:3])
        return f"SymbolArray(shape={self.shape}, {len(entries)} entries: {head}, ..., {entries[-1]})"

    def tolist(self) -> list[Any]:
        """Nested lists, as SymPy's ``tolist``."""
        items: list[Any] = list(self._array)
        for n in reversed(self.shape[1:]):
            items = [items[k : k + n] for k in range(0, len(items), n)]
        return items


@lru_cache(maxsize=32)
def _array(name: str, shape: tuple[int, ...]) -> SymbolArray:
    return SymbolArray._of_symbols(_flat(name, shape), shape)


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
    _check_conv(conv)
    return _array(_check_name(name), conv.weight_shape)


def bias_vector(conv: Conv2d, name: str = "b") -> SymbolArray | None:
    """The conv's biases ``b_{o}``, shape (C_out,), or None when the conv has ``bias=False``.

    >>> bias_vector(Conv2d(3, 2, 1))
    [b_{0}, b_{1}]
    >>> bias_vector(Conv2d(3, 2, 1, bias=False)) is None
    True
    """
    _check_conv(conv)
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


def _check_conv(conv: object) -> Conv2d:
    if not isinstance(conv, Conv2d):
        raise VerifierTypeError(f"conv must be a verifier.Conv2d, got {conv!r} ({type(conv).__name__})")
    return conv
