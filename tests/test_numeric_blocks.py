"""Proofs that the bottleneck forward passes (verifier/numeric/blocks.py), plain and folded, compute the block's
definition.

Both passes are compared with the loop definition (:func:`verifier.numeric.reference.bottleneck`) exactly on
integer data; the folded block's fast path (conv1's bias carried in the padding, row and pixel bands on
threads, fused add and ReLU) and its generic path (exact, grouped, strided blocks) are checked against the
plain pass, and every overflow or non-finite input is refused wherever in the block it appears.
"""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verifier import Bottleneck, VerifierError, VerifierTypeError
from verifier.numeric import (
    FoldedBottleneck,
    batch_norm,
    blocks,
    bottleneck_forward,
    bottleneck_input,
    bottleneck_params,
    conv2d,
    reference,
)
from verifier.numeric import parallel as par
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
    x = bottleneck_input(block, batch=2, input_size=(5, 4), seed=4, dtype="object", integer=True)
    mine = bottleneck_forward(x, params)
    theirs = reference.bottleneck(x.tolist(), params, sqrt=exact_sqrt)
    assert mine.tolist() == theirs


@pytest.mark.parametrize("block", BLOCKS, ids=repr)
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 6)])
def test_folded_float64_engine_equals_the_exact_definition(block: Bottleneck, size: tuple[int, int]) -> None:
    """Integer data with dyadic batch norms is exact in float64, so the folded fast engine must match exactly."""
    exact_params = bottleneck_params(block, seed=5, dtype="object", integer=True)
    float_params = bottleneck_params(block, seed=5, dtype="float64", integer=True)
    x = bottleneck_input(block, batch=2, input_size=size, seed=6, dtype="float64", integer=True)
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
    x = bottleneck_input(block, batch=3, input_size=(6, 5), seed=2, dtype=dtype)  # type: ignore[arg-type]
    plain = bottleneck_forward(x, params)
    folded = FoldedBottleneck(params)(x)
    assert plain.dtype == folded.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(folded, plain, rtol=tol, atol=tol)


def test_reused_output_and_buffers_give_the_same_result() -> None:
    block = Bottleneck(16, 4)
    model = FoldedBottleneck(bottleneck_params(block, seed=0, dtype="float64", integer=True))
    a = bottleneck_input(block, batch=2, input_size=5, seed=1, dtype="float64", integer=True)
    b = bottleneck_input(block, batch=1, input_size=(3, 8), seed=2, dtype="float64", integer=True)
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
    x = bottleneck_input(block, batch=2, input_size=(7, 5), seed=8, dtype="float64", integer=True)
    exact = bottleneck_forward(x.astype(np.int64), exact_params)
    np.testing.assert_array_equal(FoldedBottleneck(float_params)(x), exact.astype(np.float64))


@pytest.mark.parametrize("threads", ["1", "2"])
def test_pixel_bands_on_threads_compute_the_same_1x1_conv_exactly(
    monkeypatch: pytest.MonkeyPatch, threads: str
) -> None:

    monkeypatch.setenv("VERIFIER_THREADS", threads)
    rng = np.random.default_rng(9)
    x = rng.integers(-3, 4, (2, 4, 48, 48)).astype(np.float64)  # 2,304 pixels: enough for two bands
    w = rng.integers(-3, 4, (5, 4, 1, 1)).astype(np.float64)
    expected = np.einsum("oi,nihw->nohw", w[:, :, 0, 0], x)
    np.testing.assert_array_equal(conv2d(x, w), expected)


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


GENERIC = [
    Bottleneck(16, 4, groups=2, base_width=32),  # grouped 3x3, identity shortcut
    Bottleneck(8, 2, stride=2, variant="v1"),  # v1: the first 1x1 strides (exact dtype: generic path)
    Bottleneck(8, 2, stride=2, variant="v1", groups=2, base_width=64),  # strided 1x1 and a grouped 3x3
    Bottleneck(8, 2),  # identity, exact
]


@pytest.mark.parametrize("block", GENERIC, ids=repr)
def test_the_exact_generic_path_equals_the_definition(block: Bottleneck) -> None:
    params = bottleneck_params(block, seed=2, dtype="object", integer=True)
    x = bottleneck_input(block, batch=2, input_size=(5, 6), seed=3, dtype="object", integer=True)
    folded = FoldedBottleneck(params)
    assert not folded.fast
    mine, theirs = folded(x), bottleneck_forward(x, params)
    assert mine.shape == theirs.shape == block.output_shape(x.shape)
    assert mine.tolist() == theirs.tolist()
    assert all(type(v) in (int, Fraction) for v in mine.ravel())


@pytest.mark.parametrize("block", [GENERIC[0], GENERIC[2]], ids=repr)
def test_the_float_generic_path_of_a_grouped_block_equals_the_definition(block: Bottleneck) -> None:
    # dyadic data: float64 computes the block exactly, so the folded and unfolded passes agree to the bit
    params = bottleneck_params(block, seed=4, dtype="float64", integer=True)
    x = bottleneck_input(block, batch=2, input_size=(7, 5), seed=5, dtype="float64", integer=True)
    folded = FoldedBottleneck(params)
    assert not folded.fast
    np.testing.assert_array_equal(folded(x), bottleneck_forward(x, params))
    out = np.empty(block.output_shape(x.shape), np.float64)
    assert folded(x, out=out) is out
    np.testing.assert_array_equal(out, bottleneck_forward(x, params))


@pytest.mark.parametrize(
    ("block", "dtype", "text"),
    [
        (
            Bottleneck(8, 2),
            "float64",
            "FoldedBottleneck(Bottleneck(in_channels=8, planes=2, ...), dtype=float64, fast path)",
        ),
        (
            Bottleneck(16, 4, groups=2, base_width=32),
            "float32",
            "FoldedBottleneck(Bottleneck(in_channels=16, planes=4, ...), dtype=float32, generic path)",
        ),
        (
            Bottleneck(8, 2),
            "object",
            "FoldedBottleneck(Bottleneck(in_channels=8, planes=2, ...), dtype=object, generic path)",
        ),
    ],
)
def test_a_folded_block_shows_its_sizes_dtype_and_path(block: Bottleneck, dtype: str, text: str) -> None:
    assert repr(FoldedBottleneck(bottleneck_params(block, dtype=dtype, integer=True))) == text  # type: ignore[arg-type]


def _held_bytes(folded: FoldedBottleneck, output: np.ndarray, stride: int) -> int:
    """Bytes of the output and of the buffers the fast path allocated and keeps (views excluded)."""
    [((h, w), buffers)] = folded._buffers.items()
    arrays = [buffers["stacked"], buffers["a2"], buffers["floor"], *buffers["tmp"], buffers["short"]]
    strided_copy = folded.block.in_channels * h * w * output.itemsize if stride != 1 else 0
    from verifier.numeric.activations import _zeros

    zeros_row = _zeros(h * w, output.dtype.str)  # the row the ReLUs compare against, cached once per length
    return output.nbytes + sum(a.nbytes for a in arrays if a.base is None) + strided_copy + int(zeros_row.nbytes)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("block", "stride"),
    [
        (Bottleneck(32, 16, projection=True), 1),
        (Bottleneck(64, 16, stride=2, variant="v1"), 2),
        (Bottleneck(64, 16), 1),
    ],
    ids=repr,
)
def test_the_workspace_estimate_is_what_the_fast_path_allocates(block: Bottleneck, stride: int, dtype: str) -> None:
    folded = FoldedBottleneck(bottleneck_params(block, seed=0, dtype=dtype))  # type: ignore[arg-type]
    x = bottleneck_input(block, batch=2, input_size=(9, 7), seed=1, dtype=dtype)  # type: ignore[arg-type]
    assert folded.fast
    held = _held_bytes(folded, folded(x), stride)
    if block.has_projection:
        assert folded.workspace_bytes(x.shape) == held
    else:  # an identity block keeps no shortcut buffer, which the estimate still counts (out_channels rows)
        assert folded.workspace_bytes(x.shape) == held + block.out_channels * 9 * 7 * x.itemsize


def test_a_forward_pass_too_large_for_memory_names_the_bottleneck_and_its_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from verifier import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1024)
    block = Bottleneck(64, 16)
    folded = FoldedBottleneck(bottleneck_params(block, dtype="float32"))
    x = np.zeros((256, 64, 32, 32), np.float32)  # a workspace over the 64 MiB below which the system is not asked
    with pytest.raises(VerifierError, match=re.escape("the bottleneck on input (256, 64, 32, 32) needs about")):
        folded(x)


def test_a_folded_block_refuses_anything_but_bottleneck_params() -> None:
    with pytest.raises(VerifierTypeError, match=re.escape("params must be BottleneckParams, got str")):
        FoldedBottleneck("params")  # type: ignore[arg-type]


def test_a_spare_projection_batch_norm_on_an_identity_block_is_ignored() -> None:
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=6, dtype="float64", integer=True)
    spare = dataclasses.replace(params, downsample_bn=params.bn3)
    x = bottleneck_input(block, batch=1, input_size=5, seed=7, dtype="float64", integer=True)
    np.testing.assert_array_equal(FoldedBottleneck(spare)(x), bottleneck_forward(x, params))
    np.testing.assert_array_equal(bottleneck_forward(x, spare), bottleneck_forward(x, params))


@pytest.mark.parametrize("x", ["abc", [[1, 2]], np.zeros((1, 8, 3, 3), bool)], ids=["str", "2-D", "bool"])
def test_a_bad_input_to_either_pass_is_named_input(x: object) -> None:
    params = bottleneck_params(Bottleneck(8, 2), dtype="float64")
    for forward in (bottleneck_forward, lambda a, p: FoldedBottleneck(p)(a)):
        with pytest.raises(VerifierError, match=r"^input "):
            forward(x, params)


def test_an_infinite_input_times_a_zero_weight_is_refused_as_input_not_as_a_warning() -> None:
    # 0 * inf is an invalid operation: the fast path must stay quiet about it (the suite turns warnings into
    # errors) and name the infinite entry, which conv1's finite-result check then finds
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=1, dtype="float64", integer=True)
    conv1 = params.conv1.copy()
    conv1[:, 5] = 0  # input channel 5 reaches no conv1 output
    folded = FoldedBottleneck(dataclasses.replace(params, conv1=conv1))
    assert folded.fast
    x = bottleneck_input(block, batch=2, input_size=(6, 5), seed=2, dtype="float64", integer=True)
    x[1, 5, 2, 3] = np.inf
    message = "input has 0 NaN and 1 infinite entries (first at index [1, 5, 2, 3])"
    with pytest.raises(VerifierError, match=re.escape(message)):
        folded(x)


@pytest.mark.parametrize(
    "block", [Bottleneck(16, 4), Bottleneck(16, 4, stride=2, variant="v1", projection=True)], ids=repr
)
def test_a_float32_block_keeps_every_folded_array_and_buffer_in_float32(block: Bottleneck) -> None:
    # float64 anywhere would make NumPy leave float32 BLAS for a slower mixed loop and double the memory
    folded = FoldedBottleneck(bottleneck_params(block, seed=3, dtype="float32"))
    folded(bottleneck_input(block, batch=1, input_size=(5, 4), seed=4, dtype="float32"))
    arrays = {
        name: getattr(folded, name) for name in ("_w1", "_w2", "_w3", "_low1", "w1", "b1", "w2", "b2", "w3", "b3")
    }
    if block.has_projection:
        arrays.update(_wd=folded._wd, wd=folded.wd, bd=folded.bd)
    [buffers] = folded._buffers.values()
    arrays.update({key: buffers[key] for key in ("stacked", "a2", "floor", "short")})
    arrays.update({f"tmp{i}": t for i, t in enumerate(buffers["tmp"])})
    assert {name: a.dtype for name, a in arrays.items()} == dict.fromkeys(arrays, np.dtype(np.float32))


@pytest.mark.parametrize(
    "block", [Bottleneck(16, 4), Bottleneck(16, 4, stride=2, variant="v1", projection=True)], ids=repr
)
def test_the_workspace_estimate_counts_4_8_or_64_bytes_an_entry_by_dtype(block: Bottleneck) -> None:
    # the same entries in each dtype: 4 and 8 bytes a float, a pointer and a Fraction (64 bytes) an object
    estimates = {
        dtype: FoldedBottleneck(bottleneck_params(block, dtype=dtype, integer=True)).workspace_bytes((2, 16, 9, 7))
        for dtype in ("float32", "float64", "object")
    }
    entries = estimates["float64"] // 8
    assert entries * 8 == estimates["float64"] and entries > 2 * 16 * 9 * 7 // block.stride**2
    assert estimates == {"float32": 4 * entries, "float64": 8 * entries, "object": 64 * entries}


@pytest.mark.parametrize("threads", ["1", "2"])  # one band of rows, or two bands each checking its own output
def test_an_overflow_after_conv1_is_refused_with_the_whole_message(
    monkeypatch: pytest.MonkeyPatch, threads: str
) -> None:
    monkeypatch.setenv("VERIFIER_THREADS", threads)
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float32")
    params = dataclasses.replace(params, conv3=np.full_like(params.conv3, 1e36))
    message = "the bottleneck overflowed float32: its output has non-finite entries although every input is finite"
    with pytest.raises(VerifierError, match=f"^{re.escape(message)}$"):
        FoldedBottleneck(params)(np.full((1, 16, 4, 4), 1e4, np.float32))


def test_the_plain_pass_reports_a_residual_add_that_overflows_with_the_whole_message() -> None:
    """Every layer's result is finite (conv1 and conv3 are zero, bn3 shifts to 2e38) and so is the input (2e38);
    their sum is not."""
    params = bottleneck_params(Bottleneck(16, 4), seed=0, dtype="float32")
    big = dataclasses.replace(params.bn3, bias=np.full_like(params.bn3.bias, 2e38))
    params = dataclasses.replace(params, conv1=np.zeros_like(params.conv1), conv3=np.zeros_like(params.conv3), bn3=big)
    message = (
        "the bottleneck overflowed float32: the residual add has non-finite entries although every input is finite"
    )
    with pytest.raises(VerifierError, match=f"^{re.escape(message)}$"):
        bottleneck_forward(np.full((1, 16, 4, 4), 2e38, np.float32), params)


@pytest.mark.parametrize(
    "out",
    [np.empty((1, 16, 3, 3), np.float32), np.empty((1, 16, 3, 6), np.float64)[..., ::2]],
    ids=["float32", "strided"],
)
def test_an_output_array_of_the_right_shape_but_wrong_dtype_or_layout_is_refused(out: np.ndarray) -> None:
    params = bottleneck_params(Bottleneck(16, 4), dtype="float64")
    message = "out must be a C-contiguous float64 array of shape (1, 16, 3, 3), got (1, 16, 3, 3)"
    with pytest.raises(VerifierError, match=re.escape(message)):
        FoldedBottleneck(params)(np.ones((1, 16, 3, 3)), out=out)


@pytest.mark.parametrize(("block", "scans"), [(Bottleneck(16, 4), 0), (Bottleneck(16, 4, stride=2, variant="v1"), 1)])
def test_only_a_strided_fast_block_scans_its_input_for_non_finite_entries_up_front(
    monkeypatch: pytest.MonkeyPatch, block: Bottleneck, scans: int
) -> None:
    # unstrided, conv1 reads every entry and its finite result proves the input finite: no separate pass
    from verifier.numeric import blocks
    from verifier.numeric._guards import ensure_finite as real

    names: list[str] = []

    def counting(name: str, arr: np.ndarray) -> float:
        names.append(name)
        return real(name, arr)

    monkeypatch.setattr(blocks, "ensure_finite", counting)
    folded = FoldedBottleneck(bottleneck_params(block, seed=1, dtype="float64"))
    assert folded.fast
    folded(bottleneck_input(block, batch=1, input_size=6, seed=2, dtype="float64"))
    assert names == ["input"] * scans


def test_the_block_refuses_bad_parameters_and_inputs() -> None:
    block = Bottleneck(8, 2)
    params = bottleneck_params(block, seed=0)
    with pytest.raises(VerifierTypeError, match=re.escape("block must be a verifier.Bottleneck, got str")):
        bottleneck_params("resnet50")  # type: ignore[arg-type]
    with pytest.raises(VerifierError, match=re.escape("dtype must be one of float32, float64, object, got 'float16'")):
        bottleneck_params(block, dtype="float16")  # type: ignore[arg-type]
    with pytest.raises(VerifierError, match=re.escape("batch must be a positive int, got 0")):
        bottleneck_input(block, batch=0, input_size=4)
    with pytest.raises(VerifierError, match=re.escape("input must be 4-D (N, C, H, W), got shape (8, 4, 4)")):
        bottleneck_forward(np.ones((8, 4, 4), np.float32), params)
    with pytest.raises(VerifierError, match=re.escape("input has 4 channels but the block expects 8")):
        bottleneck_forward(np.ones((1, 4, 4, 4), np.float32), params)
    with pytest.raises(VerifierTypeError, match=re.escape("dtypes differ (input is float64, weight is float32)")):
        bottleneck_forward(np.ones((1, 8, 4, 4)), params)
    with pytest.raises(VerifierError, match=re.escape("input has 128 NaN and 0 infinite entries")):
        bottleneck_forward(np.full((1, 8, 4, 4), np.nan, np.float32), params)
    with pytest.raises(VerifierError, match=r"an input of shape \(1000000, 256, 56, 56\) needs about .* nothing was"):
        bottleneck_input(batch=10**6)


def test_exact_bottleneck_equals_the_loop_definition_with_a_projection_and_stride() -> None:
    for block in (Bottleneck(8, 2, stride=2, variant="v1"), Bottleneck(8, 4, stride=2, groups=2), Bottleneck(8, 2)):
        params = bottleneck_params(block, seed=3, dtype="object", integer=True)
        x = bottleneck_input(block, batch=1, input_size=5, seed=4, dtype="object", integer=True)
        roots = {Fraction(r) ** 2: Fraction(r) for r in (Fraction(1, 2), 1, 2)}
        expected = reference.bottleneck(x.tolist(), params, sqrt=lambda v, roots=roots: roots[v])
        assert bottleneck_forward(x, params).tolist() == expected, block


@pytest.mark.parametrize("params", ["p", None, Bottleneck(8, 2)])
def test_the_block_forward_wants_its_parameters(params: Any) -> None:
    message = f"params must be a BottleneckParams (see bottleneck_params), got {type(params).__name__}"
    with pytest.raises(VerifierTypeError, match="^" + re.escape(message) + "$"):
        bottleneck_forward(np.ones((1, 8, 4, 4), np.float32), params)


def test_the_engine_keeps_working_in_a_forked_child() -> None:
    import os
    import signal

    from verifier.numeric import FoldedBottleneck

    params = bottleneck_params(seed=0)
    x = bottleneck_input(input_size=28, seed=1)
    block = FoldedBottleneck(params)
    expected = block(x)  # the parent's thread pool now exists
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        signal.alarm(60)
        os._exit(0 if np.array_equal(block(x), expected) else 3)
    _, status = os.waitpid(pid, 0)
    assert status == 0, f"the forked child ended with status {status} (14: it hung until the alarm)"


def test_exact_batch_norm_and_bottleneck_take_numpy_integers_as_python_ints() -> None:
    x = np.array([[[[np.int64(2**62), np.int64(-(2**62))]]]], object)
    out = batch_norm(x, [np.int64(0)], [np.int64(3)], weight=[np.int64(2**3)], eps=Fraction(1))  # sqrt(3 + 1) = 2
    assert out.ravel().tolist() == [2**64, -(2**64)]
    block = Bottleneck(4, 1)
    params = bottleneck_params(block, dtype="object", integer=True)
    x = bottleneck_input(block, input_size=2, dtype="object", integer=True) * 2**60  # sums beyond int64
    wrapped = np.vectorize(np.int64, otypes=[object])(x)  # the same values as NumPy integers
    assert bottleneck_forward(wrapped, params).tolist() == bottleneck_forward(x, params).tolist()


def _params_whose_residual_add_overflows(dtype: str) -> Any:
    """Zero conv weights, so every layer is finite, and bn3's shift at the dtype's largest value."""
    from verifier.numeric import BatchNormParams

    block = Bottleneck(8, 2)
    params = bottleneck_params(block, dtype=dtype)  # type: ignore[arg-type]
    big = np.full(8, np.finfo(dtype).max * 0.75, dtype)
    zeros = {name: np.zeros_like(getattr(params, name)) for name in ("conv1", "conv2", "conv3")}
    bn3 = BatchNormParams(np.zeros(8, dtype), np.ones(8, dtype), np.ones(8, dtype), big, 0.0)
    return type(params)(block, zeros["conv1"], params.bn1, zeros["conv2"], params.bn2, zeros["conv3"], bn3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_both_bottleneck_paths_refuse_an_overflowing_residual_add(dtype: str) -> None:
    from verifier.numeric import FoldedBottleneck

    params = _params_whose_residual_add_overflows(dtype)
    x = np.full((1, 8, 3, 3), np.finfo(dtype).max * 0.75, dtype)  # finite; plus bn3's shift it is not
    with pytest.raises(VerifierError, match=f"the bottleneck overflowed {dtype}"):
        bottleneck_forward(x, params)
    with pytest.raises(VerifierError, match=f"the bottleneck overflowed {dtype}"):
        FoldedBottleneck(params)(x)
    half = (x / 4).astype(dtype)  # and both agree where nothing overflows
    np.testing.assert_allclose(bottleneck_forward(half, params), FoldedBottleneck(params)(half), rtol=1e-6)
