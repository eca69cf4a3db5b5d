"""Proofs that the engine's conv2d, batch_norm and relu compute what the plain loops compute."""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import VerifierError, VerifierTypeError
from verifier.memory import available_bytes
from verifier.numeric import batch_norm, conv2d, fold_batch_norm, reference, relu


def _ints(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-4, 5, shape)


def _as_object(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, object)
    out.ravel()[:] = [int(v) for v in a.ravel()]
    return out


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


# -- dtype rules -----------------------------------------------------------------------------------------
def test_float32_stays_float32_and_float64_stays_float64() -> None:
    for dtype in (np.float32, np.float64):
        x = np.ones((1, 2, 3, 3), dtype)
        assert conv2d(x, np.ones((1, 2, 3, 3), dtype), np.ones(1, dtype)).dtype == dtype
        assert relu(x).dtype == dtype
        assert batch_norm(x, np.zeros(2, dtype), np.ones(2, dtype)).dtype == dtype


def test_mixed_float_dtypes_are_refused_naming_both() -> None:
    with pytest.raises(VerifierTypeError, match="input is float32, weight is float64"):
        conv2d(np.ones((1, 1, 2, 2), np.float32), np.ones((1, 1, 1, 1), np.float64))


def test_floats_and_exact_numbers_do_not_mix() -> None:
    with pytest.raises(VerifierTypeError, match="input is float64 but weight is int64"):
        conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1), np.int64))


@pytest.mark.parametrize(
    "bad", [np.ones((1, 1, 2, 2), bool), np.ones((1, 1, 2, 2), np.float16), np.ones((1, 1, 2, 2), complex)]
)
def test_unsupported_dtypes_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(VerifierTypeError, match=f"input has dtype {bad.dtype}; allowed: float32, float64"):
        conv2d(bad, np.ones((1, 1, 1, 1)))


def test_object_arrays_must_hold_exact_numbers() -> None:
    x = np.array([[[[1, 0.5]]]], dtype=object)
    with pytest.raises(VerifierTypeError, match=r"input\[0, 0, 0, 1\] is 0.5 \(float\)"):
        conv2d(x, np.ones((1, 1, 1, 1), object))


def test_integer_overflow_is_refused_before_it_wraps() -> None:
    x = np.full((1, 4, 2, 2), 2**40)
    with pytest.raises(VerifierError, match="could overflow int64"):
        conv2d(x, np.full((1, 4, 1, 1), 2**30))
    exact = conv2d(_as_object(x), _as_object(np.full((1, 4, 1, 1), 2**30)))
    assert exact[0, 0, 0, 0] == 4 * 2**70


# -- errors name both sides ------------------------------------------------------------------------------
def test_channel_mismatch_names_both_sides() -> None:
    with pytest.raises(VerifierError, match=r"input has 3 channels but weight expects 64 \(groups=1\)"):
        conv2d(np.ones((1, 3, 8, 8)), np.ones((64, 64, 3, 3)))
    with pytest.raises(VerifierError, match=r"input has 6 channels but weight expects 4 \(groups=2\)"):
        conv2d(np.ones((1, 6, 8, 8)), np.ones((4, 2, 3, 3)), groups=2)


def test_bad_bias_length_groups_and_ranks_are_refused() -> None:
    with pytest.raises(
        VerifierError, match=r"bias must be 1-D with one entry per output channel \(4\), got shape \(3,\)"
    ):
        conv2d(np.ones((1, 2, 4, 4)), np.ones((4, 2, 1, 1)), np.ones(3))
    with pytest.raises(
        VerifierError, match="groups must divide out_channels: out_channels=5 is not divisible by groups=2"
    ):
        conv2d(np.ones((1, 4, 4, 4)), np.ones((5, 2, 1, 1)), groups=2)
    with pytest.raises(VerifierError, match=r"weight must be 4-D \(C_out, C_in/groups, kH, kW\), got 2-D"):
        conv2d(np.ones((1, 2, 4, 4)), np.ones((4, 2)))
    with pytest.raises(VerifierError, match=r"input must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\), got 2-D"):
        conv2d(np.ones((4, 4)), np.ones((1, 1, 1, 1)))
    with pytest.raises(VerifierTypeError, match=r"groups must be a positive int, got 1\.5"):
        conv2d(np.ones((1, 2, 4, 4)), np.ones((4, 2, 1, 1)), groups=1.5)  # type: ignore[arg-type]


def test_same_padding_with_stride_is_refused() -> None:
    with pytest.raises(VerifierError, match=r"padding='same' needs stride=1, got stride=\(2, 2\)"):
        conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=2, padding="same")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_reported_not_propagated(bad: float) -> None:
    x = np.ones((1, 2, 3, 3), np.float32)
    x[0, 1, 2, 0] = bad
    with pytest.raises(
        VerifierError, match=r"input has \d NaN and \d infinite entries \(first at index \[0, 1, 2, 0\]\)"
    ):
        conv2d(x, np.ones((1, 2, 1, 1), np.float32))
    w = np.ones((1, 2, 1, 1))
    w[0, 0, 0, 0] = bad
    with pytest.raises(VerifierError, match="weight has"):
        conv2d(np.ones((1, 2, 3, 3)), w)


def test_a_conv_whose_output_would_not_fit_is_refused_before_allocating() -> None:
    avail = available_bytes()
    if avail is None:
        pytest.skip("this system does not report available memory")
    # a broadcast view costs no memory; its output would need ~64 * 2**40 bytes
    huge = np.broadcast_to(np.float32(1), (2**20, 1, 2**12, 2**12))
    with pytest.raises(VerifierError, match=r"conv2d on input .* needs about [\d.]+ PiB|needs about [\d.]+ TiB"):
        conv2d(huge, np.ones((1, 1, 1, 1), np.float32))


# -- relu and batch_norm ---------------------------------------------------------------------------------
def test_relu_equals_the_loops_and_works_in_place() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    expected = np.array(reference.relu(x.tolist()), dtype=np.float32)
    np.testing.assert_array_equal(relu(x), expected)
    same = relu(x, inplace=True)
    assert same is x
    np.testing.assert_array_equal(x, expected)
    strided = rng.standard_normal((4, 6))[:, ::2]
    np.testing.assert_array_equal(relu(strided), np.maximum(strided, 0))


def test_batch_norm_equals_the_loops() -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 4, 4))
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    mine = batch_norm(x, mean, var, gamma, beta, eps=1e-5)
    theirs = reference.batch_norm(x, mean.tolist(), var.tolist(), gamma.tolist(), beta.tolist(), 1e-5)
    np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-13)


def test_exact_batch_norm_needs_a_rational_square_root() -> None:
    x = np.array([[[[1]]]])
    with pytest.raises(VerifierError, match=r"running_var\[0\] \+ eps = 3 has no rational square root"):
        batch_norm(x, [0], [3], eps=0)
    exact = batch_norm(x, [Fraction(1, 2)], [Fraction(9, 4)], [2], [1], eps=0)
    assert exact[0, 0, 0, 0] == Fraction(1, 2) / Fraction(3, 2) * 2 + 1


def test_folding_batch_norm_into_the_conv_changes_nothing_exactly() -> None:
    rng = np.random.default_rng(2)
    x = _as_object(_ints(rng, (2, 3, 5, 5)))
    w = _as_object(_ints(rng, (4, 3, 3, 3)))
    b = _as_object(_ints(rng, (4,)))
    mean = [Fraction(int(v), 3) for v in rng.integers(-3, 4, 4)]
    var = [Fraction(r * r, 4) - Fraction(1, 8) for r in rng.integers(1, 5, 4)]
    gamma = [Fraction(int(v), 2) for v in rng.integers(-3, 4, 4)]
    beta = [Fraction(int(v), 5) for v in rng.integers(-3, 4, 4)]
    eps = Fraction(1, 8)
    unfolded = batch_norm(conv2d(x, w, b, padding=1), mean, var, gamma, beta, eps)
    fw, fb = fold_batch_norm(w, b, mean, var, gamma, beta, eps)
    np.testing.assert_array_equal(conv2d(x, fw, fb, padding=1), unfolded)


def test_batch_norm_refuses_wrong_lengths_and_negative_variance() -> None:
    x = np.ones((1, 2, 2, 2))
    with pytest.raises(VerifierError, match=r"running_var must have shape \(2,\), one entry per channel, got \(3,\)"):
        batch_norm(x, np.zeros(2), np.ones(3))
    with pytest.raises(VerifierError, match=r"running_var must be >= 0, got running_var\[1\] = "):
        batch_norm(x, np.zeros(2), np.array([1.0, -1.0]))
    with pytest.raises(VerifierError, match="eps must be a finite number >= 0, got -1"):
        batch_norm(x, np.zeros(2), np.ones(2), eps=-1)
    with pytest.raises(VerifierError, match=r"input must be \(N, C\), .* or \(N, C, D, H, W\), got 6-D"):
        batch_norm(np.ones((1, 2, 1, 1, 1, 1)), np.zeros(2), np.ones(2))


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


def test_a_float_overflow_is_reported_not_returned() -> None:
    x = np.full((1, 4, 2, 2), 1e30, np.float32)
    with pytest.raises(VerifierError, match="conv2d overflowed float32: the result has non-finite entries"):
        conv2d(x, np.full((1, 4, 1, 1), 1e30, np.float32))


@pytest.mark.parametrize(
    ("dtype", "k", "stride", "groups"),
    [(np.float32, 1, 1, 1), (np.float64, 3, 1, 2), (np.float32, 3, 2, 1), (np.int32, 3, 1, 1), (object, 2, 1, 2)],
)
def test_the_memory_estimate_bounds_what_conv2d_allocates(dtype: Any, k: int, stride: int, groups: int) -> None:
    """The estimate the memory guard refuses on is an upper bound of tracemalloc's measured peak."""
    import tracemalloc

    from verifier.numeric._guards import conv_spec, conv_workspace_bytes

    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (2, 4, 9, 8) if dtype is object else (2, 4, 90, 80)).astype(dtype)
    w = rng.integers(-3, 4, (6, 4 // groups, k, k)).astype(dtype)
    spec = conv_spec(x.shape, w.shape, None, stride, 1, 1, groups)
    computing = np.dtype(object) if x.dtype == object else np.dtype(np.int64) if x.dtype.kind == "i" else x.dtype
    estimate = conv_workspace_bytes(spec, x.shape, computing)
    tracemalloc.start()
    try:
        conv2d(x, w, stride=stride, padding=1, groups=groups)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 0 < peak <= estimate, (peak, estimate)
    assert estimate < 4 * peak + 512 * 1024, "the bound should stay near the truth"
