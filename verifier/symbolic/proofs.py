r"""Proofs for symbolic sizes: C_in, C_out, k_h, k_w, groups g and output sizes are SymPy symbols.

Each function states an identity with ``Sum``/``MatrixSymbol`` objects, lets SymPy evaluate both sides, and
returns a :class:`Proof`: whether every step held and the steps as LaTeX display lines (one expression per
line, ready for KaTeX).

>>> p = parameter_count()
>>> p.holds
True
>>> print(p.lines[2])
\#b = \sum_{o=0}^{C_{out} - 1} 1 = C_{out}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = [
    "Proof",
    "all_inputs",
    "batchnorm_fold",
    "block_budget",
    "conv1x1_is_matmul",
    "expansion_rank",
    "linear_collapse",
    "mac_count",
    "maps_equal_filters",
    "parameter_count",
]

_pos = {"integer": True, "positive": True}
C_in, C_out, k_h, k_w, g, c, d, n = sp.symbols("C_in C_out k_h k_w g c d n", **_pos)
H_out, W_out, P = sp.symbols("H_out W_out P", **_pos)
o, i, j, u, v, r, q, m = sp.symbols("o i j u v r q m", integer=True, nonnegative=True)
w, x, b = sp.IndexedBase("w"), sp.IndexedBase("x"), sp.IndexedBase("b")


@dataclass(frozen=True)
class Proof:
    """The outcome of a symbolic-size proof: every step's truth and the steps in LaTeX."""

    holds: bool
    lines: tuple[str, ...]
    figures: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Proof(holds={self.holds}, {len(self.lines)} steps)"

    def _repr_latex_(self) -> str:
        return "$$" + r" \\ ".join(self.lines) + "$$"


def _eq(lhs: sp.Basic, rhs: sp.Basic) -> bool:
    """Whether lhs - rhs expands to 0 once constant factors are pulled out of every Sum (linearity)."""

    def pull(expr: sp.Basic) -> sp.Basic:
        return expr.replace(lambda e: isinstance(e, sp.Sum), sp.factor_terms)

    return bool(sp.expand(pull(lhs) - pull(rhs)) == 0)


def _L(expr: Any) -> str:
    return str(sp.latex(expr))


def _count(*ranges: tuple[sp.Symbol, sp.Expr, sp.Expr]) -> sp.Expr:
    """Evaluate the number of index tuples in nested ranges: a Sum of 1."""
    return sp.Sum(1, *ranges).doit()


def all_inputs() -> Proof:
    """Output map o is b_o + sum over all C_in inputs; its derivative by input j is w_{o,j} for every j."""
    y = b[o] + sp.Sum(w[o, i] * x[i], (i, 0, C_in - 1))
    deriv = sp.diff(y, x[j]).doit()
    inside = deriv.subs(j, C_in - 1 - m)  # any j in 0..C_in-1 is C_in-1-m with m >= 0
    ok_deriv = _eq(sp.piecewise_fold(inside), w[o, C_in - 1 - m])
    terms = _count((i, 0, C_in - 1))
    group_terms = _count((i, r * c, r * c + c - 1))  # group r of g reads maps r*c .. r*c+c-1, c = C_in/g
    holds = ok_deriv and terms == C_in and group_terms == c
    lines = (
        rf"y_o = {_L(y)}",
        rf"\frac{{\partial y_o}}{{\partial x_j}} = {_L(sp.diff(y, x[j]))} = {_L(deriv)}",
        rf"\#\{{\text{{terms}}\}} = {_L(sp.Sum(1, (i, 0, C_in - 1)))} = {_L(terms)}",
        rf"\text{{groups }} g,\ c = C_{{in}}/g:\quad \#\{{\text{{terms}}\}} = "
        rf"{_L(sp.Sum(1, (i, r * c, r * c + c - 1)))} = {_L(group_terms)}",
    )
    return Proof(holds, lines)


def maps_equal_filters() -> Proof:
    """C_out maps from C_out filters; the C_in*C_out products exist only inside the sums."""
    maps = _count((o, 0, C_out - 1))
    products = _count((o, 0, C_out - 1), (i, 0, C_in - 1))
    dw_weights = (C_in * n) * (C_in / C_in) * k_h * k_w  # groups = C_in: one input map per filter
    conv_weights = n * C_in * k_h * k_w
    holds = maps == C_out and products == C_in * C_out and _eq(dw_weights, conv_weights)
    lines = (
        rf"\#\{{y_o\}} = {_L(sp.Sum(1, (o, 0, C_out - 1)))} = {_L(maps)}",
        rf"\#\{{w_{{o,i}} x_i\}} = {_L(sp.Sum(1, (o, 0, C_out - 1), (i, 0, C_in - 1)))} = {_L(products)}"
        r"\ \text{(summed into } C_{out} \text{ maps)}",
        r"\text{depthwise, multiplier } n:\ y_{i n + m} = w_{in+m} x_i,\quad \#\{y\} = C_{in} n",
        rf"\#w_{{\text{{depthwise}}}} = (C_{{in}} n)\cdot\tfrac{{C_{{in}}}}{{C_{{in}}}}\cdot k_h k_w = "
        rf"{_L(sp.cancel(dw_weights))} = \#w_{{C_{{in}}\to n}}",
        r"\sum_{i=0}^{C_{in}-1} y^{\text{dw}}_{i n + m}\Big|_{w_{in+m} = w_{m,i}} = y_m",
    )
    return Proof(holds, lines)


def parameter_count() -> Proof:
    """k_h k_w (C_in/g) C_out weights plus C_out biases: one symbol per index of the OIHW tensor."""
    weights = _count((o, 0, C_out - 1), (i, 0, c - 1), (u, 0, k_h - 1), (v, 0, k_w - 1))
    biases = _count((o, 0, C_out - 1))
    holds = _eq(weights, k_h * k_w * c * C_out) and biases == C_out
    lines = (
        r"c = C_{in}/g",
        rf"\#w = {_L(sp.Sum(1, (o, 0, C_out - 1), (i, 0, c - 1), (u, 0, k_h - 1), (v, 0, k_w - 1)))}"
        rf" = {_L(weights)}",
        rf"\#b = {_L(sp.Sum(1, (o, 0, C_out - 1)))} = {_L(biases)}",
        rf"P = {_L(weights)} + {_L(biases)} = k_{{h}} k_{{w}} \frac{{C_{{in}}}}{{g}} C_{{out}} + C_{{out}}",
    )
    return Proof(holds, lines)


def mac_count() -> Proof:
    """One product per (position, map, input of the group, tap): H_out W_out k_h k_w (C_in/g) C_out."""
    ranges = ((r, 0, H_out - 1), (q, 0, W_out - 1), (o, 0, C_out - 1), (i, 0, c - 1), (u, 0, k_h - 1), (v, 0, k_w - 1))
    macs = _count(*ranges)
    holds = _eq(macs, H_out * W_out * k_h * k_w * c * C_out)
    lines = (
        rf"\text{{MACs}} = {_L(sp.Sum(1, *ranges))} = {_L(macs)}",
        r"\text{MACs}_{\text{zeros omitted}} = C_{out}\, c \sum_{r} |U_r| \sum_{q} |V_q|"
        r" \le C_{out}\, c\, H_{out} k_h\, W_{out} k_w",
    )
    return Proof(holds, lines)


def conv1x1_is_matmul() -> Proof:
    """Entry (o, p) of W (C_out x C_in) times X (C_in x P) is output map o at pixel p."""
    W = sp.MatrixSymbol("W", C_out, C_in)
    X = sp.MatrixSymbol("X", C_in, P)
    entry = (W * X)[o, q]
    conv = sp.Sum(W[o, i] * X[i, q], (i, 0, C_in - 1))
    holds = bool(entry.dummy_eq(conv))
    lines = (
        rf"(WX)_{{o,p}} = {_L(entry).replace('q', 'p')}",
        rf"y_o(p) = {_L(conv).replace('q', 'p')} = (WX)_{{o,p}}",
        r"Y = W X,\quad W\in\mathbb{R}^{C_{out}\times C_{in}},\ X\in\mathbb{R}^{C_{in}\times HW}"
        r"\ \text{(one fully connected layer, applied at every pixel)}",
    )
    return Proof(holds, lines)


def expansion_rank() -> Proof:
    """The image of x -> W x (W with C_in columns) is spanned by C_in columns: dimension <= C_in."""
    W = sp.MatrixSymbol("W", C_out, C_in)
    col = sp.Sum(W[o, i] * x[i], (i, 0, C_in - 1))
    small = sp.Matrix(6, 2, lambda a, z: sp.Symbol(f"w_{{{a},{z}}}"))
    minor = sp.expand(small[:2, :].det())
    small_rank = 2 if minor != 0 else int(small.rank())  # a non-zero 2x2 minor and 2 columns: rank 2
    holds = small_rank == 2
    lines = (
        rf"y_o = {_L(col)}\ \Rightarrow\ y = \sum_{{i}} x_i\, W_{{:,i}} \in \operatorname{{span}}"
        r"\{W_{:,0},\dots,W_{:,C_{in}-1}\}",
        r"\dim\{Wx\} = \operatorname{rank} W \le \min(C_{in}, C_{out})",
        r"\text{BatchNorm: } y' = D W x + \beta' \ \Rightarrow\ \text{an affine subspace of dim} \le C_{in}",
        r"\text{residual: } y = W x + s,\ s \in \mathbb{R}^{C_{out}} \text{ free};\quad "
        r"\text{ReLU: } \max(0, Wx) \text{ leaves the subspace}",
        rf"\det [w_{{a,z}}]_{{a,z<2}} = {_L(minor)} \ne 0 \Rightarrow "
        rf"\operatorname{{rank}}\,[w_{{a,z}}]_{{6\times 2}} = {small_rank}",
    )
    return Proof(holds, lines, {"symbolic_6x2_rank": small_rank})


def linear_collapse() -> Proof:
    """W2 (W1 X) = (W2 W1) X, and rank(W2 W1) <= the middle width."""
    W1 = sp.MatrixSymbol("W_1", d, C_in)
    W2 = sp.MatrixSymbol("W_2", C_out, d)
    X = sp.MatrixSymbol("X", C_in, P)
    b1 = sp.MatrixSymbol("b_1", d, 1)
    b2 = sp.MatrixSymbol("b_2", C_out, 1)
    assoc = (W2 * (W1 * X)) == ((W2 * W1) * X)
    entry = (W2 * W1)[o, i]
    bias_ok = sp.expand(W2 * (W1 * X + b1) + b2) == sp.expand((W2 * W1) * X + (W2 * b1 + b2))
    holds = bool(assoc) and bool(bias_ok)
    lines = (
        r"W_2 (W_1 X) = (W_2 W_1) X",
        rf"(W_2 W_1)_{{o,i}} = {_L(entry)}",
        r"W_2 (W_1 x + b_1) + b_2 = (W_2 W_1) x + (W_2 b_1 + b_2)",
        r"\operatorname{rank}(W_2 W_1) \le \min(\operatorname{rank} W_1, \operatorname{rank} W_2) \le d",
    )
    return Proof(holds, lines)


def batchnorm_fold() -> Proof:
    """gamma (W x + b - mu) / sigma + beta = (gamma/sigma W) x + (beta + gamma (b - mu) / sigma)."""
    gamma, beta, mu, var, eps = sp.symbols("gamma beta mu v epsilon", positive=True)
    sigma = sp.sqrt(var + eps)
    conv = sp.Sum(w[i] * x[i], (i, 0, C_in - 1)) + b[0]
    lhs = gamma * (conv - mu) / sigma + beta
    rhs = sp.Sum(gamma / sigma * w[i] * x[i], (i, 0, C_in - 1)) + beta + gamma * (b[0] - mu) / sigma
    holds = _eq(lhs, rhs)
    lines = (
        rf"\sigma = {_L(sigma)}",
        rf"\mathrm{{BN}}(y) = {_L(lhs)}",
        rf"= {_L(rhs)}",
        r"W' = \frac{\gamma}{\sigma} W,\qquad b' = \beta + \frac{\gamma (b - \mu)}{\sigma}"
        r"\ \ (b = 0:\ b' = \beta - \frac{\gamma\mu}{\sigma})",
    )
    return Proof(holds, lines)


def block_budget() -> Proof:
    """Weights of the blocks for width p (block input 4p), from the parameter count of each conv."""
    p = sp.Symbol("p", **_pos)

    def conv_weights(cin: sp.Expr, cout: sp.Expr, k: int) -> sp.Expr:
        return sp.Sum(1, (o, 0, cout - 1), (i, 0, cin - 1), (u, 0, k - 1), (v, 0, k - 1)).doit()

    bottleneck = sp.expand(conv_weights(4 * p, p, 1) + conv_weights(p, p, 3) + conv_weights(p, 4 * p, 1))
    basic = sp.expand(2 * conv_weights(p, p, 3))
    wide = sp.expand(2 * conv_weights(4 * p, 4 * p, 3))
    shortcut = sp.expand(conv_weights(4 * p, 4 * p, 1))
    ratio_basic = sp.cancel(bottleneck / basic)
    ratio_wide = sp.cancel(wide / bottleneck)
    ratio_proj = sp.cancel((bottleneck + shortcut) / bottleneck)
    holds = bool(ratio_basic < 1) and bool(ratio_wide > 1) and bool(1 < ratio_proj < 2)
    lines = (
        rf"\text{{bottleneck}}\ (4p\to p\to p\to 4p):\ {_L(bottleneck)}",
        rf"\text{{basic}}\ (2\times 3{{\times}}3,\ p):\ {_L(basic)},\qquad"
        rf"\frac{{\text{{bottleneck}}}}{{\text{{basic}}}} = {_L(ratio_basic)}",
        rf"2\times 3{{\times}}3\ \text{{at}}\ 4p:\ {_L(wide)} = {_L(ratio_wide)}\times\text{{bottleneck}}",
        rf"\text{{projection}}\ 4p\to 4p:\ {_L(shortcut)},\qquad"
        rf"\frac{{\text{{bottleneck}} + \text{{projection}}}}{{\text{{bottleneck}}}} = {_L(ratio_proj)}",
    )
    figures = {
        "bottleneck_per_p2": int(bottleneck / p**2),
        "basic_per_p2": int(basic / p**2),
        "two_3x3_wide_per_p2": int(wide / p**2),
        "projection_per_p2": int(shortcut / p**2),
    }
    return Proof(holds, lines, figures)
