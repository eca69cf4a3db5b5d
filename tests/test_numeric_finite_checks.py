"""The one-pass checks behind conv2d and the folded block: finiteness by row sums, norms by dot products.

Each is compared with an independent reference: ``np.isfinite`` over every entry, and sums of squares
computed exactly in Python Fractions. The overflow rule of conv2d is checked where float rounding
alone could carry an output past the largest float.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import verifier.numeric.conv as conv_module
from verifier import VerifierError
from verifier.numeric import _guards, conv2d

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _exact_square_sum(arr: np.ndarray) -> Fraction:
    return sum((Fraction(float(v)) ** 2 for v in arr.ravel()), Fraction(0))


def _arrays(dtype: np.dtype, allow_nonfinite: bool) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5),
        elements=st.floats(width=dtype.itemsize * 8, allow_nan=allow_nonfinite, allow_infinity=allow_nonfinite),
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_all_finite_agrees_with_isfinite_on_every_layout(dtype, data):
    arr = data.draw(_arrays(dtype, allow_nonfinite=True))
    views = [arr, arr.T, arr[..., ::2], np.asfortranarray(arr)]
    if arr.ndim >= 2:
        views.append(arr.reshape(arr.shape[0], -1)[:, ::-1])  # negative strides: no BLAS, the exact look
    for view in views:
        assert _guards.all_finite(view) == bool(np.isfinite(view).all())


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_all_finite_is_not_fooled_by_sums_that_overflow_or_cancel(dtype):
    big = np.finfo(dtype).max
    rows = np.array([[big, big, -big], [1.0, 2.0, 3.0]], dtype)  # row sum overflows, every entry finite
    assert _guards.all_finite(rows)
    assert not _guards.all_finite(np.array([[np.inf, -np.inf], [1.0, 1.0]], dtype))  # inf - inf is NaN, not 0
    for position in np.ndindex(3, 4):
        arr = np.ones((3, 4), dtype)
        arr[position] = np.nan
        assert not _guards.all_finite(arr) and not _guards.all_finite(arr[None, None])
    assert _guards.all_finite(np.empty((0, 3), dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_square_sum_bound_is_never_below_the_exact_sum(dtype, data):
    arr = data.draw(_arrays(dtype, allow_nonfinite=False))
    bound = _guards._square_sum_bound(arr)
    exact = _exact_square_sum(arr)
    if math.isfinite(bound):
        assert Fraction(bound) >= exact
        slack = Fraction(2 * arr.size) * Fraction(float(np.finfo(dtype).eps))  # twice gamma_n
        floor = arr.size * Fraction(float(np.finfo(dtype).tiny)) * 2
        assert Fraction(bound) <= exact * (1 + slack) * (1 + Fraction(1, 2**46)) + floor  # the float64 slack
    else:  # only when the squares (nearly) leave the dtype
        assert exact * 2 > Fraction(float(np.finfo(dtype).max))
    norm = _guards.finite_norm("w", arr)
    assert norm == math.inf or Fraction(norm) ** 2 >= exact


def test_the_square_sum_bound_adds_chunk_by_chunk(monkeypatch):
    arr = np.linspace(-3, 3, 1000, dtype=np.float32)
    whole = _guards._square_sum_bound(arr)
    monkeypatch.setattr(_guards, "_DOT_CHUNK", 7)
    chunked = _guards._square_sum_bound(arr)
    exact = _exact_square_sum(arr)
    assert Fraction(chunked) >= exact and Fraction(whole) >= exact
    assert chunked == pytest.approx(whole, rel=1e-3)  # gamma of 7 terms is smaller than of 1000


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_the_square_sum_bound_is_inf_for_nonfinite_or_noncontiguous_arrays(dtype):
    assert _guards._square_sum_bound(np.array([1.0, np.nan], dtype)) == math.inf
    assert _guards._square_sum_bound(np.array([1.0, -np.inf], dtype)) == math.inf
    assert _guards._square_sum_bound(np.ones((4, 4), dtype)[:, ::2]) == math.inf
    assert Fraction(_guards._square_sum_bound(np.ones((4, 4), dtype, order="F"))) >= 16


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_finite_norm_refuses_nonfinite_entries_by_name_and_bounds_huge_ones(dtype):
    with pytest.raises(VerifierError, match=r"weight has 1 NaN and 0 infinite entries \(first at index \[1, 0\]\)"):
        _guards.finite_norm("weight", np.array([[1.0], [np.nan]], dtype))
    big = np.full((2, 3), np.finfo(dtype).max / 2, dtype)  # squares overflow: the largest magnitude decides
    norm = _guards.finite_norm("input", big)
    assert norm == math.inf or Fraction(norm) ** 2 >= _exact_square_sum(big)
    assert math.isfinite(_guards.finite_norm("input", np.full((2, 3), math.sqrt(np.finfo(dtype).max), dtype)))
    strided = np.arange(12.0, dtype=dtype).reshape(3, 4)[:, ::2]
    assert Fraction(_guards.finite_norm("input", strided)) ** 2 >= _exact_square_sum(strided)
    assert _guards.finite_norm("input", np.empty((0,), dtype)) == 0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gamma_is_highams_formula(dtype):
    u = Fraction(float(np.finfo(dtype).eps)) / 2
    for n in (1, 2, 576, 10**6):
        assert Fraction(_guards.gamma(n, dtype)) == pytest.approx(n * u / (1 - n * u), rel=1e-12)
    assert _guards.gamma(int(1 / u), dtype) == math.inf
    assert math.isfinite(_guards.gamma(int(1 / u) - 1, dtype))


def test_an_output_that_rounding_could_carry_past_the_largest_float_is_looked_at(monkeypatch):
    """|x| |w| is one float32 step below the largest float: exact arithmetic stays finite, but the bound
    times (1 + gamma) does not, so the result must be examined (and here it is finite, and returned)."""
    top = np.finfo(np.float32).max
    x = np.array([[[[np.nextafter(top, np.float32(0))]]]], np.float32)
    w = np.ones((1, 1, 1, 1), np.float32)
    looked = []
    original = conv_module.ensure_finite_result
    monkeypatch.setattr(
        conv_module, "ensure_finite_result", lambda out, arr, *a: looked.append(1) or original(out, arr, *a)
    )
    assert conv2d(x, w)[0, 0, 0, 0] == x[0, 0, 0, 0]
    assert looked == [1]
    looked.clear()
    conv2d(np.full((1, 1, 2, 2), 1e30, np.float32), w)  # far below: no second look
    conv2d(np.full((1, 1, 1, 1), 0.6 * float(top), np.float32), w)  # the bound and its rounding stay below too
    assert looked == []
