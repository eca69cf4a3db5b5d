"""Exactness at the edges of the representable: integers around and beyond 2**53, where float64 rounds.

The exact paths (Python ints and Fractions in object arrays, and int64 while it cannot overflow) must
still equal SymPy's derivation evaluated in exact arithmetic, to the unit; the float64 path on the same
values must be seen to round, and the cross-check must report that error rather than hide it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import Bottleneck, Conv2d, VerifierError
from verifier import symbolic as sym
from verifier.crosscheck import crosscheck_bottleneck, exact_pixel
from verifier.numeric import bottleneck_forward, bottleneck_input, bottleneck_params, conv2d, reference

#: Magnitudes at and past float64's 53-bit significand, and past int64.
EDGES = [2**53 - 1, 2**53, 2**53 + 1, 2**62 + 3, 2**64 + 1, 2**100 + 7, 3**80]


def _object(values: Any) -> np.ndarray:
    """An object array of Python ints (never NumPy integers) with the shape of ``values``."""
    arr = np.asarray(values, dtype=object)
    out = np.empty(arr.shape, object)
    out[...] = arr.tolist() if arr.ndim else arr.item()
    return out


@st.composite
def big_cases(draw: Any) -> tuple[Conv2d, np.ndarray, np.ndarray, np.ndarray | None]:
    groups = draw(st.integers(1, 2))
    conv = Conv2d(
        groups * draw(st.integers(1, 2)),
        groups * draw(st.integers(1, 2)),
        draw(st.integers(1, 3)),
        stride=draw(st.integers(1, 2)),
        padding=draw(st.integers(0, 1)),
        groups=groups,
        bias=draw(st.booleans()),
    )
    size = draw(st.integers(conv.kernel_pair[0], 4))
    magnitude = st.sampled_from(EDGES)
    signed = st.builds(lambda m, s, d: s * (m + d), magnitude, st.sampled_from([-1, 1]), st.integers(-3, 3))
    x = _object(
        draw(st.lists(signed, min_size=conv.in_channels * size * size, max_size=conv.in_channels * size * size))
    )
    w = _object(draw(st.lists(signed, min_size=conv.weight_count, max_size=conv.weight_count)))
    b = _object(draw(st.lists(signed, min_size=conv.out_channels, max_size=conv.out_channels))) if conv.bias else None
    return conv, x.reshape(conv.in_channels, size, size), w.reshape(conv.weight_shape), b


@settings(max_examples=20, deadline=None)
@given(case=big_cases())
def test_python_int_conv_equals_sympys_exact_derivation_beyond_float64_and_int64(
    case: tuple[Conv2d, np.ndarray, np.ndarray, np.ndarray | None],
) -> None:
    conv, x, w, b = case
    got = conv2d(x, w, b, stride=conv.stride, padding=conv.padding, groups=conv.groups)
    assert all(type(v) is int for v in got.ravel())
    derived = sym.output_tensor(conv, x.shape[1:], weight=w, bias=b, input=x)
    assert got.tolist() == [[[int(v) for v in row] for row in plane] for plane in derived.tolist()]
    loops = reference.conv2d(
        x.tolist(), w.tolist(), None if b is None else b.tolist(), conv.stride, conv.padding, 1, conv.groups
    )
    assert got.tolist() == loops


def test_float64_rounds_where_int64_and_python_ints_stay_exact() -> None:
    # One 1x1 conv over two maps: 1 * (2**53) + 1 * 1 = 2**53 + 1, which float64 cannot hold.
    x = np.array([[[2**53]], [[1]]], dtype=np.int64)
    w = np.array([[[[1]], [[1]]]], dtype=np.int64)
    exact = sym.output_map(Conv2d(2, 1, 1, bias=False), 0, (0, 0), (1, 1), weight=w, input=x)
    assert exact == sp.Integer(2**53 + 1)
    assert conv2d(x, w)[0, 0, 0] == 2**53 + 1  # int64: exact
    assert conv2d(_object(x), _object(w))[0, 0, 0] == 2**53 + 1  # Python ints: exact
    as_float = conv2d(x.astype(np.float64), w.astype(np.float64))[0, 0, 0]
    assert as_float != exact and Fraction(float(as_float)) == 2**53  # float64: rounded down by one


def test_int64_refuses_sums_it_cannot_hold_rather_than_wrapping() -> None:
    x = np.full((1, 2, 1, 1), 2**62, dtype=np.int64)
    w = np.ones((1, 2, 1, 1), dtype=np.int64)
    with pytest.raises(VerifierError, match="could overflow int64"):
        conv2d(x, w)
    assert conv2d(_object(x), _object(w))[0, 0, 0, 0] == 2**63


@settings(max_examples=15, deadline=None)
@given(
    num=st.sampled_from(EDGES),
    den=st.sampled_from([3, 7, 2**60 + 1, 10**30]),
    sign=st.sampled_from([-1, 1]),
)
def test_fractions_with_huge_parts_are_summed_exactly(num: int, den: int, sign: int) -> None:
    x = _object([[[Fraction(sign * num, den)]], [[Fraction(1, den + 1)]]])
    w = _object([[[[Fraction(den, 3)]], [[num]]]])
    got = conv2d(x, w)[0, 0, 0]
    assert got == Fraction(sign * num, 3) + Fraction(num, den + 1)
    derived = sym.output_map(Conv2d(2, 1, 1, bias=False), 0, (0, 0), (1, 1), weight=w, input=x)
    assert derived == sp.Rational(got.numerator, got.denominator)


def test_exact_bottleneck_on_huge_integers_equals_the_exact_derivation() -> None:
    block = Bottleneck(8, 2, stride=2)  # with a projection shortcut and a strided 3x3
    params = bottleneck_params(block, seed=1, dtype="object", integer=True)
    small = bottleneck_input(block, 1, 5, seed=2, dtype="object", integer=True)
    x = _object([[[[int(v) * 2**60 + 1 for v in row] for row in ch] for ch in im] for im in small.tolist()])
    y = bottleneck_forward(x, params)
    ho, wo = y.shape[2:]
    for r in range(ho):
        for c in range(wo):
            assert list(y[0, :, r, c]) == exact_pixel(params, x[0], (r, c)), (r, c)


def test_the_crosscheck_reports_float_rounding_on_data_past_two_to_the_53() -> None:
    block = Bottleneck(8, 2)
    params = bottleneck_params(block, seed=0, dtype="float64", integer=True)
    small = bottleneck_input(block, 1, 5, seed=1, dtype="float64", integer=True)
    huge = small * 2.0**52 + 1.0  # integer-valued, but sums of them leave float64's significand
    result = crosscheck_bottleneck(block, (5, 5), dtype="float64", data=(huge, params))
    assert result.max_abs_error > 0, result
    assert result.as_dict()["max_abs_error"] == result.max_abs_error > 0
    # On the engine's own small integers everything is exact, and it says so.
    calm = crosscheck_bottleneck(block, (5, 5), dtype="float64", data=(small, params))
    assert calm.exact and calm.max_abs_error == 0.0, calm
