r"""The one definition of a 2-D convolution: its defining sum, written once in SymPy with symbolic sizes.

Output map ``o`` of a conv with ``g`` groups belongs to group ``G = o // (C_out/g)``; write it
``o = G*(C_out/g) + f`` with ``f`` its place in the group. At output position (h, w) it is

.. math::

    y_o(h, w) = b_o + \sum_{j=0}^{C_{in}/g-1} \sum_{u=0}^{k_h-1} \sum_{v=0}^{k_w-1}
        w_{o,j,u,v}\, \bar x_{G C_{in}/g + j,\ h s_h - pad_t + u d_h,\ w s_w - pad_l + v d_w}

where ``x̄`` is the input with ``pad_t``, ``pad_b``, ``pad_l``, ``pad_r`` zeros of padding at its top, bottom,
left and right (zero outside 0..H-1, 0..W-1), ``s`` the stride and ``d`` the dilation. The output has
``H_out = floor((H + pad_t + pad_b - d_h (k_h - 1) - 1) / s_h) + 1`` rows (and likewise columns): PyTorch's
``torch.nn.Conv2d``. Everything here is read off that one expression: proofs for symbolic sizes
(:mod:`verifier.symbolic.proofs`) differentiate, sum and substitute it; :func:`expand` evaluates it at a
concrete layer (to check the derivation engine :mod:`verifier.symbolic.derive` against it);
:func:`products` reads which weight meets which input from its index expressions, and :func:`evaluate`
computes a conv on numbers from them (to check the loop reference and the NumPy engine).

>>> from verifier.spec import Conv2d
>>> expand(Conv2d(2, 1, 1), 0, (0, 0), (1, 1))
b_{0} + w_{0,0,0,0}*x_{0,0,0} + w_{0,1,0,0}*x_{1,0,0}
>>> count(TERMS)        # products in one output map, from the sum's ranges
C_in*k_h*k_w/g
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from ..spec import Conv2d

__all__ = [
    "MACS_LATEX",
    "MACS_TEXT",
    "MAP",
    "OUTPUTS",
    "PRODUCT",
    "TERMS",
    "WEIGHTS_LATEX",
    "WEIGHTS_TEXT",
    "count",
    "evaluate",
    "expand",
    "inputs_read",
    "output_size",
    "products",
    "sizes",
    "table",
    "unpad",
    "xbar",
]

_pos = {"integer": True, "positive": True}
_nat = {"integer": True, "nonnegative": True}

# -- the sizes: every one a symbol -----------------------------------------------------------------
C_in, C_out, g, k_h, k_w, s_h, s_w, d_h, d_w, H, W = sp.symbols("C_in C_out g k_h k_w s_h s_w d_h d_w H W", **_pos)
pad_top, pad_bottom, pad_left, pad_right = sp.symbols("pad_t pad_b pad_l pad_r", **_nat)

# -- the indices -----------------------------------------------------------------------------------
G, f, j, u, v, h, w = sp.symbols("G f j u v h w", **_nat)
weight, x, b = sp.IndexedBase("w"), sp.IndexedBase("x"), sp.IndexedBase("b")

c_in = C_in / g  # input maps each filter reads
c_out = C_out / g  # output maps of each group
o = G * c_out + f  # output map o: place f in group G
i = G * c_in + j  # the j-th input map of group G
row = h * s_h - pad_top + u * d_h  # input row that tap u of output row h reads
col = w * s_w - pad_left + v * d_w
H_out = sp.floor((H + pad_top + pad_bottom - d_h * (k_h - 1) - 1) / s_h) + 1
W_out = sp.floor((W + pad_left + pad_right - d_w * (k_w - 1) - 1) / s_w) + 1

#: The padded input x̄ (kept as a function in the sum, so that the sum stays a plain sum of products) ...
xbar = sp.Function("xbar")
_ri, _rr, _rc = sp.symbols("i_x r_x c_x", integer=True)
#: ... and what it is: x inside the image, 0 on the padding.
X_PADDED = sp.Lambda(
    (_ri, _rr, _rc),
    sp.Piecewise((x[_ri, _rr, _rc], (_rr >= 0) & (_rr <= H - 1) & (_rc >= 0) & (_rc <= W - 1)), (0, True)),
)
#: One product of the sum: weight w_{o,j,u,v} times the input it meets.
PRODUCT = weight[o, j, u, v] * xbar(i, row, col)
#: The ranges of the sum: the filter's input maps and its kernel taps.
TERMS: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...] = ((j, 0, c_in - 1), (u, 0, k_h - 1), (v, 0, k_w - 1))
#: The ranges of the output: groups, maps within a group, rows and columns.
OUTPUTS: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...] = (
    (G, 0, g - 1),
    (f, 0, c_out - 1),
    (h, 0, H_out - 1),
    (w, 0, W_out - 1),
)
#: The definition: output map o = G*C_out/g + f at (h, w).
MAP = b[o] + sp.Sum(PRODUCT, *TERMS)

# -- the count formulas as the theorems and the site print them: one list of factors, two spellings ------
#: (plain text, LaTeX) of each factor of a conv's weights and multiply-adds. A test reads the plain text
#: back as SymPy and checks it against the ranges of :data:`TERMS` and :data:`OUTPUTS`.
_WEIGHT_FACTORS = (("k_h", "k_h"), ("k_w", "k_w"), ("(C_in/g)", r"\frac{C_{in}}{g}"), ("C_out", "C_{out}"))
_POSITION_FACTORS = (("H_out", "H_{out}"), ("W_out", "W_{out}"))
#: Weights of a conv: k_h*k_w*(C_in/g)*C_out.
WEIGHTS_TEXT = "*".join(t for t, _ in _WEIGHT_FACTORS)
WEIGHTS_LATEX = r"\,".join(t for _, t in _WEIGHT_FACTORS)
#: Multiply-adds of a conv on one sample: every weight once at every output position.
MACS_TEXT = "*".join(t for t, _ in _POSITION_FACTORS + _WEIGHT_FACTORS)
MACS_LATEX = r"\,".join(t for _, t in _POSITION_FACTORS) + r" \cdot " + WEIGHTS_LATEX


def unpad(expr: sp.Basic) -> sp.Basic:
    """Write out the padded input x̄ in ``expr``: x inside the image, 0 on the padding (a Piecewise)."""
    return expr.replace(xbar, X_PADDED)


def as_expr(value: int | sp.Expr) -> sp.Expr:
    """An int as a SymPy Integer; a SymPy expression as it is (nothing is ever parsed from text)."""
    return sp.Integer(value) if isinstance(value, int) else value


def count(*ranges: Sequence[tuple[sp.Symbol, sp.Expr, sp.Expr]], at: dict[sp.Symbol, Any] | None = None) -> sp.Expr:
    """The number of index tuples in the nested ``ranges`` (a Sum of 1), optionally at sizes ``at``.

    >>> count(OUTPUTS[:2])   # output maps
    C_out
    """
    total = _count(tuple(tuple(lim) for group in ranges for lim in group))
    if at is None:
        return total
    value = total.xreplace({k: as_expr(v) for k, v in at.items()})
    return value if value.is_Number else sp.simplify(value)


@cache
def _count(limits: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]) -> sp.Expr:
    variables = {var for var, _, _ in limits}
    if any((as_expr(lo).free_symbols | as_expr(hi).free_symbols) & variables for _, lo, hi in limits):
        return sp.simplify(sp.Sum(1, *limits).doit())
    # Independent ranges: the Sum of 1 is the product of the ranges' lengths hi - lo + 1.
    return sp.Mul(*[hi - lo + 1 for _, lo, hi in limits])


def sizes(conv: Conv2d, input_size: Sequence[int] = (1, 1)) -> dict[sp.Symbol, int]:
    """The definition's size symbols at a concrete layer on an input of ``input_size`` = (H, W).

    Read from the layer's arguments (channels, kernel, stride, padding, dilation, groups) only.
    """
    (top, bottom), (left, right) = conv.padding_amounts
    return {
        C_in: conv.in_channels,
        C_out: conv.out_channels,
        g: conv.groups,
        k_h: conv.kernel_pair[0],
        k_w: conv.kernel_pair[1],
        s_h: conv.stride_pair[0],
        s_w: conv.stride_pair[1],
        d_h: conv.dilation_pair[0],
        d_w: conv.dilation_pair[1],
        pad_top: top,
        pad_bottom: bottom,
        pad_left: left,
        pad_right: right,
        H: int(input_size[0]),
        W: int(input_size[1]),
    }


def _place(conv: Conv2d, o_index: int) -> dict[sp.Symbol, int]:
    """Output map ``o_index`` as (group G, place f), from C_out/g of the layer's arguments."""
    return {G: o_index // conv.out_per_group, f: o_index % conv.out_per_group}


def _named(expr: sp.Expr) -> sp.Expr:
    """Indexed w[o,j,u,v], x[i,h,w], b[o] with integer indices as the symbols w_{o,j,u,v}, x_{i,h,w}, b_{o}."""
    mapping = {
        e: sp.Symbol(f"{e.base.label}_{{{','.join(str(int(k)) for k in e.indices)}}}") for e in expr.atoms(sp.Indexed)
    }
    return expr.xreplace(mapping)


def _do_sums(expr: sp.Basic) -> sp.Basic:
    """Do every sum whose ranges are concrete: the sum of its summand at each index tuple (``xreplace``)."""

    def do(total: sp.Sum) -> sp.Expr:
        variables = [var for var, _, _ in total.limits]
        ranges = [range(int(lo), int(hi) + 1) for _, lo, hi in total.limits]
        terms = [
            total.function.xreplace(dict(zip(variables, values, strict=True))) for values in itertools.product(*ranges)
        ]
        return sp.Add(*terms)

    return expr.replace(lambda e: isinstance(e, sp.Sum), do)


def expand(conv: Conv2d, o_index: int, position: Sequence[int], input_size: Sequence[int]) -> sp.Expr:
    """The definition at a concrete layer, map and position, with its sums done by SymPy (``doit``).

    Products on padded zeros vanish; without a bias ``b_o`` is 0. Symbols are named as the derivation engine
    names them, so the result can be compared with ``==``.
    """
    at = {**sizes(conv, input_size), **_place(conv, o_index), h: int(position[0]), w: int(position[1])}
    expr = _do_sums(unpad(MAP).xreplace({k: sp.Integer(v) for k, v in at.items()}))
    if not conv.bias:
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == b, lambda e: sp.Integer(0))
    return sp.expand(_named(expr))


@cache
def _index_functions() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The product's indices (weight o, j, u, v; input i, row, col) and its inside-the-image test, compiled."""
    args = (C_in, C_out, g, k_h, k_w, s_h, s_w, d_h, d_w, pad_top, pad_left, H, W, G, f, j, u, v, h, w)
    (padded,) = unpad(PRODUCT).atoms(sp.Piecewise)
    (on_image, inside), _ = padded.args
    (w_index,) = [e.indices for e in PRODUCT.atoms(sp.Indexed) if e.base == weight]
    (x_index,) = [e.indices for e in on_image.atoms(sp.Indexed) if e.base == x]
    index_fn = sp.lambdify(args, [*w_index, *x_index], modules="numpy")
    inside_fn = sp.lambdify(args, inside, modules="numpy")
    return index_fn, inside_fn


def table(conv: Conv2d, position: Sequence[int], input_size: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Every product of every output map at ``position``, read from the definition's index expressions.

    Returns ``(index, inside)``: ``index[o, t]`` is the weight index (o, j, u, v) followed by the input index
    (i, row, col) of product ``t`` of map ``o`` (t running over the sum's ranges j, u, v in order), and
    ``inside[o, t]`` whether that input lies in the image (products on padding are zero).

    >>> index, inside = table(Conv2d(2, 1, 1), (0, 0), (1, 1))
    >>> index.tolist(), inside.tolist()
    ([[[0, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 1, 0, 0]]], [[True, True]])
    """
    at = sizes(conv, input_size)
    out_per_group = conv.out_per_group
    o_all = np.arange(conv.out_channels)[:, None]
    jj, uu, vv = (
        a.ravel()[None, :]
        for a in np.meshgrid(
            np.arange(conv.in_per_group), np.arange(at[k_h]), np.arange(at[k_w]), indexing="ij"
        )
    )
    values = (
        at[C_in],
        at[C_out],
        at[g],
        at[k_h],
        at[k_w],
        at[s_h],
        at[s_w],
        at[d_h],
        at[d_w],
        at[pad_top],
        at[pad_left],
        at[H],
        at[W],
        o_all // out_per_group,
        o_all % out_per_group,
        jj,
        uu,
        vv,
        int(position[0]),
        int(position[1]),
    )
    index_fn, inside_fn = _index_functions()
    shape = (conv.out_channels, jj.shape[1])
    parts = [np.broadcast_to(np.asarray(e), shape) for e in index_fn(*values)]
    exact = np.stack(parts, axis=-1)
    index = np.rint(exact).astype(np.int64)
    if not np.array_equal(index, exact):  # pragma: no cover - the sizes of a valid layer divide evenly
        raise ValueError(f"the definition's indices are not integers for {conv!r}")
    inside = np.broadcast_to(np.asarray(inside_fn(*values), dtype=bool), shape)
    return index, inside


def products(
    conv: Conv2d, o_index: int, position: Sequence[int], input_size: Sequence[int]
) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The products of output map ``o_index`` at ``position``: (weight index, input index) pairs, padding left out.

    >>> products(Conv2d(1, 1, 3, padding=1), 0, (0, 0), (2, 2))[0]
    ((0, 0, 1, 1), (0, 0, 0))
    """
    index, inside = table(conv, position, input_size)
    return [(tuple(t[:4]), tuple(t[4:])) for t in index[o_index][inside[o_index]].tolist()]


def inputs_read(conv: Conv2d, o_index: int, position: Sequence[int], input_size: Sequence[int]) -> set[int]:
    """The input maps output map ``o_index`` reads at ``position``, by the definition."""
    return {xi[0] for _, xi in products(conv, o_index, position, input_size)}


def output_size(conv: Conv2d, input_size: Sequence[int]) -> tuple[int, int]:
    """(H_out, W_out) by the definition's output ranges.

    >>> output_size(Conv2d(1, 1, 3, stride=2, padding=1), (56, 56))
    (28, 28)
    """
    at = {k: sp.Integer(v) for k, v in sizes(conv, input_size).items()}
    return int(H_out.xreplace(at)), int(W_out.xreplace(at))


def evaluate(conv: Conv2d, input: Any, weight_array: Any, bias: Any = None) -> np.ndarray:
    """The conv of one (C_in, H, W) input on numbers, summed over the definition's products (exact on ints).

    >>> evaluate(Conv2d(1, 1, 1), np.array([[[2, 3]]]), np.array([[[[5]]]]), np.array([1]))
    array([[[11, 16]]], dtype=object)
    """
    xs = np.asarray(input, dtype=object)
    ws = np.asarray(weight_array, dtype=object)
    size = (xs.shape[1], xs.shape[2])
    ho, wo = output_size(conv, size)
    out = np.empty((conv.out_channels, ho, wo), dtype=object)
    for r in range(ho):
        for c in range(wo):
            index, inside = table(conv, (r, c), size)
            weights = ws[index[..., 0], index[..., 1], index[..., 2], index[..., 3]]
            at = [np.where(inside, index[..., k], 0) for k in (4, 5, 6)]
            inputs = np.where(inside, xs[at[0], at[1], at[2]], 0)
            total = (weights * inputs).sum(axis=1)
            out[:, r, c] = total if bias is None else total + np.asarray(bias, dtype=object)
    return out
