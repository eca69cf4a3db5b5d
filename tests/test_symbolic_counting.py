"""Counts read off derivations agree with independent counts: enumerations, SymPy's own tools, NumPy ranks."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import Conv2d, VerifierError, VerifierTypeError
from verifier import symbolic as sym
from verifier.symbolic import (
    bias_vector,
    count_free_symbols,
    count_multiplications,
    derived_macs,
    free_symbols,
    input_tensor,
    jacobian,
    linear_coefficients,
    output_map,
    rank_lower_bound,
    symbol_grid,
    taps,
    weight_tensor,
)


# -- tensors -------------------------------------------------------------------------------------
def test_weight_tensor_has_one_distinct_named_symbol_per_oihw_index():
    conv = Conv2d(6, 4, (2, 3), groups=2)
    w = weight_tensor(conv)
    assert w.shape == (4, 3, 2, 3)
    names = {str(w[idx]) for idx in itertools.product(*map(range, w.shape))}
    assert names == {
        f"w_{{{o},{i},{u},{v}}}" for o, i, u, v in itertools.product(range(4), range(3), range(2), range(3))
    }
    assert sp.latex(w[1, 2, 0, 1]) == "w_{1,2,0,1}"


def test_tensors_are_cached_and_equal_to_freshly_made_symbols():
    conv = Conv2d(3, 2, 1)
    assert weight_tensor(conv) is weight_tensor(conv)
    assert bias_vector(conv)[1] == sp.Symbol("b_{1}")
    assert input_tensor(2, 3, 4)[1, 2, 3] == sp.Symbol("x_{1,2,3}")
    assert weight_tensor(conv).tolist() == sp.Array(weight_tensor(conv)).tolist()


def test_fast_indexing_agrees_with_sympys_indexing():
    grid = symbol_grid("g", (2, 3, 4))
    plain = sp.ImmutableDenseNDimArray(list(grid._array), (2, 3, 4))
    for idx in itertools.product(range(2), range(3), range(4)):
        assert grid[idx] == plain[idx]
    assert grid[1, :, 0] == plain[1, :, 0]
    assert grid[-1, -1, -1] == plain[-1, -1, -1]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: weight_tensor(Conv2d(1, 1, 1), name="1w"), VerifierError, r"name must be a letter .* got '1w'"),
        (lambda: weight_tensor(Conv2d(1, 1, 1), name=3), VerifierTypeError, r"name must be a str, got 3 \(int\)"),
        (lambda: input_tensor(0, 1, 1), VerifierError, r"channels must be a positive int, got 0"),
        (lambda: weight_tensor("conv"), VerifierTypeError, r"conv must be a verifier.Conv2d, got 'conv'"),
    ],
)
def test_bad_tensor_arguments_name_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- counts ------------------------------------------------------------------------------------
def test_free_symbols_of_tensors_count_the_parameters():
    for conv in (Conv2d(6, 4, 3, groups=2), Conv2d(5, 7, (1, 2)), Conv2d(4, 4, 3, groups=4, bias=False)):
        counted = count_free_symbols([weight_tensor(conv), bias_vector(conv)])
        assert counted == math.prod(conv.weight_shape) + (conv.out_channels if conv.bias else 0)


def test_multiplications_match_sympys_operation_count_on_products_and_powers():
    x, y, z = sp.symbols("x y z")
    for expr in (x * y * z + 2 * x, x**3 * y, (x + y) * z, sp.Integer(5), x):
        assert count_multiplications(expr) == sp.count_ops(expr, visual=True).coeff(sp.Symbol("MUL")) + sum(
            int(p.exp) - 1 for p in expr.atoms(sp.Pow) if p.exp.is_Integer and p.exp > 1
        )


@st.composite
def convs(draw):
    groups = draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    conv = Conv2d(
        groups * draw(st.integers(1, 2)),
        groups * draw(st.integers(1, 2)),
        kernel,
        stride=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        groups=groups,
    )
    extent = [d * (k - 1) + 1 for k, d in zip(conv.kernel_pair, conv.dilation_pair, strict=True)]
    return conv, (draw(st.integers(extent[0], extent[0] + 3)), draw(st.integers(extent[1], extent[1] + 3)))


@settings(max_examples=40, deadline=None)
@given(convs())
def test_derived_macs_count_the_products_of_every_derived_map(case):
    conv, size = case
    ho, wo = conv.output_size(*size)
    products = sum(
        count_multiplications(output_map(conv, o, (r, c), size))
        for o in range(conv.out_channels)
        for r in range(ho)
        for c in range(wo)
    )
    assert derived_macs(conv, size) == products


@settings(max_examples=40, deadline=None)
@given(convs())
def test_counting_padded_zeros_gives_the_frameworks_closed_form(case):
    conv, size = case
    (top, bottom), (left, right) = conv.padding_amounts
    # An independent count: every tap of every window over the zero-padded input is one product.
    padded = Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, 0, conv.dilation, conv.groups)
    with_zeros = derived_macs(padded, (size[0] + top + bottom, size[1] + left + right))
    assert with_zeros == conv.macs((conv.in_channels, *size))
    assert derived_macs(conv, size) <= with_zeros


def test_taps_list_matches_the_derived_products():
    conv = Conv2d(4, 2, 3, padding=1, groups=2)
    expr = output_map(conv, 1, (0, 1), (3, 3))
    t = taps(conv, 1, (0, 1), (3, 3))
    assert len(t) == count_multiplications(expr) == 2 * 2 * 3
    assert {t_.channel for t_ in t} == {2, 3}


def test_linear_coefficients_are_the_derivatives():
    conv = Conv2d(3, 2, 2, padding=1)
    x = input_tensor(3, 2, 2)
    variables = list(x._array)
    expr = output_map(conv, 1, (1, 1), (2, 2))
    const, coeffs = linear_coefficients(expr, variables)
    assert const == bias_vector(conv)[1]
    assert {v: sp.diff(expr, v) for v in variables if sp.diff(expr, v) != 0} == coeffs


def test_nonlinear_terms_are_refused():
    x, y, a = sp.symbols("x y a")
    with pytest.raises(VerifierError, match=r"not linear in the variables: term x\*y"):
        linear_coefficients(x * y + a, [x, y])
    with pytest.raises(VerifierError, match=r"not linear"):
        linear_coefficients(x**2, [x])


def test_free_symbols_reject_non_expressions():
    with pytest.raises(VerifierError, match=r"expected a SymPy expression"):
        free_symbols(object())


# -- ranks -------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_rank_modulo_p_equals_sympys_exact_rank_on_small_products(rows, inner, cols, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-3, 4, (rows, inner)) @ rng.integers(-3, 4, (inner, cols))
    assert rank_lower_bound(a) == sp.Matrix(a.tolist()).rank()


def test_rank_accepts_big_integers_and_sympy_matrices():
    big = [[2**70, 1], [2**71, 2]]
    assert rank_lower_bound(big) == 1
    assert rank_lower_bound(sp.Matrix([[1, 2], [3, 4]])) == 2
    with pytest.raises(VerifierError, match=r"2-D matrix of integers"):
        rank_lower_bound([1, 2, 3])


def test_jacobian_of_a_1x1_conv_is_its_weight_matrix():
    conv = Conv2d(3, 2, 1, bias=False)
    maps = [output_map(conv, o, (0, 0), (1, 1)) for o in range(2)]
    x = [input_tensor(3, 1, 1)[i, 0, 0] for i in range(3)]
    w = weight_tensor(conv)
    assert jacobian(maps, x) == sp.Matrix(2, 3, lambda o, i: w[o, i, 0, 0])
    assert jacobian(maps, x) == sp.Matrix(maps).jacobian(x)


# -- hardening: bad input, edge cases and attacks ------------------------------------------------------
# -- strings never reach SymPy's parser; non-finite and non-integer values are refused -------------------------
POISON = "__import__('builtins').__dict__.__setitem__('VERIFIER_POISONED', 1) or x"


def test_counting_wants_sympy_objects() -> None:
    for value in (3, "x", 2.5, {"x": 1}):
        message = f"expected a SymPy expression, array, or a list of them, got {type(value).__name__}"
        with pytest.raises(VerifierError, match=re.escape(message)):
            sym.count_multiplications(value)
        with pytest.raises(VerifierError, match=re.escape(message)):
            sym.count_free_symbols([sp.Symbol("x"), value])


def test_a_nonlinear_term_is_refused_by_name() -> None:
    x, y = sp.symbols("x y")
    for expr in (x**2, x * y + 1, sp.sin(x)):
        with pytest.raises(VerifierError, match=re.escape("expression is not linear in the variables: term")):
            sym.linear_coefficients(expr, [x, y])


@pytest.mark.parametrize(
    "call",
    [lambda: sym.linear_coefficients(POISON, [sp.Symbol("x")]), lambda: sym.jacobian([POISON], [sp.Symbol("x")])],
)
def test_linear_forms_refuse_strings_by_type(call: Any) -> None:
    with pytest.raises(VerifierTypeError, match=re.escape("expr must be a SymPy expression, got ")):
        call()
