"""Proofs about batch_norm and fold_batch_norm (verifier/numeric/normalization.py) and the one exact square root.

batch_norm must equal the loop reference (exactly on exact data) and the defining formula entry by entry at
every rank torch takes; folding it into a conv must change nothing; bad statistics, eps and overflows are
refused by name.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from _arrays import as_object as _as_object
from _arrays import ints as _ints
from _arrays import pretend_available
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import VerifierError, VerifierTypeError
from verifier.numeric import batch_norm, conv2d, fold_batch_norm, reference
from verifier.numeric.normalization import exact_sqrt


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


FAST = settings(max_examples=30, deadline=None)


def test_batch_norm_refuses_bad_shapes_and_statistics() -> None:
    x = np.ones((1, 2, 2, 2))
    cases = [
        (lambda: batch_norm(np.ones(2), [0, 0], [1, 1]), "input must be (N, C), (N, C, L), (N, C, H, W) or (N, C, D"),
        (
            lambda: batch_norm(x, [0.0], [1.0, 1.0]),
            "running_mean must have shape (2,), one entry per channel, got (1,)",
        ),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0]), "running_var must have shape (2,), one entry per channel, got (1,)"),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0, 1.0], weight=[1.0]), "weight must have shape (2,)"),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0, 1.0], bias=[[1.0, 1.0]]), "bias must have shape (2,)"),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0, -1.0]), "running_var must be >= 0, got running_var[1] ="),
        (lambda: batch_norm(x, [np.nan, 0.0], [1.0, 1.0]), "running_mean has 1 NaN and 0 infinite entries"),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0, np.inf]), "running_var has 0 NaN and 1 infinite entries"),
        (lambda: batch_norm(x, [0.0, 0.0], [0.0, 1.0], eps=0), "running_var + eps is 0 for some channel"),
        (lambda: batch_norm(x * np.nan, [0.0, 0.0], [1.0, 1.0]), "input has 8 NaN and 0 infinite entries"),
        (
            lambda: batch_norm(np.ones((1, 2, 1, 1), int), [0, 0], [2, 1], eps=0),
            "running_var[0] + eps = 2 has no rational square root",
        ),
        (lambda: batch_norm(np.ones((1, 2, 1, 1), int), [0, 0], [0, 1], eps=0), "running_var[0] + eps is 0"),
    ]
    for call, message in cases:
        with pytest.raises(VerifierError, match=re.escape(message)):
            call()


@pytest.mark.parametrize("eps", [-1e-5, float("nan"), float("inf"), "1e-5", True, None])
def test_batch_norm_eps_must_be_a_finite_number_at_least_zero(eps: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"eps must be a finite number >= 0, got {eps!r}")):
        batch_norm(np.ones((1, 1, 1, 1)), [0.0], [1.0], eps=eps)


def test_fold_batch_norm_refuses_mismatched_shapes() -> None:
    with pytest.raises(
        VerifierError, match=re.escape("conv_weight must be 4-D (C_out, C_in/groups, kH, kW), got shape (2, 2)")
    ):
        fold_batch_norm(np.ones((2, 2)), None, [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(VerifierError, match=re.escape("conv_bias must have shape (2,), got (3,)")):
        fold_batch_norm(np.ones((2, 1, 1, 1)), np.ones(3), [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(VerifierError, match=re.escape("running_mean must have shape (2,)")):
        fold_batch_norm(np.ones((2, 1, 1, 1)), None, [0.0], [1.0, 1.0])


@settings(max_examples=20, deadline=None)
@given(
    channels=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    roots=st.lists(st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(3, 2), Fraction(2)]), min_size=4, max_size=4),
)
def test_exact_batch_norm_equals_the_loop_reference(channels: int, seed: int, roots: list[Fraction]) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(-5, 6, (2, channels, 2, 3))
    eps = Fraction(1, 16)
    mean = [Fraction(int(v), 2) for v in rng.integers(-3, 4, channels)]
    var = [roots[c] ** 2 - eps for c in range(channels)]
    gamma = [Fraction(int(v), 4) for v in rng.integers(-4, 5, channels)]
    beta = [Fraction(int(v)) for v in rng.integers(-3, 4, channels)]
    got = batch_norm(
        x, np.array(mean, object), np.array(var, object), np.array(gamma, object), np.array(beta, object), eps
    )
    root = dict(zip([r**2 for r in roots], roots, strict=False))
    expected = reference.batch_norm(x.tolist(), mean, var, gamma, beta, eps, sqrt=lambda v: root[v])
    assert got.tolist() == expected


def test_exact_batch_norm_without_affine_parameters_and_with_float_statistics() -> None:
    x = np.array([[[[3, -1]], [[5, 9]]]])
    out = batch_norm(x, running_mean=[1.0, 1.0], running_var=[3.75, 15.75], eps=0.25)  # var + eps = 4 and 16
    assert out.dtype == object
    assert out.tolist() == [[[[Fraction(1), Fraction(-1)]], [[Fraction(1), Fraction(2)]]]]
    floats = batch_norm(x.astype(np.float64), [1.0, 1.0], [3.75, 15.75], eps=0.25)
    assert floats.tolist() == [[[[1.0, -1.0]], [[1.0, 2.0]]]]


def test_batch_norm_uses_torchs_default_eps() -> None:
    x = np.array([[[[2.0]]]])
    expected = (2.0 - 0.5) / np.sqrt(1.0 + 1e-5)
    assert batch_norm(x, [0.5], [1.0])[0, 0, 0, 0] == expected
    w, b = fold_batch_norm(np.ones((1, 1, 1, 1)), None, [0.5], [1.0])
    assert w.ravel()[0] == 1.0 / np.sqrt(1.0 + 1e-5) and b[0] == -0.5 / np.sqrt(1.0 + 1e-5)


def test_the_first_negative_variance_is_the_one_named() -> None:
    with pytest.raises(VerifierError, match=re.escape("running_var must be >= 0, got running_var[2] =")):
        batch_norm(np.ones((1, 3, 1, 1)), [0.0] * 3, [0.5, 0.0, -1.0])


def test_a_zero_denominator_is_found_whichever_channel_has_it() -> None:
    message = "running_var + eps is 0 for some channel: the normalisation would divide by zero"
    with pytest.raises(VerifierError, match="^" + re.escape(message) + "$"):
        batch_norm(np.ones((1, 2, 1, 1)), [0.0, 0.0], [4.0, 0.0], eps=0)
    with pytest.raises(VerifierError, match="^" + re.escape("running_var[1] + eps is 0: the normalisation")):
        batch_norm(np.ones((1, 2, 1, 1), int), [0, 0], [4, 0], eps=0)


def test_exact_batch_norm_explains_how_to_choose_the_variance() -> None:
    message = (
        "running_var[0] + eps = 2 has no rational square root, so exact batch_norm is impossible; choose "
        "running_var + eps to be the square of a rational (e.g. running_var = 4 - eps)"
    )
    with pytest.raises(VerifierError, match="^" + re.escape(message) + "$"):
        batch_norm(np.ones((1, 1, 1, 1), int), [0], [2], eps=0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda bad: batch_norm(bad, [0.0], [1.0]), "input"),
        (lambda bad: batch_norm(np.ones((1, 1, 1, 1)), bad.ravel(), [1.0]), "running_mean"),
        (lambda bad: fold_batch_norm(bad, None, [0.0], [1.0]), "conv_weight"),
        (lambda bad: fold_batch_norm(np.ones((1, 1, 1, 1)), bad.ravel(), [0.0], [1.0]), "conv_bias"),
    ],
)
def test_batch_norm_arguments_of_unsupported_dtypes_are_named(call: Any, name: str) -> None:
    bad = np.ones((1, 1, 1, 1), dtype=np.complex128)
    with pytest.raises(VerifierTypeError, match="^" + re.escape(f"{name} has dtype complex128; allowed")):
        call(bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, object])
@pytest.mark.parametrize("with_bias", [False, True])
def test_folding_keeps_float_widths_and_makes_exact_weights_fractions(dtype: Any, with_bias: bool) -> None:
    w = np.array([[[[2]]], [[[-4]]]]).astype(dtype)
    conv_bias = np.array([1, 3]).astype(dtype) if with_bias else None
    folded_w, folded_b = fold_batch_norm(w, conv_bias, [1, 1], [3, 15], weight=[2, 1], bias=[0, 1], eps=1)
    # scale = gamma / sqrt(var + eps) = (1, 1/4); shift = beta + (b - mean) * scale
    expected_w = [2, -1]
    expected_b = [0 + ((1 if with_bias else 0) - 1) * 1, 1 + ((3 if with_bias else 0) - 1) / 4]
    exact = np.dtype(dtype).kind != "f"
    assert folded_w.dtype == (np.dtype(object) if exact else np.dtype(dtype))
    assert folded_b.dtype == folded_w.dtype
    assert folded_w.ravel().tolist() == expected_w and folded_b.tolist() == expected_b
    if exact:
        assert all(isinstance(v, Fraction) for v in (*folded_w.ravel(), *folded_b))


@pytest.mark.parametrize("name", ["running_mean", "running_var"])
def test_missing_running_statistics_are_named(name: str) -> None:
    stats: dict[str, Any] = {"running_mean": [0.0, 0.0], "running_var": [1.0, 1.0], name: None}
    message = f"{name} must be an array with one entry per channel (2), got None"
    with pytest.raises(VerifierTypeError, match="^" + re.escape(message) + "$"):
        batch_norm(np.ones((1, 2, 1, 1)), **stats)


@FAST
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    fraction=st.floats(0.6, 1.0),
    gain=st.floats(2.0, 100.0),
    rank=st.integers(2, 5),
)
def test_batch_norm_refuses_a_result_that_overflows(dtype: Any, fraction: float, gain: float, rank: int) -> None:
    big = float(np.finfo(dtype).max) * fraction
    x = np.full((1, 2) + (1,) * (rank - 2), big, dtype)
    with pytest.raises(VerifierError, match=re.escape(f"batch_norm overflowed {np.dtype(dtype)}")):
        batch_norm(x, np.zeros(2, dtype), np.ones(2, dtype), weight=np.full(2, gain, dtype), eps=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_refuses_a_scale_that_overflows_the_dtype(dtype: Any) -> None:
    # var + eps = 1e-300 (float64: 1e150 is finite) or 1e-60 (float32: 1e30 is finite, but not with gain 1e10)
    tiny = 1e-300 if dtype == np.float64 else 1e-60
    gain = 1e200 if dtype == np.float64 else 1e10
    x = np.ones((1, 1, 1, 1), dtype)
    with pytest.raises(VerifierError, match=r"batch norm's weight / sqrt\(running_var \+ eps\) overflows"):
        batch_norm(x, np.zeros(1, dtype), np.zeros(1, dtype), weight=np.full(1, gain, dtype), eps=tiny)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["conv_weight", "conv_bias"])
def test_fold_batch_norm_refuses_non_finite_conv_parameters(bad: float, where: str) -> None:
    w = np.ones((2, 1, 1, 1))
    b = np.zeros(2)
    (w if where == "conv_weight" else b).flat[1] = bad
    with pytest.raises(VerifierError, match=re.escape(f"{where} has ")):
        fold_batch_norm(w, b, [0.0, 0.0], [1.0, 1.0])


def test_fold_batch_norm_refuses_a_folded_weight_that_overflows() -> None:
    w = np.full((1, 1, 1, 1), 1e300)
    with pytest.raises(VerifierError, match="fold_batch_norm overflowed float64"):
        fold_batch_norm(w, None, [0.0], [0.0], weight=[1e10], eps=1e-20)


@FAST
@given(
    shape=st.lists(st.integers(1, 3), min_size=2, max_size=5).map(tuple),
    seed=st.integers(0, 2**16),
)
def test_batch_norm_takes_every_rank_torch_takes_exactly(shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.integers(-9, 10, shape)
    mean = rng.integers(-3, 4, c).tolist()
    root = rng.integers(1, 4, c).tolist()
    var = [Fraction(r * r) - Fraction(1, 4) for r in root]  # var + eps = r^2: an exact square root
    gamma = rng.integers(-2, 3, c).tolist()
    beta = rng.integers(-2, 3, c).tolist()
    out = batch_norm(x, mean, var, gamma, beta, eps=Fraction(1, 4))
    assert out.shape == shape
    for index in np.ndindex(*shape):  # the defining formula, entry by entry, channel = axis 1
        k = index[1]
        assert out[index] == Fraction(int(x[index]) - mean[k], root[k]) * gamma[k] + beta[k], index


@pytest.mark.parametrize("eps", [np.float32(1e-5), np.float64(1e-5), 1e-5, Fraction(1, 2**16), 0])
def test_batch_norm_takes_any_finite_real_eps_as_torch_does(eps: Any) -> None:
    from verifier import BatchNorm2d

    x = np.ones((1, 1, 1, 1))
    assert np.isfinite(batch_norm(x, [0.0], [1.0], eps=eps)).all()
    if eps:
        assert BatchNorm2d(1, eps=eps).eps == eps


def test_an_eps_no_float_holds_is_refused_for_float_input_and_exact_for_exact_input() -> None:
    with pytest.raises(VerifierError, match=re.escape("eps must be at most float64's largest value")):
        batch_norm(np.ones((1, 1)), [0.0], [1.0], eps=10**400)
    exact = batch_norm(np.array([[2]]), [0], [0], eps=4 * 10**400)  # sqrt(4e400) = 2e200
    assert exact[0, 0] == Fraction(1, 10**200)


@settings(max_examples=50, deadline=None)
@given(num=st.integers(0, 10**30), den=st.integers(1, 10**30), extra=st.integers(1, 10**6))
def test_the_exact_square_root_inverts_squaring_and_refuses_a_non_square(num: int, den: int, extra: int) -> None:
    root = Fraction(num, den)
    assert exact_sqrt(root * root) == root
    assert exact_sqrt(float(extra) ** 2) == extra  # a float is taken at its exact value
    # sqrt(2) is irrational, so 2 * extra**2 * root**2 has no rational root (for root > 0)
    non_square = 2 * extra**2 * (root * root if root else Fraction(1))
    with pytest.raises(
        VerifierError, match="^" + re.escape(f"bn1.running_var[3] + eps = {non_square} has no rational")
    ):
        exact_sqrt(non_square, "bn1.running_var[3] + eps")
    with pytest.raises(VerifierError, match=re.escape(f"running_var + eps = {-root - 1} is negative")):
        exact_sqrt(-root - 1)


def test_batch_norm_estimates_its_result_and_one_temporary_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.broadcast_to(np.float32(1), (1, 10_000_000))  # (N, C) = (1, 10^7): 40 MB seen, 4 bytes stored
    vectors = {"running_mean": np.zeros(10_000_000, np.float32), "running_var": np.ones(10_000_000, np.float32)}
    pretend_available(monkeypatch, 110)  # 88 MB usable: the result and one temporary (80 MB) fit, three would not
    assert batch_norm(x, **vectors).shape == x.shape
    pretend_available(monkeypatch, 90)  # 72 MB usable
    with pytest.raises(VerifierError, match=re.escape("batch_norm on input (1, 10000000) needs about")):
        batch_norm(x, **vectors)


def test_batch_norm_counts_an_exact_entry_as_a_pointer_and_a_python_number(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.broadcast_to(np.int64(1), (600_000, 1))  # exact: every result entry is a Python number in an object array
    pretend_available(monkeypatch, 80)  # 67 MB usable: 2 x 600,000 x 64 bytes (77 MB) do not fit, at 8 bytes they would
    with pytest.raises(VerifierError, match=re.escape("batch_norm on input (600000, 1) needs about")):
        batch_norm(x, [0], [1], eps=0)


def test_an_overflowing_scale_or_shift_is_named_with_its_channel() -> None:
    x = np.ones((1, 2), np.float32)
    shift = r"^batch norm's bias - running_mean \* scale overflows float32 at channel 1 "
    with pytest.raises(VerifierError, match=shift):
        batch_norm(x, [0.0, 3e38], [1.0, 0.01], eps=0)  # shift: -3e38 x 10 is beyond float32
    scale = r"^batch norm's weight / sqrt\(running_var \+ eps\) overflows float32 at channel 1 "
    with pytest.raises(VerifierError, match=scale):
        batch_norm(x, [0.0, 0.0], [1.0, 0.01], weight=[1.0, 3e38], eps=0)  # scale: 3e38 / 0.1


def test_eps_up_to_the_largest_float64_is_taken_for_float_input() -> None:
    largest = Fraction(float(np.finfo(np.float64).max))
    out = batch_norm(np.ones((1, 1)), [0.0], [1.0], eps=largest)  # 1 / sqrt(1 + largest): about 7.5e-155
    assert 0 < out[0, 0] < 1e-150
    with pytest.raises(VerifierError, match="eps must be at most float64's largest value"):
        batch_norm(np.ones((1, 1)), [0.0], [1.0], eps=largest + 1)


def test_fold_refuses_a_bias_of_another_dtype_and_names_an_overflow() -> None:
    with pytest.raises(VerifierTypeError, match=r"dtypes differ \(conv_weight is float32, conv_bias is float64\)"):
        fold_batch_norm(np.ones((1, 1, 1, 1), np.float32), np.ones(1), [0.0], [1.0])
    with pytest.raises(VerifierError) as refused:
        fold_batch_norm(np.full((1, 1, 1, 1), 3e38, np.float32), None, [0.0], [0.01], eps=0)
    assert str(refused.value) == (
        "fold_batch_norm overflowed float32: the folded weight or bias has non-finite entries although every input "
        "is finite"
    )
