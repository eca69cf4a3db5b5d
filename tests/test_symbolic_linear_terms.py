"""Proofs that counts and coefficients read off any shape of term equal SymPy's derivatives and hand counts.

The derivation builds terms as weight * input, with the weight first; these cases put the variable first, wrap
coefficients in sums, powers and roots, and repeat variables across terms, so each reading path is met.
"""

from __future__ import annotations

import re

import pytest
import sympy as sp

from verifier import VerifierError, VerifierTypeError
from verifier.symbolic import count_multiplications, linear_coefficients

a, b, c, x, y, z = sp.symbols("a b c x y z")


def _by_derivatives(expr: sp.Expr, variables: list[sp.Symbol]) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """The constant and the coefficients of a linear form, by setting the variables to 0 and differentiating."""
    constant = expr.subs({v: 0 for v in variables})
    return constant, {v: sp.diff(expr, v) for v in variables if expr.has(v)}


@pytest.mark.parametrize(
    ("expr", "variables"),
    [
        (x * y, [x]),  # the variable x sorts before its coefficient y
        (x * y + x * z, [x]),  # and meets x again in a second term
        (x * y + 3 * x + x * z, [x]),
        (x * y + a * b, [x]),  # a product of two non-variables is part of the constant
        (a * x + b * x, [x]),  # the coefficient sorts first, twice
        (a * b + c, [x, y]),
        ((a + 1) * x, [x, y]),  # a coefficient that is a sum
        ((a + 1) * x + a * x, [x, y]),
        (sp.sqrt(2) * a * x + b, [x, y]),  # three factors, one of them a root
        (a**2 * x + a * y + 7, [x, y]),
        (x + y + a, [x, y]),
        (sp.Integer(5), [x, y]),
    ],
    ids=str,
)
def test_coefficients_equal_the_derivatives(expr: sp.Expr, variables: list[sp.Symbol]) -> None:
    constant, coeffs = linear_coefficients(expr, variables)
    expected_constant, expected = _by_derivatives(expr, variables)
    assert sp.expand(constant - expected_constant) == 0
    assert set(coeffs) == set(expected)
    assert all(sp.expand(coeffs[v] - expected[v]) == 0 for v in expected)
    assert linear_coefficients(expr, frozenset(variables)) == (constant, coeffs)


@pytest.mark.parametrize("expr", [x * y, x * y + z, sp.Mul(x, y, evaluate=False), a * x * y], ids=str)
def test_a_product_of_two_variables_is_refused_naming_the_term(expr: sp.Expr) -> None:
    term = next(t for t in sp.Add.make_args(expr) if t.has(x) and t.has(y))
    with pytest.raises(VerifierError, match=re.escape(f"expression is not linear in the variables: term {term}")):
        linear_coefficients(expr, [x, y])


@pytest.mark.parametrize(
    "expr",
    [x**2 * a, sp.Mul(x**2, a, evaluate=False), sp.Mul(sp.sin(x), a, evaluate=False), a * (x + 1) * y],
    ids=str,
)
def test_a_variable_inside_another_factor_is_refused_however_the_factors_are_ordered(expr: sp.Expr) -> None:
    with pytest.raises(VerifierError, match=r"^expression is not linear in the variables: term "):
        linear_coefficients(expr, [x, y])


def test_a_string_is_refused_with_its_type() -> None:
    with pytest.raises(VerifierTypeError, match=re.escape("expr must be a SymPy expression, got 'x*y' (str)")):
        linear_coefficients("x*y", [x])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expr", "products"),
    [
        (x**2, 1),  # x * x
        (x**3, 2),
        (a * x**2, 2),
        (x + 2 * y**3, 3),  # 2 * (y * y * y): one product and two in the power
        (a + b * (c + x * y), 2),
        (a * b * c + sp.sqrt(x), 2),  # a root is not a product
        (x + a**2 * b**2, 3),  # (a * a) * (b * b)
        (1 / x, 0),
    ],
    ids=str,
)
def test_multiplications_are_counted_as_written(expr: sp.Expr, products: int) -> None:
    assert count_multiplications(expr) == products
    assert count_multiplications([expr, expr]) == 2 * products
