r"""Proofs for symbolic sizes, each computed from the one definition of a convolution.

Every proof starts from :data:`verifier.symbolic.definition.MAP` (the defining sum, with C_in, C_out, g, the
kernel, stride, padding, dilation and the input size as SymPy symbols) and works on it with SymPy operations:
substituting sizes, differentiating by an input, doing sums, counting the tuples of its index ranges. None
types the statement's formula a second time as its evidence: the formula is what the derivation is compared
with, so a different definition or a different statement makes the proof fail. Each returns a :class:`Proof`:
whether it held, what it shows (``statement``), what the derivation found (``detail``) and its steps as LaTeX
display lines.

>>> p = parameter_count()
>>> p.holds, p.figures["weights"]
(True, 'C_in*C_out*k_h*k_w/g')
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sympy as sp

from . import definition as D

__all__ = [
    "Proof",
    "all_inputs",
    "batchnorm_fold",
    "block_budget",
    "conv1x1_is_matmul",
    "expansion_linear",
    "linear_collapse",
    "mac_count",
    "maps_equal_filters",
    "parameter_count",
]

_nat = {"integer": True, "nonnegative": True}
_pos = {"integer": True, "positive": True}


@dataclass(frozen=True)
class Proof:
    """The outcome of a symbolic-size proof: whether it held, what it shows, what it found, its LaTeX steps."""

    holds: bool
    lines: tuple[str, ...]
    figures: dict[str, Any] = field(default_factory=dict)
    statement: str = ""
    detail: str = ""

    def __repr__(self) -> str:
        return f"Proof(holds={self.holds}, {len(self.lines)} steps)"

    def _repr_latex_(self) -> str:
        return "$$" + r" \\ ".join(self.lines) + "$$"


def _L(expr: Any) -> str:
    return str(sp.latex(expr))


def _same(a: sp.Basic, b: sp.Basic) -> bool:
    """Whether a - b expands to 0 once constant factors are pulled out of every Sum (linearity of the sum).

    Equal sums are then the same object; each is treated as one unknown, so no sum needs evaluating.
    """

    def pull(expr: sp.Basic) -> sp.Basic:
        return expr.replace(lambda e: isinstance(e, sp.Sum), sp.factor_terms)

    diff = pull(a) - pull(b)
    sums = {e: sp.Dummy() for e in diff.atoms(sp.Sum)}
    return bool(sp.expand(diff.xreplace(sums)) == 0)


def _in_range(expr: sp.Basic, box: list[tuple[sp.Symbol, sp.Expr, sp.Expr]]) -> sp.Basic:
    """Take the first branch of every Piecewise whose condition holds on the whole box (checked at its corners)."""

    def first(pw: sp.Piecewise) -> sp.Basic:
        return pw.args[0].expr if _corners_hold(pw.args[0].cond, box) else pw

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), first)


#: A 1x1 conv: kernel 1, stride 1, dilation 1, no padding (C_in, C_out, g and the image stay symbols).
ONE_BY_ONE: dict[sp.Symbol, int] = {
    D.k_h: 1,
    D.k_w: 1,
    D.s_h: 1,
    D.s_w: 1,
    D.d_h: 1,
    D.d_w: 1,
    D.pad_top: 0,
    D.pad_bottom: 0,
    D.pad_left: 0,
    D.pad_right: 0,
}


def _corners_hold(condition: sp.Basic, box: list[tuple[sp.Symbol, sp.Expr, sp.Expr]]) -> bool:
    """Whether a conjunction of inequalities linear in the box's variables holds at every corner of the box.

    A linear function takes its least and greatest values on a box at corners, so then it holds on the box.
    """
    a, e = sp.symbols("a e", **_pos)  # g divides C_in and C_out: C_in = g a, C_out = g e
    condition = condition.subs({D.C_in: D.g * a, D.C_out: D.g * e})
    box = [(var, D.as_expr(lo).subs({D.C_in: D.g * a}), D.as_expr(hi).subs({D.C_in: D.g * a})) for var, lo, hi in box]
    names = [b[0] for b in box]
    for corner in itertools.product(*[(lo, hi) for _, lo, hi in box]):
        value = condition.subs(dict(zip(names, corner, strict=True)))
        if value is not sp.true and sp.simplify(value) is not sp.true:
            return False
    return True


def _single_terms(expr: sp.Basic) -> sp.Basic:
    """Do every sum over a single value (a range lo..lo): the sum is its one term."""

    def collapse(total: sp.Sum) -> sp.Expr:
        body, limits = total.function, []
        for var, lo, hi in total.limits:
            if lo == hi:
                body = body.subs(var, lo)
            else:
                limits.append((var, lo, hi))
        return sp.Sum(body, *limits) if limits else body

    return expr.replace(lambda e: isinstance(e, sp.Sum), collapse)


def _without_x(expr: sp.Basic) -> sp.Basic:
    """The expression at x = 0 (every input set to 0), sums done."""
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == D.x, lambda e: sp.Integer(0)).doit()


def clear_cache() -> None:
    """Forget the cached 1x1 derivation, so the next proof recomputes it."""
    _one_by_one.cache_clear()


@cache
def _one_by_one() -> tuple[sp.Expr, bool]:
    """The definition at a 1x1 conv with its padding branch removed, and whether no padded zero is ever read."""
    y = D.unpad(D.MAP.subs(ONE_BY_ONE))
    box = [
        (D.h, sp.Integer(0), D.H_out.subs(ONE_BY_ONE) - 1),
        (D.w, sp.Integer(0), D.W_out.subs(ONE_BY_ONE) - 1),
        (D.u, sp.Integer(0), sp.Integer(0)),
        (D.v, sp.Integer(0), sp.Integer(0)),
    ]
    inside = all(_corners_hold(pw.args[0].cond, box) for pw in y.atoms(sp.Piecewise))
    plain = _single_terms(y.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0].expr))
    return plain, inside


def _derivative(y: sp.Expr, index: sp.Expr, row: sp.Expr = D.h, col: sp.Expr = D.w) -> sp.Expr:
    return sp.diff(y, D.x[index, row, col]).doit()


def all_inputs() -> Proof:
    """Map o of a 1x1 conv is b_o plus one product per input map of its group, at its own pixel."""
    y, inside = _one_by_one()
    jj, m = sp.symbols("i' m", **_nat)
    within = _derivative(y, D.G * D.c_in + jj)  # the jj-th input map of o's group
    (expr, cond), _ = within.args if isinstance(within, sp.Piecewise) else ((within, sp.true), None)
    reads_group = expr == D.weight[D.o, jj, 0, 0] and _corners_hold(cond, [(jj, sp.Integer(0), D.c_in - 1)])
    before = _derivative(y, D.G * D.c_in - 1 - m)
    after = _derivative(y, D.G * D.c_in + D.c_in + m)
    other_pixel = (
        _derivative(y, D.G * D.c_in + jj, D.h + 1 + m) == 0 and _derivative(y, D.G * D.c_in + jj, D.h, D.w - 1 - m) == 0
    )
    terms = D.count(D.TERMS, at=ONE_BY_ONE)
    at_zero = _without_x(y)
    holds = bool(inside and reads_group and before == 0 and after == 0 and other_pixel and terms == D.c_in)
    holds = holds and at_zero == D.b[D.o]
    lines = (
        rf"y_o(h, w) = {_L(y)}",
        rf"\frac{{\partial y_o}}{{\partial x_{{G C_{{in}}/g + i', h, w}}}} = {_L(within)}"
        rf"\quad (= w_{{o,i',0,0}} \text{{ for }} 0 \le i' \le C_{{in}}/g - 1)",
        rf"\frac{{\partial y_o}}{{\partial x_{{G C_{{in}}/g - 1 - m}}}} = {_L(before)},\quad "
        rf"\frac{{\partial y_o}}{{\partial x_{{(G+1) C_{{in}}/g + m}}}} = {_L(after)},\quad "
        r"\frac{\partial y_o}{\partial x_{i', h+1+m, w}} = 0",
        rf"\#\{{\text{{terms}}\}} = {_L(sp.Sum(1, *D.TERMS).subs(ONE_BY_ONE))} = {_L(terms)}",
    )
    detail = (
        f"differentiating the definition at a 1x1 conv: d y_o/d x_i = w_{{o,i'}} for each of the {terms} input maps "
        f"i = G*C_in/g + i' of o's group, 0 for maps outside it and for other pixels"
        if holds
        else f"differentiating the definition at a 1x1 conv did not give one weight per input of the group "
        f"(terms {terms}, derivative {within}, outside {before}/{after}, no padding read: {inside})"
    )
    return Proof(holds, lines, {"terms": str(terms)}, "for all C_in, C_out, g, H, W", detail)


def maps_equal_filters() -> Proof:
    """C_out maps (one per filter); a depthwise conv with multiplier r: C_in*r maps, as many weights as C_in->r."""
    r = sp.Symbol("r", **_pos)
    maps = D.count(D.OUTPUTS[:2])
    products = D.count(D.OUTPUTS[:2], D.TERMS, at=ONE_BY_ONE)
    depthwise = {D.g: D.C_in, D.C_out: D.C_in * r}
    dw_maps = D.count(D.OUTPUTS[:2], at=depthwise)
    dw_terms = D.count(D.TERMS, at=depthwise)
    dw_weights = D.count(D.OUTPUTS[:2], D.TERMS, at=depthwise)
    ordinary_weights = D.count(D.OUTPUTS[:2], D.TERMS, at={D.g: 1, D.C_out: r})
    # Sum the depthwise maps over the input maps i (group G = i), relabelling w_{G r + f} as w_{f, G}: map f of C_in->r.
    y_dw = _one_by_one()[0].subs(depthwise).subs(D.b[D.o.subs(depthwise)], 0).doit()
    relabel = y_dw.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == D.weight, lambda e: D.weight[D.f, D.G, 0, 0]
    )
    summed = sp.Sum(relabel, (D.G, 0, D.C_in - 1)).doit()
    y_ord = _one_by_one()[0].subs({D.g: 1, D.C_out: r, D.G: 0}).subs(D.b[D.f], 0).doit()
    sums_agree = _same(summed, y_ord.xreplace({D.j: D.G}))
    holds = (
        bool(
            maps == D.C_out
            and products == D.C_in * D.C_out / D.g
            and dw_maps == D.C_in * r
            and dw_terms == D.k_h * D.k_w
        )
        and bool(sp.simplify(dw_weights - ordinary_weights) == 0)
        and sums_agree
    )
    lines = (
        rf"\#\{{y_o\}} = {_L(sp.Sum(1, *D.OUTPUTS[:2]))} = {_L(maps)}",
        rf"\#\{{w_{{o,i}} x_i\}}_{{1\times 1}} = {_L(products)}\ \text{{(summed into }} C_{{out}} \text{{ maps)}}",
        rf"g = C_{{in}},\ C_{{out}} = C_{{in}} r:\quad \#\{{y\}} = {_L(dw_maps)},\quad "
        rf"\#\{{\text{{products per map}}\}} = {_L(dw_terms)},\quad \#w = {_L(dw_weights)} = \#w_{{C_{{in}}\to r}}",
        rf"\sum_{{G=0}}^{{C_{{in}}-1}} y^{{\text{{dw}}}}_{{G r + f}}\Big|_{{w_{{Gr+f}} = w_{{f,G}}}} = "
        rf"{_L(summed)} = y_f",
    )
    detail = (
        f"the definition's output ranges count {maps} maps (one per filter) and {products} products at a 1x1 conv; "
        f"with g = C_in and C_out = C_in*r: {dw_maps} maps of {dw_terms} product(s) each and {dw_weights} weights, "
        f"as many as the ordinary C_in->r conv's {ordinary_weights}; summing its maps over the inputs "
        f"{'gives' if sums_agree else 'does NOT give'} the ordinary maps"
    )
    return Proof(holds, lines, {"maps": str(maps), "depthwise_weights": str(dw_weights)}, "for all sizes", detail)


def parameter_count() -> Proof:
    """k_h k_w (C_in/g) C_out weights plus C_out biases: one per index tuple of the definition's w and b."""
    weights = D.count(D.OUTPUTS[:2], D.TERMS)
    biases = D.count(D.OUTPUTS[:2])
    statement = D.k_h * D.k_w * (D.C_in / D.g) * D.C_out
    holds = bool(sp.expand(weights - statement) == 0 and biases == D.C_out)
    lines = (
        rf"\#w = {_L(sp.Sum(1, *D.OUTPUTS[:2], *D.TERMS))} = {_L(weights)}",
        rf"\#b = {_L(sp.Sum(1, *D.OUTPUTS[:2]))} = {_L(biases)}",
        rf"P = {_L(weights)} + {_L(biases)}",
    )
    detail = f"the definition's index ranges give {weights} weights w_{{o,j,u,v}} and {biases} biases b_o"
    return Proof(holds, lines, {"weights": str(weights), "biases": str(biases)}, "for all sizes", detail)


def mac_count() -> Proof:
    """One product per (output map, position, term of the sum): H_out W_out k_h k_w (C_in/g) C_out."""
    macs = D.count(D.OUTPUTS, D.TERMS)
    statement = D.H_out * D.W_out * D.k_h * D.k_w * (D.C_in / D.g) * D.C_out
    holds = bool(sp.expand(macs - statement) == 0)
    h_out, w_out = sp.symbols("H_out W_out")
    shown = macs.subs({D.H_out: h_out, D.W_out: w_out})
    lines = (
        rf"H_{{out}} = {_L(D.H_out)},\quad W_{{out}} = {_L(D.W_out)}",
        rf"\text{{MACs}} = {_L(sp.Sum(1, *D.OUTPUTS, *D.TERMS))} = {_L(shown)}",
    )
    detail = f"the definition's output and sum ranges give {shown} products (with H_out, W_out its output ranges)"
    return Proof(holds, lines, {"macs": str(shown)}, "for all sizes, strides, paddings and dilations", detail)


def conv1x1_is_matmul() -> Proof:
    """At a 1x1 conv with g = 1, y_o at pixel p = h*W + w is entry (o, p) of W (C_out x C_in) times X (C_in x HW)."""
    y = _one_by_one()[0].subs({D.g: 1, D.G: 0}).subs(D.b[D.f], 0)
    Wm = sp.MatrixSymbol("W", D.C_out, D.C_in)
    Xm = sp.MatrixSymbol("X", D.C_in, D.H * D.W)
    pixel = D.h * D.W + D.w
    as_matrices = y.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == D.weight, lambda e: Wm[e.indices[0], e.indices[1]]
    ).replace(lambda e: isinstance(e, sp.Indexed) and e.base == D.x, lambda e: Xm[e.indices[0], pixel])
    entry = (Wm * Xm)[D.f, pixel]
    holds = bool(as_matrices.dummy_eq(entry)) or _same(as_matrices, entry.doit())
    pixels = D.count(D.OUTPUTS[2:], at=ONE_BY_ONE)
    holds = holds and bool(sp.simplify(pixels - D.H * D.W) == 0)
    lines = (
        rf"y_f(h, w) = {_L(y)}",
        rf"w_{{f,i,0,0}} = W_{{f,i}},\ x_{{i,h,w}} = X_{{i,\,hW + w}}:\quad "
        rf"y_f = {_L(as_matrices)} = (WX)_{{f,\,hW+w}}",
        rf"\#\{{(h, w)\}} = {_L(pixels)}",
    )
    detail = (
        f"the definition at a 1x1 conv with g = 1, its weights read as W (C_out x C_in) and its input as X "
        f"(C_in x {pixels}), {'is' if holds else 'is NOT'} entry (o, hW + w) of the matrix product W X"
    )
    return Proof(holds, lines, {"pixels": str(pixels)}, "for all C_in, C_out, H, W", detail)


def expansion_linear() -> Proof:
    """A 1x1 conv is affine in its input: every second derivative is 0, so y = W x + b at each pixel."""
    y, _ = _one_by_one()
    i1, i2 = sp.symbols("i_1 i_2", **_nat)
    first = _derivative(y, i1)
    second = sp.diff(first, D.x[i2, D.h, D.w]).doit()
    at_zero = _without_x(y)
    holds = second == 0 and at_zero == D.b[D.o]
    lines = (
        rf"\frac{{\partial y_o}}{{\partial x_{{i_1}}}} = {_L(first)}",
        rf"\frac{{\partial^2 y_o}}{{\partial x_{{i_1}} \partial x_{{i_2}}}} = {_L(second)},\quad "
        rf"y_o|_{{x=0}} = {_L(at_zero)}",
    )
    detail = (
        f"every second derivative of the definition at a 1x1 conv is {second} and its value at x = 0 is b_o, "
        f"so each pixel's maps are y = W x + b with W[o, i] = d y_o/d x_i"
    )
    return Proof(holds, lines, {"second_derivative": str(second)}, "for all C_in, C_out, g", detail)


def _compose() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Two 1x1 convs C_in -> m -> C_out (g = 1): the second's input is the first's output, both from the definition."""
    m = sp.Symbol("m", **_pos)
    w1, w2, b1, b2 = (sp.IndexedBase(n) for n in ("w_1", "w_2", "b_1", "b_2"))
    base = _one_by_one()[0].subs({D.g: 1, D.G: 0})
    first = base.subs(D.C_out, m).xreplace({D.weight: w1, D.b: b1})
    second = base.subs(D.C_in, m).xreplace({D.weight: w2, D.b: b2})
    k = sp.Symbol("k", **_nat)
    first_k = first.subs(D.f, k).xreplace({D.j: sp.Symbol("j'", **_nat)})
    composed = second.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == D.x, lambda e: first_k.subs(k, e.indices[0])
    )
    return composed, m, k


def linear_collapse() -> Proof:
    """Two 1x1 convs C_in -> m -> C_out with nothing between are one 1x1 conv: weight W2 W1, bias W2 b1 + b2."""
    composed, m, _ = _compose()
    i1, i2 = sp.symbols("i_1 i_2", **_nat)
    first = sp.diff(composed, D.x[i1, D.h, D.w]).doit()
    second = sp.diff(first, D.x[i2, D.h, D.w]).doit()
    W1, W2 = sp.MatrixSymbol("W_1", m, D.C_in), sp.MatrixSymbol("W_2", D.C_out, m)
    product = (W2 * W1)[D.f, i1]
    as_matrices = first.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base.label.name in ("w_1", "w_2"),
        lambda e: (W1 if e.base.label.name == "w_1" else W2)[e.indices[0], e.indices[1]],
    )
    as_matrices = _in_range(as_matrices, [(i1, sp.Integer(0), D.C_in - 1)])
    weight_ok = bool(as_matrices.dummy_eq(product))
    holds = second == 0 and weight_ok
    lines = (
        rf"y_f = {_L(composed)}",
        rf"\frac{{\partial y_f}}{{\partial x_{{i_1}}}} = {_L(first)} = (W_2 W_1)_{{f, i_1}},\quad "
        rf"\frac{{\partial^2 y_f}}{{\partial x_{{i_1}}\partial x_{{i_2}}}} = {_L(second)}",
    )
    detail = (
        f"composing the definition with itself (C_in -> m -> C_out, 1x1): every second derivative is {second} and "
        f"d y_f/d x_i {'is' if weight_ok else 'is NOT'} entry (f, i) of W_2 W_1: one 1x1 conv with weight W_2 W_1"
    )
    return Proof(holds, lines, {"second_derivative": str(second)}, "for all C_in, m, C_out", detail)


Fold = Callable[[sp.Expr, sp.Expr, sp.Expr, sp.Expr, sp.Expr, sp.Expr], tuple[sp.Expr, sp.Expr]]


def batchnorm_fold(fold: Fold) -> Proof:
    """BatchNorm after any conv (any kernel, stride, padding, dilation, groups) is the conv with folded w and b.

    ``fold(w, b, gamma, beta, mu, sigma)`` gives (w', b') for one output map.
    """
    gamma, beta, mu, var = (sp.IndexedBase(n) for n in ("gamma", "beta", "mu", "v"))
    eps = sp.Symbol("epsilon", positive=True)
    o = D.o
    sigma = sp.sqrt(var[o] + eps)
    lhs = gamma[o] * (D.MAP - mu[o]) / sigma + beta[o]
    w_new, b_new = fold(D.weight[o, D.j, D.u, D.v], D.b[o], gamma[o], beta[o], mu[o], sigma)
    rhs = D.MAP.replace(lambda e: isinstance(e, sp.Indexed) and e.base == D.weight, lambda e: w_new).subs(D.b[o], b_new)
    holds = _same(lhs, rhs)
    lines = (
        rf"\sigma_o = {_L(sigma)}",
        rf"\mathrm{{BN}}(y_o) = {_L(lhs)}",
        rf"= {_L(rhs)}",
    )
    detail = (
        f"BatchNorm of the definition's map (any kernel, stride, padding, dilation, groups) minus the definition "
        f"with w' = {w_new} and b' = {b_new} {'simplifies to 0' if holds else 'does NOT simplify to 0'}"
    )
    return Proof(holds, lines, {}, "for all sizes", detail)


def block_budget() -> Proof:
    """Conv weights of the blocks at middle width m (block input 4m), each conv counted by the definition's ranges."""
    m = sp.Symbol("m", **_pos)

    def conv_weights(cin: sp.Expr, cout: sp.Expr, k: int) -> sp.Expr:
        return D.count(D.OUTPUTS[:2], D.TERMS, at={D.C_in: cin, D.C_out: cout, D.g: 1, D.k_h: k, D.k_w: k})

    bottleneck = sp.expand(conv_weights(4 * m, m, 1) + conv_weights(m, m, 3) + conv_weights(m, 4 * m, 1))
    basic = sp.expand(2 * conv_weights(m, m, 3))
    wide = sp.expand(2 * conv_weights(4 * m, 4 * m, 3))
    shortcut = sp.expand(conv_weights(4 * m, 4 * m, 1))
    ratio_basic, ratio_wide = sp.cancel(bottleneck / basic), sp.cancel(wide / bottleneck)
    ratio_proj = sp.cancel((bottleneck + shortcut) / bottleneck)
    holds = bool(ratio_basic < 1) and bool(ratio_wide > 1) and bool(1 < ratio_proj < 2)
    lines = (
        rf"\text{{bottleneck}}\ (4m\to m\to m\to 4m):\ {_L(bottleneck)}",
        rf"\text{{basic}}\ (2\times 3{{\times}}3,\ m):\ {_L(basic)},\qquad"
        rf"\frac{{\text{{bottleneck}}}}{{\text{{basic}}}} = {_L(ratio_basic)}",
        rf"2\times 3{{\times}}3\ \text{{at}}\ 4m:\ {_L(wide)} = {_L(ratio_wide)}\times\text{{bottleneck}}",
        rf"\text{{projection}}\ 4m\to 4m:\ {_L(shortcut)},\qquad"
        rf"\frac{{\text{{bottleneck}} + \text{{projection}}}}{{\text{{bottleneck}}}} = {_L(ratio_proj)}",
    )
    figures = {
        "bottleneck_per_m2": int(bottleneck / m**2),
        "basic_per_m2": int(basic / m**2),
        "two_3x3_wide_per_m2": int(wide / m**2),
        "projection_per_m2": int(shortcut / m**2),
    }
    detail = (
        f"counting each conv's weights by the definition's ranges: bottleneck {bottleneck}, basic block {basic} "
        f"(ratio {ratio_basic}), two 3x3 at 4m {wide} ({ratio_wide}x), with projection {ratio_proj}x"
    )
    return Proof(holds, lines, figures, "for every middle width m", detail)
