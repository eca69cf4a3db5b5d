"""The one definition of a convolution is what every engine computes.

With sizes substituted and its sums done by SymPy, the definition equals the derivation engine's maps on a grid
of small specs (groups, stride, padding including "same", dilation, bias); on numbers it equals the plain loop
reference and NumPy's conv2d exactly (integers). The full-width 1x1 layers of the thread are compared map by map
in theorem 1 (tests/test_theorems.py). Its sums over symbolic ranges count what a hand count gives.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from verifier.numeric import conv2d, reference
from verifier.spec import Conv2d
from verifier.symbolic import definition as D
from verifier.symbolic import output_map, taps

# (C_in, C_out, kernel, stride, padding, dilation, groups, bias, input size)
GRID = [
    (2, 3, 1, 1, 0, 1, 1, True, (2, 2)),
    (4, 2, 1, 1, 0, 1, 2, False, (1, 2)),
    (1, 1, 3, 1, 1, 1, 1, True, (3, 3)),
    (2, 2, 3, 2, 1, 1, 1, False, (4, 5)),
    (4, 6, 3, 2, 1, 1, 2, True, (4, 5)),
    (2, 2, 3, 1, "same", 2, 1, True, (5, 4)),
    (3, 3, (2, 3), (1, 2), (0, 1), (2, 1), 3, False, (4, 4)),
    (2, 4, 2, 1, "same", 1, 2, True, (3, 3)),
    (1, 2, (1, 3), 1, "valid", 1, 1, True, (2, 4)),
]


def _conv(spec: tuple) -> tuple[Conv2d, tuple[int, int]]:
    cin, cout, k, s, p, d, g, b, size = spec
    return Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=g, bias=b), size


@pytest.mark.parametrize("spec", GRID, ids=lambda s: "-".join(map(str, s[:8])))
def test_the_definition_equals_the_engines_maps_at_every_kind_of_position(spec: tuple) -> None:
    conv, size = _conv(spec)
    ho, wo = conv.output_size(*size)
    assert D.output_size(conv, size) == (ho, wo)
    corners_and_centre = {(0, 0), (0, wo - 1), (ho - 1, 0), (ho - 1, wo - 1), (ho // 2, wo // 2)}
    for o, (r, c) in itertools.product(range(conv.out_channels), sorted(corners_and_centre)):
        assert D.expand(conv, o, (r, c), size) == output_map(conv, o, (r, c), size), (conv, o, r, c)
    for o, r, c in itertools.product(range(conv.out_channels), range(ho), range(wo)):  # every position, by indices
        pairs = {(t.o, t.i, t.u, t.v, t.channel, t.h, t.w) for t in taps(conv, o, (r, c), size)}
        assert {(*wi, *xi) for wi, xi in D.products(conv, o, (r, c), size)} == pairs


@pytest.mark.parametrize("spec", GRID, ids=lambda s: "-".join(map(str, s[:8])))
def test_the_definition_on_integers_equals_the_loop_reference_and_numpy(spec: tuple) -> None:
    conv, size = _conv(spec)
    rng = np.random.default_rng(sum(map(hash, map(str, spec))) % 2**32)
    x = rng.integers(-9, 10, size=(conv.in_channels, *size))
    w = rng.integers(-9, 10, size=conv.weight_shape)
    b = rng.integers(-9, 10, size=conv.out_channels) if conv.bias else None
    by_definition = D.evaluate(conv, x, w, b)
    args = {"stride": conv.stride, "padding": conv.padding, "dilation": conv.dilation, "groups": conv.groups}
    loops = np.array(reference.conv2d(x.tolist(), w.tolist(), None if b is None else b.tolist(), **args))
    fast = conv2d(x[None], w, b, **args)[0]
    assert by_definition.shape == loops.shape == fast.shape
    assert (by_definition == loops).all() and (by_definition == fast).all()


def test_a_hand_written_1x1_map_is_what_the_definition_gives() -> None:
    x0, x1, w0, w1, b0 = map(sp.Symbol, ["x_{0,0,1}", "x_{1,0,1}", "w_{1,0,0,0}", "w_{1,1,0,0}", "b_{1}"])
    assert D.expand(Conv2d(2, 2, 1), 1, (0, 1), (1, 2)) == b0 + w0 * x0 + w1 * x1


def test_products_on_padding_are_left_out() -> None:
    conv = Conv2d(1, 1, 3, padding=1, bias=False)
    corner = D.products(conv, 0, (0, 0), (3, 3))
    assert [(wi[2], wi[3]) for wi, _ in corner] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert D.expand(conv, 0, (1, 1), (3, 3)).count(sp.Mul) == 9


def test_the_definitions_ranges_count_maps_weights_and_products() -> None:
    assert D.count(D.OUTPUTS[:2]) == D.C_out
    assert sp.simplify(D.count(D.OUTPUTS[:2], D.TERMS) - D.C_out * D.C_in * D.k_h * D.k_w / D.g) == 0
    conv = Conv2d(64, 64, 3, padding=1, groups=8)
    at = D.sizes(conv, (56, 56))
    assert D.count(D.OUTPUTS[:2], D.TERMS, at=at) == 64 * 8 * 9 == 4608
    assert D.count(D.OUTPUTS, D.TERMS, at=at) == 56 * 56 * 4608


def test_the_definition_reads_sizes_from_the_layers_arguments_only() -> None:
    conv = Conv2d(6, 4, (3, 1), stride=1, padding="same", dilation=(1, 2), groups=2)
    at = D.sizes(conv, (7, 5))
    assert (at[D.C_in], at[D.C_out], at[D.g], at[D.k_h], at[D.k_w], at[D.H], at[D.W]) == (6, 4, 2, 3, 1, 7, 5)
    assert (at[D.pad_top], at[D.pad_bottom], at[D.pad_left], at[D.pad_right]) == (1, 1, 0, 0)


def test_the_printed_count_formulas_are_the_definitions_ranges_counted() -> None:
    """The formulas the theorems and the site print, read back, equal the counts of the sum's ranges."""
    names = {str(s): s for s in (D.C_in, D.C_out, D.g, D.k_h, D.k_w)} | {"H_out": D.H_out, "W_out": D.W_out}
    weights = sp.parse_expr(D.WEIGHTS_TEXT, local_dict=names)  # a constant of the package, not user input
    macs = sp.parse_expr(D.MACS_TEXT, local_dict=names)
    assert sp.simplify(weights - D.C_out * D.count(D.TERMS)) == 0
    assert sp.simplify(macs - D.count(D.OUTPUTS, D.TERMS)) == 0
    assert D.MACS_LATEX.endswith(D.WEIGHTS_LATEX) and D.MACS_LATEX.startswith(r"H_{out}\,W_{out}")
    from verifier.theorems import get_theorem

    assert D.MACS_LATEX in get_theorem("mac-count").latex and D.WEIGHTS_LATEX in get_theorem("parameter-count").latex
