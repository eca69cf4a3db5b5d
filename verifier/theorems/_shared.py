"""What several theorems read: the thread's layers, their derived maps, and the definition's view of them.

Three paths meet here and are kept apart:

- **the definition** (:mod:`verifier.symbolic.definition`): which weight meets which input, read from the defining
  sum's index expressions, with symbols named from those indices alone;
- **the derivation engine** (:mod:`verifier.symbolic.derive`): the maps it derives, read term by term;
- **the spec** (:mod:`verifier.spec`): closed-form shapes and counts.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from .. import symbolic as sym
from ..report import fmt
from ..spec import Bottleneck, Conv2d
from ..symbolic import definition as D
from ..symbolic.tensors import symbol_ndarray
from ._core import Findings, Kind

# The thread's block and where its 1x1 maps are read: one pixel of a small image (other pixels must not appear).
BLOCK = Bottleneck()
SIZE = (2, 2)
PIXEL = (1, 0)
SEED = 2016  # the thread's year: every random matrix is drawn from this seed

Coefficients = tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]


def thread_convs() -> tuple[Conv2d, Conv2d]:
    """The bottleneck's 1x1 reduce (256->64) and expand (64->256) convs, as the spec builds them."""
    convs = dict(BLOCK.convs())
    return convs["conv1"], convs["conv3"]


def name(conv: Conv2d) -> str:
    """``'256->64'`` for the thread's 1x1 convs; the repr otherwise."""
    if conv.kernel_pair == (1, 1) and conv.groups == 1 and conv.stride_pair == (1, 1):
        return f"{conv.in_channels}->{conv.out_channels}"
    return repr(conv)


def where(conv: Conv2d) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where a layer's maps are read: (position, input size). A 1x1 conv at the thread's pixel; a larger kernel
    at (0, 0) of an input as large as its dilated kernel (every tap inside the image when unpadded)."""
    if conv.kernel_pair == (1, 1) and conv.stride_pair == (1, 1):
        return PIXEL, SIZE
    return (0, 0), conv.kernel_extent


def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def int_matrix(rows: int, cols: int, gen: np.random.Generator) -> np.ndarray:
    return gen.integers(-9, 10, size=(rows, cols), dtype=np.int64)


# -- the engine's maps -------------------------------------------------------------------------------------
@cache
def engine_maps(conv: Conv2d) -> tuple[sp.Expr, ...]:
    """Every map of ``conv`` derived by the engine at :func:`where`."""
    position, size = where(conv)
    return sym.output_maps(conv, position, size)


@cache
def _inputs(channels: int, size: tuple[int, int]) -> frozenset[sp.Symbol]:
    """Every input symbol of the image, by name (coefficients are read against all of them)."""
    return frozenset(
        _symbol(f"x_{{{i},{r},{c}}}") for i in range(channels) for r in range(size[0]) for c in range(size[1])
    )


def inputs(conv: Conv2d) -> frozenset[sp.Symbol]:
    """Every input symbol of the image ``conv`` is read on."""
    return _inputs(conv.in_channels, where(conv)[1])


@cache
def engine_coefficients(conv: Conv2d) -> tuple[Coefficients, ...]:
    """(constant, {input: coefficient}) of each engine map, read against every input symbol. Read-only."""
    every = _inputs(conv.in_channels, where(conv)[1])
    return tuple(sym.linear_coefficients(expr, every) for expr in engine_maps(conv))


def channel(x: sp.Symbol) -> int:
    """The input map of an input symbol ``x_{i,h,w}``: i."""
    return int(x.name[3:].split(",")[0])


# -- the definition's maps ---------------------------------------------------------------------------------
@cache
def _symbol(text: str) -> sp.Symbol:
    return sp.Symbol(text)


@cache
def definition_coefficients(conv: Conv2d) -> tuple[Coefficients, ...]:
    """(b_o or 0, {x_{i,h,w}: w_{o,j,u,v}}) of each map at :func:`where`, by the definition's index expressions.

    The symbols are looked up by those indices in grids named ``w_{o,j,u,v}`` and ``x_{i,h,w}`` whose shapes come
    from the layer's arguments (never from the spec's weight shape).
    """
    position, size = where(conv)
    at = D.sizes(conv, size)
    index, inside = D.table(conv, position, size)
    w_grid = symbol_ndarray("w", (at[D.C_out], at[D.C_in] // at[D.g], at[D.k_h], at[D.k_w]))
    x_grid = symbol_ndarray("x", (at[D.C_in], at[D.H], at[D.W]))
    out = []
    for o in range(conv.out_channels):
        rows = index[o][inside[o]]
        weights = w_grid[rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]].tolist()
        inputs = x_grid[rows[:, 4], rows[:, 5], rows[:, 6]].tolist()
        out.append((_symbol(f"b_{{{o}}}") if conv.bias else sp.Integer(0), dict(zip(inputs, weights, strict=True))))
    return tuple(out)


def engine_answers_to_definition(found: Findings, conv: Conv2d) -> bool:
    """A ``checked`` step: every map the engine derives for ``conv`` equals the definition's sum, term by term."""
    mine, theirs = engine_coefficients(conv), definition_coefficients(conv)
    products = sum(len(c) for _, c in theirs)
    bad = [o for o, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b]
    statement = f"the engine's maps of {conv!r} equal the definition's sum"
    if len(mine) != len(theirs):
        return found.equal("checked", statement, "maps", len(theirs), len(mine))
    if not bad:
        return found.step(
            "checked", statement, True, f"all {len(mine)} maps, {fmt(products)} products w_{{o,i,u,v}} x_i(p), agree"
        )
    o = bad[0]
    (b_eng, c_eng), (b_def, c_def) = mine[o], theirs[o]
    missing = sorted(set(c_def.items()) - set(c_eng.items()), key=str)[:2]
    extra = sorted(set(c_eng.items()) - set(c_def.items()), key=str)[:2]
    detail = (
        f"{len(bad)} of {len(mine)} maps differ; map {o}: expected {len(c_def)} products and constant {b_def}, "
        f"found {len(c_eng)} and {b_eng}; expected but missing {_pairs(missing)}, found but not expected "
        f"{_pairs(extra)}"
    )
    return found.step("checked", statement, False, detail)


def _pairs(items: list[tuple[sp.Expr, sp.Expr]]) -> str:
    return ", ".join(f"{w}*{x}" for x, w in items) or "none"


def weight_matrix(conv: Conv2d) -> np.ndarray:
    """W[o, i] = the weight linking input map i to output map o (0 off o's group), by the definition (1x1 only)."""
    at = D.sizes(conv)
    w_grid = symbol_ndarray("w", (at[D.C_out], at[D.C_in] // at[D.g], at[D.k_h], at[D.k_w]))
    out = np.zeros((conv.out_channels, conv.in_channels), dtype=object)
    index, inside = D.table(conv, (0, 0), (1, 1))
    o, t = np.nonzero(inside)
    rows = index[o, t]
    out[rows[:, 0], rows[:, 4]] = w_grid[rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]]
    return out


def jacobian_is_w(found: Findings, conv: Conv2d) -> np.ndarray:
    """A ``checked`` step: the engine's maps of a 1x1 conv, differentiated by one pixel's inputs, are the
    definition's W (each weight placed by the definition's index expressions). Returns the Jacobian."""
    (r, c), _ = where(conv)
    r, c = r * conv.stride_pair[0], c * conv.stride_pair[1]
    w = weight_matrix(conv)
    xs = [_symbol(f"x_{{{i},{r},{c}}}") for i in range(conv.in_channels)]
    jac = np.array([[coeffs.get(x, 0) for x in xs] for _, coeffs in engine_coefficients(conv)], dtype=object)
    wrong = int(np.sum(jac != w)) if jac.shape == w.shape else -1
    found.equal(
        "checked",
        f"the Jacobian of the engine's {conv.out_channels} maps of {conv!r} by one pixel's inputs is W",
        f"entries of the {w.shape[0]}x{w.shape[1]} W that differ",
        0,
        wrong,
    )
    return jac


def with_bias(conv: Conv2d) -> Conv2d:
    return dataclasses.replace(conv, bias=True)


def agree(found: Findings, kind: Kind, statement: str, values: dict[str, Any], what: str = "") -> bool:
    """A step that holds when every path gives the same figure; the first path's is the one expected."""
    (first, expected), *rest = values.items()
    holds = all(v == expected for v in values.values())
    label = f"{what}: " if what else ""
    if holds:
        detail = label + f"{fmt(expected)} by " + ", ".join(values)
    else:
        detail = label + f"expected {fmt(expected)} ({first}), found " + ", ".join(f"{fmt(v)} ({k})" for k, v in rest)
    return found.step(kind, statement, holds, detail)


def clear() -> None:
    """Forget every derived map and table (after a change to what they are derived from)."""
    for fn in (engine_maps, engine_coefficients, definition_coefficients, _inputs):
        fn.cache_clear()
