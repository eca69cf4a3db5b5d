"""Proofs that the bottleneck forward passes (plain and folded) compute the block's definition."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from verifier import Bottleneck, VerifierError, VerifierTypeError
from verifier.numeric import (
    FoldedBottleneck,
    bottleneck_forward,
    bottleneck_input,
    bottleneck_params,
    reference,
)
from verifier.numeric.normalization import exact_sqrt

BLOCKS = [
    Bottleneck(8, 2),  # identity shortcut, stride 1
    Bottleneck(8, 2, stride=2),  # v1.5: the 3x3 strides; projection
    Bottleneck(8, 2, stride=2, variant="v1"),  # v1: the first 1x1 strides
    Bottleneck(4, 2, projection=True),  # projection at stride 1 (a stage's first block)
    Bottleneck(8, 4, groups=2, base_width=32),  # grouped 3x3 (ResNeXt-style)
]


@pytest.mark.parametrize("block", BLOCKS, ids=repr)
def test_exact_bottleneck_equals_the_loop_definition(block: Bottleneck) -> None:
    params = bottleneck_params(block, seed=3, dtype="object", integer=True)
    x = bottleneck_input(block, batch=2, size=(5, 4), seed=4, dtype="object", integer=True)
    mine = bottleneck_forward(x, params)
    theirs = reference.bottleneck(x.tolist(), params, sqrt=exact_sqrt)
    assert mine.tolist() == theirs


@pytest.mark.parametrize("block", BLOCKS, ids=repr)
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 6)])
def test_folded_float64_engine_equals_the_exact_definition(block: Bottleneck, size: tuple[int, int]) -> None:
    """Integer data with dyadic batch norms is exact in float64, so the folded fast engine must match exactly."""
    exact_params = bottleneck_params(block, seed=5, dtype="object", integer=True)
    float_params = bottleneck_params(block, seed=5, dtype="float64", integer=True)
    x = bottleneck_input(block, batch=2, size=size, seed=6, dtype="float64", integer=True)
    exact = bottleneck_forward(x.astype(np.int64), exact_params)
    folded = FoldedBottleneck(float_params)
    mine = folded(x)
    assert mine.dtype == np.float64
    np.testing.assert_array_equal(mine, exact.astype(np.float64), err_msg=repr(folded))
    assert [[Fraction(v) for v in row] for row in mine.reshape(2, -1).tolist()] == exact.reshape(2, -1).tolist()


def test_the_thread_block_takes_the_fast_path() -> None:
    params = bottleneck_params(Bottleneck(), seed=0, dtype="float32")
    assert FoldedBottleneck(params).fast
    grouped = bottleneck_params(Bottleneck(8, 4, groups=2, base_width=32), dtype="float32")
    assert not FoldedBottleneck(grouped).fast


@pytest.mark.parametrize("block", BLOCKS, ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_folded_and_plain_forward_agree_on_float_data(block: Bottleneck, dtype: str) -> None:
    params = bottleneck_params(block, seed=1, dtype=dtype)  # type: ignore[arg-type]
    x = bottleneck_input(block, batch=3, size=(6, 5), seed=2, dtype=dtype)  # type: ignore[arg-type]
    plain = bottleneck_forward(x, params)
    folded = FoldedBottleneck(params)(x)
    assert plain.dtype == folded.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(folded, plain, rtol=tol, atol=tol)


def test_reused_output_and_buffers_give_the_same_result() -> None:
    block = Bottleneck(16, 4)
    model = FoldedBottleneck(bottleneck_params(block, seed=0, dtype="float64", integer=True))
    a = bottleneck_input(block, batch=2, size=5, seed=1, dtype="float64", integer=True)
    b = bottleneck_input(block, batch=1, size=(3, 8), seed=2, dtype="float64", integer=True)
    first = model(a)
    model(b)  # a different shape replaces the scratch buffers
    out = np.full_like(first, np.nan)
    assert model(a, out=out) is out
    np.testing.assert_array_equal(out, first)


def test_bottleneck_inputs_are_checked() -> None:
    params = bottleneck_params(Bottleneck(8, 2), dtype="float32")
    model = FoldedBottleneck(params)
    with pytest.raises(VerifierError, match=r"input has 4 channels but the block expects 8"):
        model(np.ones((1, 4, 3, 3), np.float32))
    with pytest.raises(VerifierTypeError, match="input is float64, weight is float32"):
        model(np.ones((1, 8, 3, 3)))
    with pytest.raises(VerifierError, match=r"input must be 4-D \(N, C, H, W\)"):
        bottleneck_forward(np.ones((8, 3, 3), np.float32), params)
    bad = np.ones((1, 8, 3, 3), np.float32)
    bad[0, 2, 1, 1] = np.nan
    with pytest.raises(
        VerifierError, match=r"input has 1 NaN and 0 infinite entries \(first at index \[0, 2, 1, 1\]\)"
    ):
        model(bad)
    with pytest.raises(VerifierError, match=r"out must be a C-contiguous float32 array of shape \(1, 8, 3, 3\)"):
        model(np.ones((1, 8, 3, 3), np.float32), out=np.empty((1, 8, 3, 2), np.float32))


def test_parameters_are_checked_against_the_block() -> None:
    params = bottleneck_params(Bottleneck(8, 2), dtype="float32")
    with pytest.raises(VerifierError, match=r"conv2 weight must have shape \(2, 2, 3, 3\), got \(2, 2, 1, 1\)"):
        type(params)(params.block, params.conv1, params.bn1, params.conv1[:2, :2], params.bn2, params.conv3, params.bn3)
    with pytest.raises(VerifierError, match="dtype must be one of float32, float64, object, got 'float16'"):
        bottleneck_params(dtype="float16")  # type: ignore[arg-type]


def test_integer_parameters_keep_var_plus_eps_a_rational_square() -> None:
    params = bottleneck_params(seed=9, dtype="object", integer=True)
    for bn in (params.bn1, params.bn2, params.bn3):
        roots = {exact_sqrt(v + bn.eps) for v in bn.running_var}
        assert roots <= {Fraction(1, 2), Fraction(1), Fraction(2)}


@pytest.mark.slow
def test_full_size_folded_engine_is_exact_on_integer_data() -> None:
    """At 1 x 256 x 56 x 56 the fast engine and the plain layer-by-layer engine agree to the last bit.

    Both run in float64 on integer data whose every intermediate value is exact, so agreement means both
    computed the exact block; the plain path uses conv2d's generic schemes, the fast one its own.
    """
    block = Bottleneck()
    params = bottleneck_params(block, seed=0, dtype="float64", integer=True)
    x = bottleneck_input(block, batch=1, seed=1, dtype="float64", integer=True)
    np.testing.assert_array_equal(FoldedBottleneck(params)(x), bottleneck_forward(x, params))


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_row_bands_on_threads_compute_the_same_block_exactly(monkeypatch: pytest.MonkeyPatch, threads: str) -> None:
    """VERIFIER_THREADS splits the work into bands of rows on threads; every split must give the exact result."""
    monkeypatch.setenv("VERIFIER_THREADS", threads)
    block = Bottleneck(8, 2)
    exact_params = bottleneck_params(block, seed=7, dtype="object", integer=True)
    float_params = bottleneck_params(block, seed=7, dtype="float64", integer=True)
    x = bottleneck_input(block, batch=2, size=(7, 5), seed=8, dtype="float64", integer=True)
    exact = bottleneck_forward(x.astype(np.int64), exact_params)
    np.testing.assert_array_equal(FoldedBottleneck(float_params)(x), exact.astype(np.float64))


@pytest.mark.parametrize("threads", ["1", "2"])
def test_pixel_bands_on_threads_compute_the_same_1x1_conv_exactly(
    monkeypatch: pytest.MonkeyPatch, threads: str
) -> None:
    from verifier.numeric import conv2d

    monkeypatch.setenv("VERIFIER_THREADS", threads)
    rng = np.random.default_rng(9)
    x = rng.integers(-3, 4, (2, 4, 48, 48)).astype(np.float64)  # 2,304 pixels: enough for two bands
    w = rng.integers(-3, 4, (5, 4, 1, 1)).astype(np.float64)
    expected = np.einsum("oi,nihw->nohw", w[:, :, 0, 0], x)
    np.testing.assert_array_equal(conv2d(x, w), expected)
