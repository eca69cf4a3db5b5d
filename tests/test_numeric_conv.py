"""Proofs that conv2d (verifier/numeric/conv.py) computes what the loop reference computes, by every scheme.

Integer convs must equal :mod:`verifier.numeric.reference` exactly (int64, Python ints, Fractions, and floats
on small integers); float convs agree to rounding. Each shape and dtype runs the scheme meant for it, and the
schemes keep their promises about what they allocate.
"""

from __future__ import annotations

import itertools
import tracemalloc
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from _arrays import as_object as _as_object
from _arrays import ints as _ints
from hypothesis import given, settings
from hypothesis import strategies as st

import verifier.numeric.conv as conv_module
from verifier import VerifierError
from verifier.numeric import _guards, batch_norm, conv2d, reference, relu

GRID = [
    case
    for case in itertools.product(
        [1, 2, 3],  # kernel
        [1, 2],  # stride
        [0, 1, (2, 0), "valid", "same"],  # padding
        [1, 2],  # dilation
        [1, 2],  # groups
        [False, True],  # bias
    )
    if not (case[2] == "same" and case[1] != 1)  # 'same' with a stride is an error, tested on its own
]


@pytest.mark.parametrize(("k", "stride", "padding", "dilation", "groups", "bias"), GRID)
def test_integer_conv2d_equals_the_loop_reference_exactly(
    k: int, stride: int, padding: Any, dilation: int, groups: int, bias: bool
) -> None:
    rng = np.random.default_rng(hash((k, stride, str(padding), dilation, groups, bias)) % 2**32)
    x = _ints(rng, (2, 4, 7, 6))
    w = _ints(rng, (6, 4 // groups, k, k))
    b = _ints(rng, (6,)) if bias else None
    mine = conv2d(x, w, b, stride, padding, dilation, groups)
    theirs = np.array(reference.conv2d(x, w, b, stride, padding, dilation, groups))
    assert mine.dtype == np.int64
    np.testing.assert_array_equal(mine, theirs, err_msg="engine (mine) vs loops (theirs)")


conv_cases = st.fixed_dictionaries(
    {
        "groups": st.sampled_from([1, 2, 3]),
        "per_in": st.integers(1, 3),
        "per_out": st.integers(1, 3),
        "kh": st.integers(1, 4),
        "kw": st.integers(1, 4),
        "stride": st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
        "padding": st.one_of(
            st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)), st.sampled_from(["valid", "same"])
        ),
        "dilation": st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
        "bias": st.booleans(),
        "batched": st.booleans(),
        "h": st.integers(1, 9),
        "w": st.integers(1, 9),
        "seed": st.integers(0, 2**31),
    }
)


def _build(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
    rng = np.random.default_rng(case["seed"])
    g = case["groups"]
    x = _ints(rng, (2, g * case["per_in"], case["h"], case["w"]))
    if not case["batched"]:
        x = x[0]
    w = _ints(rng, (g * case["per_out"], case["per_in"], case["kh"], case["kw"]))
    b = _ints(rng, (g * case["per_out"],)) if case["bias"] else None
    stride = case["stride"]
    padding = case["padding"]
    if padding == "same":
        stride = 1
    options = {"stride": stride, "padding": padding, "dilation": case["dilation"], "groups": g}
    return x, w, b, options


def _too_small(x: np.ndarray, w: np.ndarray, options: dict[str, Any]) -> bool:
    """Whether the dilated kernel overhangs the padded input (an enumeration finds no window)."""
    out = reference.conv2d(x[None] if x.ndim == 3 else x, w, None, **options)
    return not out[0][0] or not out[0][0][0]


@settings(max_examples=120, deadline=None)
@given(case=conv_cases)
def test_random_specs_agree_with_the_loops_in_every_dtype(case: dict[str, Any]) -> None:
    x, w, b, options = _build(case)
    if _too_small(x, w, options):
        with pytest.raises(VerifierError, match="smaller than the dilated kernel"):
            conv2d(x, w, b, **options)
        return
    theirs = np.array(reference.conv2d(x, w, b, **options))
    np.testing.assert_array_equal(conv2d(x, w, b, **options), theirs, err_msg="int64")
    exact = conv2d(_as_object(x), _as_object(w), None if b is None else _as_object(b), **options)
    assert exact.dtype == object
    np.testing.assert_array_equal(exact, theirs, err_msg="object")
    for dtype in (np.float64, np.float32):
        # small integers: every product and sum is exact in both float types, whatever the order
        mine = conv2d(x.astype(dtype), w.astype(dtype), None if b is None else b.astype(dtype), **options)
        assert mine.dtype == dtype
        np.testing.assert_array_equal(mine, theirs.astype(dtype), err_msg=str(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("k", "padding", "dilation", "groups"), [(1, 0, 1, 1), (3, 1, 1, 1), (3, "same", 2, 2), (4, "same", 1, 1)]
)
def test_float_conv2d_matches_the_loops_to_rounding(
    k: int, padding: Any, dilation: int, groups: int, dtype: Any
) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 6, 5)).astype(dtype)
    w = rng.standard_normal((4, 4 // groups, k, k)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    mine = conv2d(x, w, b, padding=padding, dilation=dilation, groups=groups)
    theirs = np.array(
        reference.conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 1, padding, dilation, groups)
    )
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(mine, theirs, rtol=tol, atol=tol, err_msg=f"mine vs loops ({dtype.__name__})")


def test_fraction_inputs_give_exact_fractions() -> None:
    x = np.array([[[[Fraction(1, 3), Fraction(1, 6)]]]], dtype=object)
    w = np.array([[[[Fraction(3, 2)]]]], dtype=object)
    out = conv2d(x, w, np.array([Fraction(-1, 2)], dtype=object))
    assert out.tolist() == [[[[Fraction(0), Fraction(-1, 4)]]]]


def test_same_padding_with_an_even_kernel_puts_the_extra_zero_at_the_bottom_and_right() -> None:
    x = np.arange(1, 17).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2), dtype=np.int64)
    out = conv2d(x, w, padding="same")[0, 0]
    # output (i, j) sums rows i..i+1 and columns j..j+1 (the extra zero lies below and to the right)
    expected = [
        [sum(x[0, 0, r, c] for r in (i, i + 1) for c in (j, j + 1) if r < 4 and c < 4) for j in range(4)]
        for i in range(4)
    ]
    assert out.tolist() == expected


def test_one_by_one_conv_is_a_matrix_product_over_channels() -> None:
    rng = np.random.default_rng(3)
    x = _ints(rng, (3, 256, 5, 4))
    w = _ints(rng, (64, 256, 1, 1))
    expected = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x)
    np.testing.assert_array_equal(conv2d(x, w), expected)
    np.testing.assert_array_equal(conv2d(x.astype(np.float64), w.astype(np.float64)), expected)


def test_float32_stays_float32_and_float64_stays_float64() -> None:
    for dtype in (np.float32, np.float64):
        x = np.ones((1, 2, 3, 3), dtype)
        assert conv2d(x, np.ones((1, 2, 3, 3), dtype), np.ones(1, dtype)).dtype == dtype
        assert relu(x).dtype == dtype
        assert batch_norm(x, np.zeros(2, dtype), np.ones(2, dtype)).dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_by_one_conv_split_into_parallel_bands_is_exact(dtype: Any) -> None:
    """Enough pixels for several bands; integer data keeps every float sum exact, so bands must not show."""
    rng = np.random.default_rng(8)
    x = _ints(rng, (2, 6, 48, 50))
    w = _ints(rng, (4, 3, 1, 1))
    b = _ints(rng, (4,))
    expected = np.einsum("oc,nchw->nohw", w[:2, :, 0, 0], x[:, :3]) + b[:2, None, None]
    expected = np.concatenate([expected, np.einsum("oc,nchw->nohw", w[2:, :, 0, 0], x[:, 3:]) + b[2:, None, None]], 1)
    mine = conv2d(x.astype(dtype), w.astype(dtype), b.astype(dtype), groups=2)
    np.testing.assert_array_equal(mine, expected.astype(dtype))


FAST = settings(max_examples=30, deadline=None)


def test_the_largest_safe_integer_conv_is_computed_exactly() -> None:
    value = 2**31 - 1
    x = np.full((1, 2, 1, 1), value, dtype=np.int64)
    w = np.full((1, 2, 1, 1), value, dtype=np.int64)
    assert conv2d(x, w)[0, 0, 0, 0] == 2 * value * value
    assert 2 * value * value < 2**63


@st.composite
def valid_convs(draw: Any, max_size: int = 7) -> dict[str, Any]:
    """A random valid conv on a small input: every argument of conv2d, and whether the input is batched."""
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if draw(st.booleans()):
        stride: Any = 1
        padding: Any = draw(st.sampled_from(["same", "valid", 0, 1, (0, 2)]))
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    pad_h = 0 if padding in ("same", "valid") else (padding if isinstance(padding, int) else padding[0])
    pad_w = 0 if padding in ("same", "valid") else (padding if isinstance(padding, int) else padding[1])
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * pad_h), max_size))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * pad_w), max_size))
    batch = draw(st.sampled_from([None, 1, 2]))
    shape = (cin, h, w) if batch is None else (batch, cin, h, w)
    return {
        "x_shape": shape,
        "w_shape": (cout, cin // groups, kh, kw),
        "bias": draw(st.booleans()),
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def _operands(case: dict[str, Any], low: int, high: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(case["seed"])
    x = rng.integers(low, high, case["x_shape"])
    w = rng.integers(low, high, case["w_shape"])
    b = rng.integers(low, high, case["w_shape"][0]) if case["bias"] else None
    return x, w, b


def _args(case: dict[str, Any]) -> dict[str, Any]:
    return {k: case[k] for k in ("stride", "padding", "dilation", "groups")}


@settings(max_examples=40, deadline=None)
@given(case=valid_convs())
def test_integer_conv_equals_the_loop_reference_exactly(case: dict[str, Any]) -> None:
    x, w, b = _operands(case, -9, 10)
    expected = reference.conv2d(x.tolist(), w.tolist(), None if b is None else b.tolist(), **_args(case))
    got = conv2d(x, w, b, **_args(case))
    assert got.dtype == np.int64
    assert got.tolist() == expected, f"engine {got.tolist()} vs loops {expected} for {case}"
    exact = conv2d(x.astype(object), w.astype(object), None if b is None else b.astype(object), **_args(case))
    assert exact.tolist() == expected
    assert all(type(v) is int for v in exact.ravel())


@settings(max_examples=30, deadline=None)
@given(case=valid_convs(), dtype=st.sampled_from([np.float32, np.float64]))
def test_float_conv_equals_the_loop_reference_to_rounding(case: dict[str, Any], dtype: Any) -> None:
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    w = rng.standard_normal(case["w_shape"]).astype(dtype)
    b = rng.standard_normal(case["w_shape"][0]).astype(dtype) if case["bias"] else None
    got = conv2d(x, w, b, **_args(case))
    assert got.dtype == dtype
    expected = np.array(reference.conv2d(x.astype(np.float64), w.astype(np.float64), b, **_args(case)))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, err_msg=f"engine vs loops for {case}")


@settings(max_examples=25, deadline=None)
@given(case=valid_convs())
def test_fractions_are_convolved_exactly(case: dict[str, Any]) -> None:
    x, w, b = _operands(case, -4, 5)
    xf = np.vectorize(lambda v: Fraction(int(v), 3), otypes=[object])(x)
    wf = np.vectorize(lambda v: Fraction(int(v), 7), otypes=[object])(w)
    got = conv2d(xf, wf, None if b is None else b.astype(object), **_args(case))
    expected = reference.conv2d(xf.tolist(), wf.tolist(), None if b is None else b.tolist(), **_args(case))
    assert got.tolist() == expected


def test_a_padded_one_by_one_float_conv_equals_the_loops() -> None:
    rng = np.random.default_rng(11)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((2, 3, 4, 5)).astype(dtype)
        w = rng.standard_normal((4, 3, 1, 1)).astype(dtype)
        b = rng.standard_normal(4).astype(dtype)
        for padding in (1, (0, 2), "same"):
            got = conv2d(x, w, b, padding=padding)
            expected = np.array(reference.conv2d(x.astype(np.float64), w.astype(np.float64), b, 1, padding))
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=f"padding={padding}")


def test_exact_integers_beyond_the_float_range_are_convolved() -> None:
    big = 10**400  # no float64 can hold it
    x = np.array([[[[big, -big]]]], dtype=object)
    w = np.array([[[[3, 2]]]], dtype=object)
    assert conv2d(x, w).ravel().tolist() == [big]
    assert relu(x).ravel().tolist() == [big, 0]
    # batch norm too: (x - mean) / sqrt(var + eps) * gamma + beta with var + eps = 4, exactly
    normed = batch_norm(x, [1], [3], weight=[2], bias=[-1], eps=1)
    assert normed.ravel().tolist() == [big - 2, -big - 2]


INT_TYPES = [np.int64, np.int32, np.uint64, np.int8]


@FAST
@given(
    kind=st.sampled_from(INT_TYPES),
    xs=st.lists(st.integers(0, 120), min_size=1, max_size=3),
    scale=st.integers(0, 62),
    data=st.data(),
)
def test_numpy_integers_in_object_arrays_compute_as_python_ints(
    kind: Any, xs: list[int], scale: int, data: Any
) -> None:
    # Values as large as the type holds, so that NumPy's own integer arithmetic would wrap around.
    top = int(np.iinfo(kind).max)
    x_vals = [min(top, v << scale) for v in xs]
    w_vals = data.draw(st.lists(st.integers(1, min(top, 2**40)), min_size=len(xs), max_size=len(xs)))
    x = np.empty((1, len(xs), 1, 1), object)
    x[0, :, 0, 0] = [kind(v) for v in x_vals]
    w = np.empty((1, len(xs), 1, 1), object)
    w[0, :, 0, 0] = [kind(v) for v in w_vals]
    expected = sum(a * b for a, b in zip(x_vals, w_vals, strict=True))  # Python ints: no wrap-around
    out = conv2d(x, w)
    assert out[0, 0, 0, 0] == expected and type(out[0, 0, 0, 0]) is int
    y = relu(x)
    assert [type(v) for v in y.ravel()] == [int] * len(xs) and y.ravel().tolist() == x_vals


def test_the_issue_example_of_a_wrapped_around_exact_product() -> None:
    x, w = np.array([[[[np.int64(2**62)]]]], object), np.array([[[[np.int64(4)]]]], object)
    out = conv2d(x, w)
    assert out[0, 0, 0, 0] == 2**64
    # The NumPy integers are replaced by Python ints in a copy: the caller's arrays are left as they were.
    assert type(x[0, 0, 0, 0]) is np.int64 and type(w[0, 0, 0, 0]) is np.int64


def _scheme(x, w, stride=1, padding=0, dilation=1, groups=1):
    return _guards.conv_plan(x, w, None, (stride, padding, dilation, groups), conv_module._scheme).scheme.func


@pytest.mark.parametrize(
    "dtype, kernel, stride, padding, expected",
    [
        (np.float32, 1, 1, 0, conv_module._conv1x1),
        (np.float64, 1, 1, 0, conv_module._conv1x1),
        (np.float32, 1, 1, 1, conv_module._conv_shifted),  # padded: the zero border needs the padded image
        (np.float32, 1, 2, 0, conv_module._conv_im2col),  # strided: no shifted views
        (np.float32, 3, 1, 1, conv_module._conv_shifted),
        (np.float32, 3, 2, 1, conv_module._conv_im2col),
        (np.int64, 1, 1, 0, conv_module._conv_im2col),  # exact data: NumPy's own loops, never BLAS
        (object, 3, 1, 1, conv_module._conv_im2col),
    ],
)
def test_each_conv_runs_the_scheme_its_shape_and_dtype_call_for(dtype, kernel, stride, padding, expected):
    x = np.ones((1, 4, 6, 6), dtype)
    w = np.ones((2, 4, kernel, kernel), dtype)
    assert _scheme(x, w, stride, padding) is expected


def test_a_float_1x1_conv_allocates_its_output_and_no_copy_of_the_input():
    x = np.ones((1, 64, 64, 64), np.float32)  # 1 MiB
    w = np.ones((8, 64, 1, 1), np.float32)  # 2 KiB
    conv2d(x, w)  # the plan is made once, outside the measurement
    tracemalloc.start()
    try:
        out = conv2d(x, w)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.nbytes <= peak < out.nbytes + 64 * 1024  # 128 KiB of output, far below another MiB


@pytest.mark.parametrize("small", [np.int8, np.int16, np.uint8])
def test_small_integer_dtypes_compute_in_int64(small):
    x = np.full((1, 2, 3, 3), 100, small)
    w = np.full((1, 2, 1, 1), 100, small)
    out = conv2d(x, w)
    assert out.dtype == np.int64 and (out == 2 * 100 * 100).all()  # 20000 leaves every small dtype
    assert _guards.common_dtype(input=x, weight=w) == np.int64
