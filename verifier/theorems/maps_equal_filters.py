"""Theorem 2: a conv with C_out filters outputs C_out maps; the C_in*C_out products exist only before the sum.

Paths compared: the definition's output and sum ranges (counted for symbolic sizes and at named layers), the
spec's weight shape, and the derivation engine's maps. The asker's C_in*C_out maps are a depthwise conv: its
weights are counted both ways and its maps, summed over the inputs, are the ordinary conv's.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbolic as sym
from ..spec import Conv2d
from ..symbolic import definition as D
from ..symbolic import proofs
from ..symbolic.tensors import symbol_ndarray
from . import _shared as S
from ._core import Findings, Theorem


def _counts(found: Findings, conv: Conv2d) -> None:
    maps = S.engine_maps(conv)
    at = D.sizes(conv, S.where(conv)[1])
    by_definition = int(D.count(D.OUTPUTS[:2], at=at))
    S.agree(
        found,
        "checked",
        f"{conv!r} has as many output maps as filters",
        {"definition": by_definition, "spec's filters": conv.weight_shape[0], "engine's maps": len(set(maps))},
        "maps",
    )
    products = sum(sym.count_multiplications(m) for m in maps)
    S.agree(
        found,
        "checked",
        f"the products w_{{o,i}} x_i of {conv!r} are summed inside its maps",
        {"definition": sum(len(c) for _, c in S.definition_coefficients(conv)), "engine": products},
        "products before the sum",
    )
    found.figures[S.name(conv)] = {
        "filters": conv.weight_shape[0],
        "output_maps": len(set(maps)),
        "products_before_the_sum": products,
    }


def _depthwise(found: Findings) -> None:
    """The asker's n1*n2 maps: a depthwise conv with multiplier r = C_out; filter i*r + f gets w_{f,i}."""
    ordinary = S.thread_convs()[0]
    n1, r = ordinary.in_channels, ordinary.out_channels
    depthwise = Conv2d(n1, n1 * r, 1, groups=n1, bias=False)
    w = symbol_ndarray("w", ordinary.weight_shape)
    relabelled = np.empty(depthwise.weight_shape, dtype=object)
    relabelled[:, 0, 0, 0] = w[:, :, 0, 0].T.ravel()
    dw_maps = sym.output_maps(depthwise, S.PIXEL, S.SIZE, weight=relabelled)
    single = sum(isinstance(e, sp.Mul) and len(e.args) == 2 for e in dw_maps)
    found.equal(
        "checked", f"each of the {n1 * r:,} depthwise maps is one product", "single products", len(dw_maps), single
    )
    at = D.sizes(depthwise)
    S.agree(
        found,
        "checked",
        f"the depthwise conv (groups={n1}, multiplier r={r}) has as many weights as the ordinary {n1}->{r} conv",
        {
            "definition, depthwise": int(D.count(D.OUTPUTS[:2], D.TERMS, at=at)),
            "definition, ordinary": int(D.count(D.OUTPUTS[:2], D.TERMS, at=D.sizes(ordinary))),
            "engine's depthwise weights": sym.count_free_symbols(list(relabelled.flat)),
            "spec, depthwise": depthwise.weight_count,
        },
        "weights",
    )
    coeffs = [c for _, c in S.engine_coefficients(S.with_bias(ordinary))]
    wrong = 0
    for f in range(r):
        summed: dict[sp.Expr, sp.Expr] = {}
        for i in range(n1):
            a, b = dw_maps[i * r + f].args
            x, weight = (a, b) if a.name.startswith("x") else (b, a)
            summed[x] = summed.get(x, 0) + weight
        wrong += summed != coeffs[f]
    found.equal(
        "checked",
        f"summing the depthwise maps over the {n1} inputs gives the {r} ordinary maps",
        "ordinary maps not matched",
        0,
        wrong,
    )
    found.figures["depthwise"] = {
        "maps": len(dw_maps),
        "weights": sym.count_free_symbols(list(relabelled.flat)),
        "ordinary_weights": sym.count_free_symbols(sym.weight_tensor(ordinary)),
        "products_per_map": 1,
    }


def check(found: Findings, layer: Conv2d | None) -> None:
    proof = proofs.maps_equal_filters()
    found.proof.extend(proof.lines)
    found.step(
        "proved",
        "C_out maps from C_out filters; depthwise with multiplier r: C_in*r maps, C_in*r*k_h*k_w "
        "weights, as many as C_in->r",
        proof.holds,
        proof.detail,
    )
    if layer is not None:
        _counts(found, layer)
        return
    for conv in S.thread_convs():
        _counts(found, S.with_bias(conv))  # with b_o: the maps the other theorems read (same products)
    _depthwise(found)


THEOREM = Theorem(
    "maps-equal-filters",
    2,
    "Output maps = filters",
    "A conv with C_out filters outputs C_out maps, not C_in*C_out: the C_in*C_out products exist only before "
    "the sum. A depthwise conv with multiplier r outputs C_in*r maps with as many weights as the ordinary "
    "conv with r filters.",
    r"\#\{y_o\} = C_{out},\qquad \#w_{\text{depthwise},\,r} = C_{in}\, r\, k_h k_w = \#w_{C_{in}\to r}",
    ("the definition's index ranges", "the spec's weight shape", "the derivation engine's maps"),
    True,
    check,
)
