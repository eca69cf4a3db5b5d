"""The folded bottleneck's fast path: its shortcuts against the block written layer by layer.

The fast path keeps conv1's activation shifted by its bias (max(W1 x, -b1) with a padding of -b1), splits
the elementwise passes over threads, and looks for NaN and infinities in conv1's result instead of in the
whole input. Each test compares it with :func:`bottleneck_forward` (nothing folded, nothing fused), or
shows that a bad input is still refused.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from verifier import Bottleneck, VerifierError
from verifier.numeric import FoldedBottleneck, blocks, bottleneck_forward, bottleneck_input, bottleneck_params
from verifier.numeric import parallel as par


@pytest.mark.parametrize(
    "block",
    [Bottleneck(32, 8), Bottleneck(32, 8, stride=2, variant="v1"), Bottleneck(32, 8, stride=2), Bottleneck(16, 8)],
    ids=repr,
)
@pytest.mark.parametrize("bands", ["1", "3"])
@pytest.mark.parametrize("step_bytes", [None, 3 * 64 * 8], ids=["one step", "steps of 3 maps"])
def test_exact_integer_blocks_agree_to_the_last_bit(block, bands, step_bytes, monkeypatch):
    """Dyadic parameters make every float64 value exact: the shortcuts must give the same numbers, not close ones."""
    monkeypatch.setenv("VERIFIER_THREADS", bands)
    if step_bytes is not None:  # the adds and ReLUs in steps of three 8x8 maps, the last step shorter
        monkeypatch.setattr(blocks, "STEP_BYTES", step_bytes)
    monkeypatch.setattr(par, "ELEMENTWISE_MIN", 1)  # split even these small passes over threads
    monkeypatch.setenv("VERIFIER_ELEMENTWISE_THREADS", "3")
    params = bottleneck_params(block, seed=3, dtype="float64", integer=True)
    exact_params = bottleneck_params(block, seed=3, dtype="object", integer=True)  # the same dyadic values
    x = bottleneck_input(block, 2, 8, seed=4, dtype="float64", integer=True)
    exact = bottleneck_forward(bottleneck_input(block, 2, 8, seed=4, dtype="object", integer=True), exact_params)
    fast = FoldedBottleneck(params)(x)
    assert np.array_equal(fast.astype(object), exact)  # equal as exact numbers: no rounding anywhere


def test_the_padding_carries_conv1s_bias_so_borders_match():
    """A large conv1 bias would show at once at the image border if the padding were 0 instead of -b1."""
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float64")
    bn1 = dataclasses.replace(params.bn1, bias=params.bn1.bias + 50.0)
    params = dataclasses.replace(params, bn1=bn1)
    x = bottleneck_input(block, 1, 7, seed=2, dtype="float64")
    np.testing.assert_allclose(FoldedBottleneck(params)(x), bottleneck_forward(x, params), rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_input_is_refused_even_where_relu_would_hide_it(value):
    """-inf in a channel whose conv1 weights are all positive gives -inf in every conv1 map: ReLU would make it 0."""
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float32")
    params = dataclasses.replace(params, conv1=np.abs(params.conv1) + np.float32(0.01))
    x = bottleneck_input(block, 2, 6, seed=1, dtype="float32")
    x[1, 5, 2, 3] = value
    with pytest.raises(VerifierError, match=r"input has .* \(first at index \[1, 5, 2, 3\]\)"):
        FoldedBottleneck(params)(x)


def test_a_strided_conv1_still_refuses_nan_at_the_pixels_it_skips():
    block = Bottleneck(32, 8, stride=2, variant="v1")
    params = bottleneck_params(block, seed=0, dtype="float32")
    x = bottleneck_input(block, 1, 8, seed=1, dtype="float32")
    x[0, 0, 1, 1] = np.nan  # odd row and column: conv1 (stride 2) never reads it
    with pytest.raises(VerifierError, match=r"input has 1 NaN"):
        FoldedBottleneck(params)(x)


def test_an_overflow_from_finite_inputs_is_reported_as_an_overflow():
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float32")
    x = np.full((1, 16, 4, 4), 3e38, np.float32)  # finite, but 16 of them summed leave float32
    params = dataclasses.replace(params, conv1=np.abs(params.conv1) + np.float32(1))
    message = "the bottleneck's conv1 overflowed float32: the result has non-finite entries although every input"
    with pytest.raises(VerifierError, match="^" + re.escape(message)):
        FoldedBottleneck(params)(x)


def test_elementwise_threads_only_when_asked_and_only_for_large_passes(monkeypatch):
    monkeypatch.delenv("VERIFIER_ELEMENTWISE_THREADS", raising=False)
    assert par.elementwise_workers(10 * par.ELEMENTWISE_MIN) == 1
    monkeypatch.setenv("VERIFIER_ELEMENTWISE_THREADS", "3")
    assert par.elementwise_workers(par.ELEMENTWISE_MIN - 1) == 1
    assert par.elementwise_workers(par.ELEMENTWISE_MIN) == 3
    monkeypatch.setenv("VERIFIER_ELEMENTWISE_THREADS", "two")
    assert par.elementwise_workers(par.ELEMENTWISE_MIN) == 1


@pytest.mark.parametrize("where", ["conv2", "conv3"])
def test_an_overflow_after_conv1_is_reported_too(where):
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float32")
    big = np.full_like(getattr(params, where), 1e36)
    params = dataclasses.replace(params, **{where: big})
    x = np.full((1, 16, 4, 4), 1e4, np.float32)
    with pytest.raises(VerifierError, match=r"bottleneck overflowed float32"):
        FoldedBottleneck(params)(x)
    with pytest.raises(VerifierError, match=r"overflowed float32"):  # the definition refuses it as well
        bottleneck_forward(x, params)


def test_the_residual_add_overflowing_is_reported():
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float32")
    bn3 = dataclasses.replace(params.bn3, bias=np.full_like(params.bn3.bias, 2e38))
    params = dataclasses.replace(params, bn3=bn3, conv1=params.conv1 * np.float32(1e-30))  # conv1 stays finite
    x = np.full((1, 16, 4, 4), 2e38, np.float32)  # finite, and so is 2e38 plus a small conv3 result, but not the sum
    x[0, :, 1:, :] = 0.5
    with pytest.raises(VerifierError, match=r"bottleneck overflowed float32"):
        FoldedBottleneck(params)(x)


def test_an_overflow_in_the_last_item_of_a_batch_is_reported():
    """The output is looked at item by item: an overflow confined to the last one must still be refused."""
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float32")
    bn3 = dataclasses.replace(params.bn3, bias=np.full_like(params.bn3.bias, 2e38))
    params = dataclasses.replace(params, bn3=bn3, conv1=params.conv1 * np.float32(1e-30))
    x = np.full((3, 16, 4, 4), -1e30, np.float32)  # items 0 and 1: 2e38 - 1e30 stays below the largest float32
    x[2, :, 0, :] = 2e38  # item 2: its first row adds up past the largest float32
    x[2, :, 1:, :] = 0.5
    model = FoldedBottleneck(params)
    assert model.fast
    assert np.isfinite(model(x[:2])).all()  # the first two items alone are fine
    with pytest.raises(VerifierError, match=r"bottleneck overflowed float32"):
        model(x)


def test_an_overflow_in_the_last_step_of_the_output_is_reported(monkeypatch):
    """With one map per step, the overflow check looks at each step: the last map alone must still be seen."""
    monkeypatch.setattr(blocks, "STEP_BYTES", 1)
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float32")
    bias = np.zeros_like(params.bn3.bias)
    bias[-1] = 2e38
    params = dataclasses.replace(params, bn3=dataclasses.replace(params.bn3, bias=bias), conv1=params.conv1 * 1e-30)
    x = np.full((1, 16, 4, 4), 0.5, np.float32)
    model = FoldedBottleneck(params)
    assert np.isfinite(model(x)).all()  # 2e38 plus a small conv3 result and 0.5 is finite
    x[0, -1, 3, 3] = 2e38  # the last map's last pixel: 2e38 + 2e38 leaves float32
    with pytest.raises(VerifierError, match=r"bottleneck overflowed float32"):
        model(x)
