"""Derive output maps of any :class:`~verifier.spec.Conv2d` as SymPy expressions, term by term.

Output map ``o`` at output position (r, c) is ``b_o`` plus one product ``w_{o,i,u,v} x_{i,h,w}`` for every
input map ``i`` of the filter's group and every kernel tap (u, v) whose input row ``h = r*s_h - top + u*d_h``
and column ``w = c*s_w - left + v*d_w`` land inside the image; taps on padded zeros are left out.

Sums are assembled directly in SymPy's canonical form when every factor is a plain symbol (the default),
which skips SymPy's general simplification and keeps full-width derivations fast; the result equals (``==``)
the expression SymPy builds term by term.

>>> from verifier.spec import Conv2d
>>> output_map(Conv2d(3, 2, 1), 1, (0, 0), (1, 1))
b_{1} + w_{1,0,0,0}*x_{0,0,0} + w_{1,1,0,0}*x_{1,0,0} + w_{1,2,0,0}*x_{2,0,0}
>>> output_map(Conv2d(1, 1, 3, padding=1, bias=False), 0, (0, 0), (3, 3))   # corner: 4 of 9 taps
w_{0,0,1,1}*x_{0,0,0} + w_{0,0,1,2}*x_{0,0,1} + w_{0,0,2,1}*x_{0,1,0} + w_{0,0,2,2}*x_{0,1,1}
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import _validate as check
from ..errors import VerifierError, VerifierTypeError
from ..memory import ensure_fits
from ..spec import Conv2d
from ._sympy_fast import canonical_sum, new_symbol
from .tensors import SYMBOL_BYTES, PlainSymbols, check_conv, flat_symbols

__all__ = ["Tap", "output_map", "output_maps", "output_tensor", "taps"]

Pair = tuple[int, int]
#: Bytes one :class:`Tap` takes in a list (the frozen dataclass and its seven small ints), rounded up.
TAP_BYTES = 256


@dataclass(frozen=True)
class Tap:
    """One product of an output map: weight index (o, i, u, v) times input index (channel, h, w)."""

    o: int
    i: int
    u: int
    v: int
    channel: int
    h: int
    w: int


def taps(conv: Conv2d, o: int, position: Sequence[int], input_size: Sequence[int]) -> list[Tap]:
    """The products that make up output map ``o`` at ``position``: exactly the taps that land inside the input.

    >>> [(t.i, t.u, t.v, t.h, t.w) for t in taps(Conv2d(1, 1, 3, padding=1), 0, (0, 0), (2, 2))]
    [(0, 1, 1, 0, 0), (0, 1, 2, 0, 1), (0, 2, 1, 1, 0), (0, 2, 2, 1, 1)]
    """
    check_conv(conv)
    o = check_map(conv, o)
    pos, size, _ = check_geometry(conv, position, input_size)
    count = _tap_count(conv, pos, size)
    ensure_fits(count * TAP_BYTES, f"listing the {count:,} taps of output map {o} of {conv!r}")
    rows, cols = _tap_lists(conv, pos, size)
    first = (o // conv.out_per_group) * conv.in_per_group
    return [Tap(o, i, u, v, first + i, h, w) for i in range(conv.in_per_group) for u, h in rows for v, w in cols]


def output_map(
    conv: Conv2d,
    o: int,
    position: Sequence[int],
    input_size: Sequence[int],
    *,
    weight: Any = None,
    bias: Any = None,
    input: Any = None,
) -> sp.Expr:
    """Output map ``o`` of ``conv`` at ``position`` (row, col) for an input of ``input_size`` (H, W).

    The sum runs over exactly the (input map, tap) pairs whose input lies inside the image.

    >>> output_map(Conv2d(4, 2, 1, groups=2, bias=False), 1, (0, 0), (1, 1))   # group 1 reads maps 2, 3
    w_{1,0,0,0}*x_{2,0,0} + w_{1,1,0,0}*x_{3,0,0}
    >>> output_map(Conv2d(2, 1, 1), 0, (0, 0), (1, 1), weight=[[[[2]], [[3]]]], bias=[1], input=[[[5]], [[7]]])
    32

    Args:
        conv: the layer.
        o: the output map, 0 .. C_out - 1.
        position: the output position (row, col).
        input_size: the input's (H, W).
        weight: values for the weights, shape (C_out, C_in/groups, k_h, k_w); symbols ``w`` by default.
        bias: values for the biases, shape (C_out,); symbols ``b`` by default when the conv has a bias.
        input: values for the input, shape (C_in, H, W); symbols ``x`` by default. (``weight`` and ``input``
            are ``conv2d``'s names.)
    """
    check_conv(conv)
    o = check_map(conv, o)
    pos, size, _ = check_geometry(conv, position, input_size)
    if weight is None and bias is None and input is None:
        return _symbolic_map(conv, o, pos, size)
    _ensure_derivation_fits(conv, size, 1)
    return Operands(conv, size, weight, bias, input).build(o, pos)


def output_maps(
    conv: Conv2d,
    position: Sequence[int],
    input_size: Sequence[int],
    *,
    weight: Any = None,
    bias: Any = None,
    input: Any = None,
) -> tuple[sp.Expr, ...]:
    """All C_out output maps at one position (operands converted once).

    >>> output_maps(Conv2d(2, 2, 1, bias=False), (0, 0), (1, 1))
    (w_{0,0,0,0}*x_{0,0,0} + w_{0,1,0,0}*x_{1,0,0}, w_{1,0,0,0}*x_{0,0,0} + w_{1,1,0,0}*x_{1,0,0})
    """
    check_conv(conv)
    pos, size, _ = check_geometry(conv, position, input_size)
    _ensure_derivation_fits(conv, size, conv.out_channels)
    ops = Operands(conv, size, weight, bias, input)
    return tuple(ops.build(o, pos) for o in range(conv.out_channels))


def output_tensor(
    conv: Conv2d,
    input_size: Sequence[int],
    *,
    weight: Any = None,
    bias: Any = None,
    input: Any = None,
) -> sp.ImmutableDenseNDimArray:
    """Every output map at every position, shape (C_out, H_out, W_out); for small sizes.

    >>> output_tensor(Conv2d(1, 1, 1, bias=False), (1, 2))
    [[[w_{0,0,0,0}*x_{0,0,0}, w_{0,0,0,0}*x_{0,0,1}]]]
    """
    check_conv(conv)
    _, size, (ho, wo) = check_geometry(conv, (0, 0), input_size)
    _ensure_derivation_fits(conv, size, conv.out_channels * ho * wo)
    ops = Operands(conv, size, weight, bias, input)
    flat = [ops.build(o, (r, c)) for o in range(conv.out_channels) for r in range(ho) for c in range(wo)]
    return sp.ImmutableDenseNDimArray(flat, (conv.out_channels, ho, wo))


# -- how the sums are found and built -------------------------------------------------------------
def axis_taps(out: int, size: int, lo: int, k: int, s: int, d: int) -> list[tuple[int, int]]:
    """(kernel tap, input index) pairs of one axis whose input index lies inside 0 .. size-1."""
    start = out * s - lo
    first, last = _inside(start, size, k, d)
    return [(t, start + t * d) for t in range(first, last + 1)]


def _inside(start: int, size: int, k: int, d: int) -> tuple[int, int]:
    """The first and last taps t in 0 .. k-1 with ``0 <= start + t*d < size`` (last < first when none).

    Computed, not searched, so that a huge kernel costs nothing before the memory estimate.

    >>> _inside(-1, 3, 3, 1), _inside(5, 3, 3, 1)      # a padded corner; a window wholly outside
    ((1, 2), (0, -3))
    """
    first = max(0, -(start // d))  # smallest t with start + t*d >= 0
    last = min(k - 1, (size - 1 - start) // d)  # largest t with start + t*d <= size - 1
    return first, last


def _tap_count(conv: Conv2d, pos: Pair, size: Pair) -> int:
    """How many products output map ``o`` has at ``pos``: the taps inside the image times C_in / groups."""
    count = conv.in_per_group
    for axis in range(2):
        (lo, _), k = conv.padding_amounts[axis], conv.kernel_pair[axis]
        s, d = conv.stride_pair[axis], conv.dilation_pair[axis]
        first, last = _inside(pos[axis] * s - lo, size[axis], k, d)
        count *= max(0, last - first + 1)
    return count


def check_geometry(conv: Conv2d, position: Any, input_size: Any) -> tuple[Pair, Pair, Pair]:
    """Validate (row, col) and (H, W); return them and the output size."""
    h, w = check.pair_at_least("input_size", input_size, 1)
    ho, wo = conv.output_size(h, w)
    if not (isinstance(position, (tuple, list)) and len(position) == 2):
        raise VerifierError(f"position must be a pair (row, col), got {position!r}")
    r = check.int_at_least("position[0]", position[0], 0)
    c = check.int_at_least("position[1]", position[1], 0)
    if r >= ho or c >= wo:
        raise VerifierError(
            f"position {(r, c)} is outside the {ho}x{wo} output of {conv!r} on a {h}x{w} input "
            f"(rows 0..{ho - 1}, cols 0..{wo - 1})"
        )
    return (r, c), (h, w), (ho, wo)


def check_map(conv: Conv2d, o: Any) -> int:
    index = check.int_at_least("o", o, 0)
    if index >= conv.out_channels:
        raise VerifierError(f"o must be an output map index 0..{conv.out_channels - 1} of {conv!r}, got {index}")
    return index


def _tap_lists(conv: Conv2d, pos: Pair, size: Pair) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    (top, _), (left, _) = conv.padding_amounts
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_pair, conv.stride_pair, conv.dilation_pair
    return axis_taps(pos[0], size[0], top, kh, sh, dh), axis_taps(pos[1], size[1], left, kw, sw, dw)


# -- user-supplied tensors -------------------------------------------------------------------------
_EXACT_NUMBER = (int, np.integer, Fraction, sp.Rational)


def _exact(value: Any, parameter: str) -> sp.Basic:
    if isinstance(value, sp.Basic):
        if value.has(sp.nan, sp.oo, -sp.oo, sp.zoo):
            raise VerifierError(f"{parameter} entries must be finite, got {value!r}")
        return value
    if isinstance(value, (bool, np.bool_, str)):
        raise VerifierTypeError(f"{parameter} entries must be numbers or SymPy expressions, got {value!r}")
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, numbers.Real):
        if not np.isfinite(float(value)):
            raise VerifierError(f"{parameter} entries must be finite, got {value!r}")
        return sp.Float(float(value))
    raise VerifierTypeError(
        f"{parameter} entries must be int, Fraction or SymPy numbers/expressions, got {value!r} "
        f"({type(value).__name__})"
    )


def _entries(value: Any, shape: tuple[int, ...], parameter: str) -> list[Any]:
    """Check a nested list / SymPy array / NumPy array against ``shape``; return its entries flat, unconverted."""
    if isinstance(value, sp.NDimArray):
        value = value.tolist()
    try:
        arr = np.asarray(value, dtype=object)
    except (ValueError, TypeError):
        arr = None
    if arr is None or arr.shape != shape:
        got = "a ragged nested list" if arr is None else f"shape {arr.shape}"
        raise VerifierError(f"{parameter} must have shape {shape}, got {got}")
    items: list[Any] = arr.ravel().tolist()
    for kind in set(map(type, items)):  # one check per type of entry, not per entry
        if issubclass(kind, (bool, np.bool_, str)) or not issubclass(kind, (numbers.Number, sp.Basic)):
            item = next(item for item in items if type(item) is kind)
            raise VerifierTypeError(
                f"{parameter} entries must be int, Fraction or SymPy numbers/expressions, got {item!r} "
                f"({type(item).__name__})"
            )
    return items


def _py_numbers(entries: Sequence[Any]) -> list[tuple[int, int]]:
    """Exact numbers as (numerator, denominator) pairs; Python ints and Fractions read directly."""
    kinds = set(map(type, entries))
    if kinds <= {int}:
        return [(e, 1) for e in entries]
    if kinds <= {int, Fraction}:
        return [(e, 1) if type(e) is int else (e.numerator, e.denominator) for e in entries]
    return [_py_number(e) for e in entries]


def _py_number(value: Any) -> tuple[int, int]:
    """An exact number as (numerator, denominator) Python ints."""
    if type(value) is int:
        return value, 1
    if isinstance(value, sp.Rational):
        return int(value.p), int(value.q)
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    return int(value), 1


def _exact_sum(products: Any, start: tuple[int, int] | None) -> sp.Rational:
    """Sum of (n1/d1)*(n2/d2) over ``products``: integer sums per denominator, one division per denominator."""
    by_denominator: dict[int, int] = {}
    if start is not None:
        by_denominator[start[1]] = start[0]
    for (n1, d1), (n2, d2) in products:
        d = d1 * d2
        by_denominator[d] = by_denominator.get(d, 0) + n1 * n2
    common = math.lcm(*by_denominator)  # one division at the end (floats' denominators are powers of 2)
    total = Fraction(sum(n * (common // d) for d, n in by_denominator.items()), common)
    return sp.Rational(total.numerator, total.denominator)


def _plain_symbols(entries: Sequence[Any]) -> bool:
    """Whether every entry is a commutative ``Symbol`` (known without looking for the engine's own tensors)."""
    if type(entries) is PlainSymbols:
        return True
    return all(type(e) is sp.Symbol for e in entries) and all(e.is_commutative for e in entries)


def _integers_only(
    numbers: tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]] | None] | None,
) -> tuple[list[int], list[int], list[int] | None] | None:
    """The numerators of exact operands when every denominator is 1, else None."""
    if numbers is None:
        return None
    w, x, b = numbers
    if any(d != 1 for group in (w, x, b or ()) for _, d in group):
        return None
    return [n for n, _ in w], [n for n, _ in x], None if b is None else [n for n, _ in b]


class Operands:
    """Flat weights, biases and inputs for one conv and input size, converted once."""

    def __init__(self, conv: Conv2d, size: Pair, weight: Any, bias: Any, input: Any) -> None:
        self.conv = conv
        self.size = size
        if bias is not None and not conv.bias:
            raise VerifierError(f"bias was given but {conv!r} has bias=False")
        shape = (conv.in_channels, *size)
        raw_w = (
            flat_symbols("w", conv.weight_shape) if weight is None else _entries(weight, conv.weight_shape, "weight")
        )
        raw_x = flat_symbols("x", shape) if input is None else _entries(input, shape, "input")
        raw_b: Sequence[Any] | None = None
        if conv.bias:
            raw_b = (
                flat_symbols("b", (conv.out_channels,))
                if bias is None
                else _entries(bias, (conv.out_channels,), "bias")
            )
        every = [*raw_w, *raw_x, *(raw_b or ())]
        self.symbols_only = all(_plain_symbols(part) for part in (raw_w, raw_x, raw_b or ()))
        # Exact numbers (int, Fraction, Integer, Rational) are summed as Python ints/Fractions: same value, faster.
        Exact = list[tuple[int, int]]
        self.numbers: tuple[Exact, Exact, Exact | None] | None = None
        if not self.symbols_only and all(issubclass(kind, _EXACT_NUMBER) for kind in set(map(type, every))):
            self.numbers = (
                _py_numbers(raw_w),
                _py_numbers(raw_x),
                None if raw_b is None else _py_numbers(raw_b),
            )
        convert = self.symbols_only or self.numbers is not None
        self.w = tuple(raw_w) if convert else tuple(_exact(e, "weight") for e in raw_w)
        self.x = tuple(raw_x) if convert else tuple(_exact(e, "input") for e in raw_x)
        self.b = None if raw_b is None else (tuple(raw_b) if convert else tuple(_exact(e, "bias") for e in raw_b))
        self._plans: dict[Pair, list[tuple[int, int]]] = {}
        self.integers = _integers_only(self.numbers)

    def _plan(self, pos: Pair) -> list[tuple[int, int]]:
        """(weight offset in the filter, input offset in the group) of every tap inside the image."""
        if pos not in self._plans:
            conv = self.conv
            rows, cols = _tap_lists(conv, pos, self.size)
            kh, kw = conv.kernel_pair
            h_in, w_in = self.size
            self._plans[pos] = [
                ((i * kh + u) * kw + v, (i * h_in + h) * w_in + w)
                for i in range(conv.in_per_group)
                for u, h in rows
                for v, w in cols
            ]
        return self._plans[pos]

    def build(self, o: int, pos: Pair) -> sp.Expr:
        conv = self.conv
        plan = self._plan(pos)
        wbase = o * conv.taps_per_output
        xbase = (o // conv.out_per_group) * conv.in_per_group * self.size[0] * self.size[1]
        if self.integers is not None:  # whole numbers only: one Python int sum, no denominators to track
            wi, xi, bi = self.integers
            total = sum(wi[wbase + a] * xi[xbase + z] for a, z in plan)
            return sp.Integer(total if bi is None else bi[o] + total)
        if self.numbers is not None:
            wn, xn, bn = self.numbers
            return _exact_sum(((wn[wbase + a], xn[xbase + z]) for a, z in plan), None if bn is None else bn[o])
        w, x = self.w, self.x
        pairs = [(w[wbase + a], x[xbase + z]) for a, z in plan]
        bias = None if self.b is None else self.b[o]
        if self.symbols_only:
            fast = canonical_sum(pairs, bias)
            if fast is not None:
                return fast
        total = sp.Add(*[a * b for a, b in pairs])
        return total if bias is None else bias + total


#: Bytes one derived product takes (the product of two symbols and its place in the sum): about 140
#: measured with tracemalloc, rounded up.
PRODUCT_BYTES = 192


def _ensure_derivation_fits(conv: Conv2d, size: Pair, maps: int) -> None:
    """Refuse, with the estimate and before building anything, a derivation too large for the memory."""
    symbols = math.prod(conv.weight_shape) + conv.in_channels * size[0] * size[1] + conv.out_channels
    products = maps * conv.taps_per_output
    ensure_fits(
        symbols * SYMBOL_BYTES + products * PRODUCT_BYTES,
        f"deriving {maps:,} output map(s) of {conv!r} ({symbols:,} symbols, up to {products:,} products)",
        advice="derive fewer maps (output_map derives one) or use fewer channels or a smaller input",
    )


#: Layers with at most this many weight and input symbols derive single maps from their cached tensors.
_WHOLE_TENSORS_UP_TO = 1 << 18


def _symbolic_map(conv: Conv2d, o: int, pos: Pair, size: Pair) -> sp.Expr:
    """One map over symbols, making only the symbols it reads (not the layer's whole tensors).

    The symbols are the ones :func:`weight_tensor` and :func:`input_tensor` hold (equal names), so the
    result equals the map :func:`output_maps` derives.
    """
    count = _tap_count(conv, pos, size)
    ensure_fits(
        count * (PRODUCT_BYTES + 2 * SYMBOL_BYTES),
        f"deriving output map {o} of {conv!r} ({count:,} products)",
        advice="use fewer input channels or a smaller kernel",
    )
    rows, cols = _tap_lists(conv, pos, size)
    first = (o // conv.out_per_group) * conv.in_per_group
    if math.prod(conv.weight_shape) + conv.in_channels * size[0] * size[1] <= _WHOLE_TENSORS_UP_TO:
        return Operands(conv, size, None, None, None).build(o, pos)  # small: the cached tensors are cheaper
    make = new_symbol
    pairs = [
        (make(f"w_{{{o},{i},{u},{v}}}"), make(f"x_{{{first + i},{h},{w}}}"))
        for i in range(conv.in_per_group)
        for u, h in rows
        for v, w in cols
    ]
    bias = make(f"b_{{{o}}}") if conv.bias else None
    fast = canonical_sum(pairs, bias)
    if fast is not None:
        return fast
    total = sp.Add(*[a * b for a, b in pairs])  # distinct plain symbols always take the shortcut (tested without it)
    return total if bias is None else bias + total
