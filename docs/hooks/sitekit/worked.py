"""Small 1×1 convolutions in numbers: the engine computes them, the symbolic derivation checks them.

Everything the worked example and the interactive convolution show comes from :func:`example`: the output maps
are computed by :func:`verifier.numeric.conv2d` on int64 arrays, then every output value is compared, with zero
tolerance, against the symbolic derivation of the same layer (SymPy's sum over symbols, with the numbers put in
for the symbols). A disagreement raises, and the site's build fails.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from verifier import symbolic
from verifier.numeric import conv2d
from verifier.spec import Conv2d

MINUS = "\u2212"


class Disagreement(RuntimeError):
    """The engine and the derivation gave different numbers."""


@dataclass(frozen=True)
class Example:
    """A bias-free 1×1 conv ``conv`` with weights ``w`` (C_out × C_in) on maps ``x`` (C_in × H × W): ``y``."""

    conv: Conv2d
    x: np.ndarray
    w: np.ndarray
    y: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return int(self.x.shape[1]), int(self.x.shape[2])

    def terms(self, o: int, h: int, w: int) -> list[tuple[int, int, int]]:
        """(input map i, weight w_{o,i}, input x_i(h, w)) for each product of the derived sum, in its order."""
        taps = symbolic.taps(self.conv, o, (h, w), self.size)
        return [(t.channel, int(self.w[o, t.channel]), int(self.x[t.channel, t.h, t.w])) for t in taps]

    def arithmetic(self, o: int, h: int, w: int, times: str = " × ") -> str:
        """The sum at one output pixel written out, ``3 × 2 + 1 × (−1) + 0 × 4 = 5``: products from the
        derivation's terms, the result from the engine (they were checked equal when the example was made)."""
        parts = [f"{number(wt, paren=True)}{times}{number(xv, paren=True)}" for _, wt, xv in self.terms(o, h, w)]
        return " + ".join(parts) + f" = {number(int(self.y[o, h, w]))}"

    def products(self) -> np.ndarray:
        """The asker's picture: every weight times its whole input map, as separate maps, shape
        (C_out, C_in, H, W). Computed as a depthwise convolution with multiplier r = C_out (one group per input
        map, r one-weight filters in each), then reordered so that entry [o, i] is w_{o,i} · x_i."""
        c_out, c_in = self.w.shape
        r = c_out
        depthwise = np.ascontiguousarray(self.w.T).reshape(c_in * r, 1, 1, 1)  # map i*r + o has weight w[o, i]
        out = conv2d(self.x[None], depthwise, groups=c_in)[0]
        h, w = self.size
        return out.reshape(c_in, r, h, w).transpose(1, 0, 2, 3)


def number(value: int, paren: bool = False) -> str:
    """An integer with a true minus sign, in brackets when negative and ``paren`` is set."""
    text = f"{MINUS}{-value}" if value < 0 else str(value)
    return f"({text})" if paren and value < 0 else text


def _index(name: str) -> tuple[int, ...]:
    return tuple(int(k) for k in re.findall(r"-?\d+", name))


def _check_against_derivation(ex: Example) -> None:
    """Each output value of the engine equals the derived sum with the numbers put in for its symbols, and the
    derivation with numbers given directly; zero tolerance (integers)."""
    conv = ex.conv
    h_size, w_size = ex.size
    values: dict[Any, int] = {}
    for o in range(conv.out_channels):
        for i in range(conv.in_channels):
            values[f"w_{{{o},{i},0,0}}"] = int(ex.w[o, i])
    for i in range(conv.in_channels):
        for h in range(h_size):
            for w in range(w_size):
                values[f"x_{{{i},{h},{w}}}"] = int(ex.x[i, h, w])
    weights = ex.w[:, :, None, None].tolist()
    for o in range(conv.out_channels):
        for h in range(h_size):
            for w in range(w_size):
                expr = symbolic.output_map(conv, o, (h, w), ex.size)
                derived = expr.subs({s: values[s.name] for s in expr.free_symbols})
                direct = symbolic.output_map(conv, o, (h, w), ex.size, weight=weights, input=ex.x.tolist())
                engine = int(ex.y[o, h, w])
                if not (derived == direct == engine):
                    raise Disagreement(
                        f"output map {o} at ({h}, {w}) of {conv!r}: engine {engine}, derivation {derived}, "
                        f"derivation with numbers {direct}"
                    )
                if sum(wt * xv for _, wt, xv in ex.terms(o, h, w)) != engine:
                    raise Disagreement(f"the written-out sum at ({h}, {w}) of map {o} does not add up to {engine}")


def make(x: Any, w: Any) -> Example:
    """The example for input maps ``x`` (C_in × H × W) and weights ``w`` (C_out × C_in), checked."""
    x = np.asarray(x, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    conv = Conv2d(int(x.shape[0]), int(w.shape[0]), 1, bias=False)
    y = conv2d(x[None], w[:, :, None, None])[0]
    assert y.dtype == np.int64, y.dtype
    ex = Example(conv, x, w, y)
    _check_against_derivation(ex)
    products = ex.products()
    if not np.array_equal(products.sum(axis=1), y):
        raise Disagreement("the depthwise products do not add up to the output maps")
    return ex


@functools.cache
def three_to_two() -> Example:
    """The page's first example: 3 input maps of 2×2 pixels, 2 filters of 3 small integer weights."""
    x = [
        [[1, 2], [0, 3]],
        [[4, 1], [2, 0]],
        [[1, 0], [3, 2]],
    ]
    w = [
        [2, -1, 1],
        [1, 3, -2],
    ]
    return make(x, w)


_WEIGHTS = np.array([-2, -1, 1, 2, 3])  # small, nonzero: every product is visible


@functools.cache
def four_to_two() -> Example:
    """The interactive convolution's squeeze: 4 input maps of 3×3 pixels, 2 filters."""
    rng = np.random.default_rng(13)
    return make(rng.integers(0, 5, size=(4, 3, 3)), rng.choice(_WEIGHTS, size=(2, 4)))


@functools.cache
def two_to_four() -> Example:
    """The interactive convolution's expansion: 2 input maps of 3×3 pixels, 4 filters."""
    rng = np.random.default_rng(31)
    return make(rng.integers(0, 5, size=(2, 3, 3)), rng.choice(_WEIGHTS, size=(4, 2)))
