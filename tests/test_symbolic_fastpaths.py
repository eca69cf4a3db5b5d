"""The symbolic engine's shortcuts build exactly what SymPy's own constructors build.

Each shortcut (symbols sharing one assumptions record, arrays stored without re-sympifying, integer-only
sums, coefficient tables read once) is compared with the plain SymPy route on the same input.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from verifier.spec import Conv2d
from verifier.symbolic import count_free_symbols, count_multiplications, linear_coefficients, output_maps, tensors


def test_flat_symbols_are_named_by_row_major_index():
    shape = (2, 11, 1, 3)
    names = [s.name for s in tensors.flat_symbols("w", shape)]
    expected = [f"w_{{{o},{i},{u},{v}}}" for o in range(2) for i in range(11) for u in range(1) for v in range(3)]
    assert names == expected and len(set(names)) == len(names)
    assert type(tensors.flat_symbols("w", shape)) is tensors.PlainSymbols


@pytest.mark.parametrize("groups", [1, 2])
def test_integer_sums_equal_the_fraction_route(groups):
    conv = Conv2d(4, 2, 3, padding=1, groups=groups)
    rng = np.random.default_rng(7)
    w = rng.integers(-(2**70) // 2**10, 2**60, size=conv.weight_shape).astype(object) * (2**20)  # beyond int64
    x = rng.integers(-9, 10, size=(4, 3, 3)).astype(object)
    b = [int(v) for v in rng.integers(-5, 5, size=2)]
    whole = output_maps(conv, (0, 2), (3, 3), weight=w, bias=b, input=x)
    halves = output_maps(  # a denominator anywhere takes the Fraction route; * 2 / 2 restores the value
        conv,
        (0, 2),
        (3, 3),
        weight=w,
        bias=[Fraction(2 * v, 2) + Fraction(1, 2) - Fraction(1, 2) for v in b],
        input=np.vectorize(lambda v: Fraction(v), otypes=[object])(x) + Fraction(1, 3) - Fraction(1, 3),
    )
    symbolic = output_maps(conv, (0, 2), (3, 3))
    values = {
        **dict(zip(tensors.flat_symbols("w", conv.weight_shape), w.ravel(), strict=True)),
        **dict(zip(tensors.flat_symbols("x", (4, 3, 3)), x.ravel(), strict=True)),
        **dict(zip(tensors.flat_symbols("b", (2,)), b, strict=True)),
    }
    by_substitution = tuple(e.xreplace({k: sp.Integer(int(v)) for k, v in values.items()}) for e in symbolic)
    assert whole == halves == by_substitution
    assert all(type(e) is sp.Integer or e.is_Integer for e in whole)


def test_user_symbols_still_take_the_checked_route():
    conv = Conv2d(2, 1, 1, bias=False)
    a = sp.Symbol("a", commutative=False)
    maps = output_maps(conv, (0, 0), (1, 1), weight=[[[[a]], [[a]]]])
    assert maps == (sp.Add(a * sp.Symbol("x_{0,0,0}"), a * sp.Symbol("x_{1,0,0}")),)


def test_linear_coefficients_sum_a_variable_met_in_several_terms():
    a, b, c, x, y = sp.symbols("a b c x y")
    expr = sp.Add(a * x, b * x, 2 * c * x, b * y, 5, evaluate=False)
    const, coeffs = linear_coefficients(expr, [x, y])
    assert const == 5 and coeffs == {x: a + b + 2 * c, y: b}
    assert sp.expand(const + sum(k * v for v, k in coeffs.items()) - expr) == 0


def test_counts_over_nested_lists_equal_counts_of_each_part():
    w = tensors.symbol_grid("w", (3, 2))
    exprs = [w[0, 0] * w[1, 1], [w[2, 0] ** 3, sp.Integer(4)], w]
    assert count_free_symbols(exprs) == 6
    assert count_multiplications(exprs) == 1 + 2
    assert count_free_symbols([list(w), [w[0, 0]]]) == 6


def test_free_symbols_agree_with_sympys_including_bound_variables():
    from verifier.symbolic import free_symbols

    x, y, z, n = sp.symbols("x y z n")
    k = sp.Symbol("k", integer=True)
    exprs = [
        sp.Sum(x * n, (n, 0, 3)) + y**2 * z,  # n is bound inside the sum, free nowhere else
        sp.Integral(x * y, (x, 0, 1)) * x,  # x bound inside, free outside
        sp.Integer(3),
        2 * x ** (y + 1) - sp.Rational(1, 2) * k,
        sp.sin(z) * sp.Max(x, 0),
        sp.Lambda(x, x + y),
    ]
    for expr in exprs:
        assert free_symbols(expr) == expr.free_symbols
    assert free_symbols(exprs) == set().union(*(e.free_symbols for e in exprs))
