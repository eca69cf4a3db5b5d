"""Proofs about the bottleneck's parameters and inputs: what is drawn, in which dtype, and what is refused.

The draws are checked against the documented sets and ranges (counted with exact arithmetic where the values
are dyadic), not against the generator that drew them; the refusals are checked by their exact messages.
"""

from __future__ import annotations

import dataclasses
import math
import re
from fractions import Fraction

import numpy as np
import pytest

from verifier import Bottleneck, VerifierError, VerifierTypeError
from verifier.numeric import bottleneck_input, bottleneck_params
from verifier.numeric.params import BatchNormParams, BottleneckParams

#: a block with enough channels that every value of a small set is drawn, and a projection to draw too
WIDE = Bottleneck(256, 64, stride=2, projection=True)
EPS = Fraction(1, 2**16)
HALVES = {Fraction(k, 2) for k in range(-2, 3)}


def _batch_norms(params: BottleneckParams) -> dict[str, tuple[BatchNormParams, int]]:
    """Each batch norm with the channel count the block gives it."""
    block = params.block
    assert params.downsample_bn is not None
    return {
        "bn1": (params.bn1, block.width),
        "bn2": (params.bn2, block.width),
        "bn3": (params.bn3, block.out_channels),
        "downsample_bn": (params.downsample_bn, block.out_channels),
    }


def _exact(values: np.ndarray) -> set[Fraction]:
    """The distinct values, as exact fractions (a float's value is exactly its Fraction)."""
    if values.dtype == object:
        return set(values.ravel().tolist())
    return {Fraction(v) for v in np.unique(values).tolist()}


@pytest.mark.parametrize("dtype", ["float32", "float64", "object"])
def test_integer_batch_norms_draw_halves_gammas_and_square_variances(dtype: str) -> None:
    params = bottleneck_params(WIDE, seed=3, dtype=dtype, integer=True)  # type: ignore[arg-type]
    for name, (bn, channels) in _batch_norms(params).items():
        for array in (bn.running_mean, bn.running_var, bn.weight, bn.bias):
            assert array.shape == (channels,), name
            assert array.dtype == np.dtype(dtype), name
        if dtype == "object":
            assert type(bn.eps) is Fraction and bn.eps == EPS
            assert all(type(v) is Fraction for a in (bn.running_mean, bn.running_var) for v in a)
        else:
            assert type(bn.eps) is float and bn.eps == 2.0**-16
        # every value of each documented set is drawn (64 or more channels), and nothing else
        assert _exact(bn.running_mean) == HALVES, name
        assert _exact(bn.bias) == HALVES, name
        assert _exact(bn.weight) == {Fraction(1, 2), Fraction(1), Fraction(3, 2)}, name
        assert {v + EPS for v in _exact(bn.running_var)} == {Fraction(1, 4), Fraction(1), Fraction(4)}, name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_batch_norms_are_near_the_identity(dtype: str) -> None:
    block = Bottleneck(1024, 256, projection=True)  # 1024 and 256 channels: tight sample statistics
    params = bottleneck_params(block, seed=5, dtype=dtype)  # type: ignore[arg-type]
    for name, (bn, channels) in _batch_norms(params).items():
        assert type(bn.eps) is float and bn.eps == 1e-5
        for array in (bn.running_mean, bn.running_var, bn.weight, bn.bias):
            assert array.shape == (channels,) and array.dtype == np.dtype(dtype), name
        for array in (bn.running_mean, bn.bias):  # normal, scale 1/10
            values = array.astype(np.float64)
            assert abs(values.mean()) < 0.03 and 0.085 < values.std() < 0.115, name
        # uniform on [1/2, 2] and [1/2, 3/2]: inside the interval and reaching near both ends
        for array, low, high in ((bn.running_var, 0.5, 2.0), (bn.weight, 0.5, 1.5)):
            values = array.astype(np.float64)
            assert low <= values.min() < low + 0.05 and high - 0.05 < values.max() <= high, name


@pytest.mark.parametrize("dtype", ["float64", "object"])
def test_integer_weights_span_minus_2_to_2(dtype: str) -> None:
    params = bottleneck_params(WIDE, seed=4, dtype=dtype, integer=True)  # type: ignore[arg-type]
    weights = {"conv1": params.conv1, "conv2": params.conv2, "conv3": params.conv3, "downsample.0": params.downsample}
    for name, conv in WIDE.convs():
        weight = weights[name]
        assert weight is not None and weight.shape == conv.weight_shape and weight.dtype == np.dtype(dtype)
        assert _exact(weight) == {Fraction(k) for k in range(-2, 3)}, name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_weights_are_he_scaled_by_their_fan_in(dtype: str) -> None:
    block = Bottleneck(256, 64, groups=4, base_width=64 * 4 // 4, stride=2, projection=True)
    params = bottleneck_params(block, seed=6, dtype=dtype)  # type: ignore[arg-type]
    weights = {"conv1": params.conv1, "conv2": params.conv2, "conv3": params.conv3, "downsample.0": params.downsample}
    for name, conv in block.convs():
        weight = weights[name]
        assert weight is not None and weight.shape == conv.weight_shape and weight.dtype == np.dtype(dtype)
        kh, kw = conv.kernel_pair
        fan_in = conv.in_channels // conv.groups * kh * kw  # inputs one output sums over
        values = weight.astype(np.float64)
        assert abs(values.mean()) < 0.1 * math.sqrt(2 / fan_in), name
        assert values.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.06), name


def test_parameters_default_to_the_resnet50_block_in_float32() -> None:
    params = bottleneck_params()
    assert params.block == Bottleneck()
    assert params.conv1.shape == (64, 256, 1, 1) and params.conv2.shape == (64, 64, 3, 3)
    assert params.conv3.shape == (256, 64, 1, 1) and params.downsample is None and params.downsample_bn is None
    assert params.dtype == np.float32 and type(params.bn1.eps) is float  # not the integer draw
    assert len(set(params.conv1.ravel().tolist())) > 5  # a normal draw, not five integers
    assert repr(params) == f"BottleneckParams({Bottleneck()!r}, dtype=float32)"


def test_seeds_are_reproducible_and_distinct() -> None:
    block = Bottleneck(16, 4, projection=True)
    first, again, other = (bottleneck_params(block, seed=s, dtype="float64") for s in (7, 7, 8))
    default = bottleneck_params(block, dtype="float64")
    for field in ("conv1", "conv2", "conv3", "downsample"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
        assert not np.array_equal(getattr(first, field), getattr(other, field))
    np.testing.assert_array_equal(default.conv1, bottleneck_params(block, seed=0, dtype="float64").conv1)
    # each layer draws from the stream after the one before: no two layers repeat the same numbers
    assert not np.array_equal(first.bn1.running_mean, first.bn2.running_mean)
    assert not np.array_equal(first.bn3.running_mean, first.downsample_bn.running_mean)  # type: ignore[union-attr]


def test_a_bad_block_or_seed_is_refused_by_name() -> None:
    with pytest.raises(VerifierTypeError, match=re.escape("block must be a verifier.Bottleneck, got int")):
        bottleneck_params(3)  # type: ignore[arg-type]
    with pytest.raises(VerifierError, match=re.escape("seed must be an int >= 0, got -1")):
        bottleneck_params(seed=-1)
    with pytest.raises(VerifierError, match=re.escape("seed must be an int >= 0, got -1")):
        bottleneck_input(seed=-1)
    with pytest.raises(VerifierError, match=re.escape("dtype must be one of float32, float64, object, got None")):
        bottleneck_input(dtype=None)  # type: ignore[arg-type]


def _params(block: Bottleneck) -> BottleneckParams:
    return bottleneck_params(block, seed=1, dtype="float64")


def test_params_refuse_a_block_that_is_not_a_bottleneck() -> None:
    p = _params(Bottleneck(8, 2))
    with pytest.raises(VerifierTypeError, match=re.escape("block must be a verifier.Bottleneck, got str")):
        dataclasses.replace(p, block="Bottleneck(8, 2)")  # type: ignore[arg-type]


def test_params_of_a_projection_block_need_both_projection_arrays() -> None:
    block = Bottleneck(8, 2, projection=True)
    p = _params(block)
    message = f"{block!r} has a projection shortcut: give downsample and downsample_bn"
    with pytest.raises(VerifierError, match=re.escape(message)):
        dataclasses.replace(p, downsample=None)
    with pytest.raises(VerifierError, match=re.escape(message)):
        dataclasses.replace(p, downsample_bn=None)
    with pytest.raises(
        VerifierError, match=re.escape("downsample.0 weight must have shape (8, 8, 1, 1), got (8, 4, 1, 1)")
    ):
        dataclasses.replace(p, downsample=p.downsample[:, :4])  # type: ignore[index]
    assert dataclasses.replace(p).downsample is p.downsample  # the full set is accepted


def test_params_of_an_identity_block_refuse_a_projection_weight() -> None:
    block = Bottleneck(8, 2)
    p = _params(block)
    with pytest.raises(VerifierError, match=re.escape(f"{block!r} has an identity shortcut: downsample must be None")):
        dataclasses.replace(p, downsample=np.zeros((8, 8, 1, 1)))


@pytest.mark.parametrize(
    ("field", "shape", "expected"),
    [
        ("conv1", (2, 4, 1, 1), (2, 8, 1, 1)),
        ("conv2", (2, 2, 1, 1), (2, 2, 3, 3)),
        ("conv3", (4, 2, 1, 1), (8, 2, 1, 1)),
    ],
)
def test_each_weight_of_the_wrong_shape_is_named_with_both_shapes(
    field: str, shape: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    p = _params(Bottleneck(8, 2))
    message = f"{field} weight must have shape {expected}, got {shape}"
    with pytest.raises(VerifierError, match=f"^{re.escape(message)}$"):
        dataclasses.replace(p, **{field: np.zeros(shape)})  # type: ignore[arg-type]


def test_a_weight_that_is_not_an_array_is_shown_as_given() -> None:
    p = _params(Bottleneck(8, 2))
    with pytest.raises(VerifierError, match=re.escape("conv3 weight must have shape (8, 2, 1, 1), got [[1.0]]")):
        dataclasses.replace(p, conv3=[[1.0]])  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "channels"), [("bn1", 2), ("bn2", 2), ("bn3", 8)])
def test_each_batch_norm_of_the_wrong_width_is_named(field: str, channels: int) -> None:
    p = _params(Bottleneck(8, 2))
    wrong = p.bn1 if field == "bn3" else p.bn3  # 2 channels where 8 belong, 8 where 2 belong
    got = wrong.running_mean.shape
    with pytest.raises(VerifierError, match=f"^{re.escape(f'{field} must have {channels} channels, got {got}')}$"):
        dataclasses.replace(p, **{field: wrong})  # type: ignore[arg-type]


def test_inputs_default_to_one_float32_resnet50_map_of_56_by_56_from_seed_0() -> None:
    x = bottleneck_input()
    assert x.shape == (1, 256, 56, 56) and x.dtype == np.float32
    reference = np.random.default_rng(0).standard_normal((1, 256, 56, 56)).astype(np.float32)
    np.testing.assert_array_equal(x, reference)


def test_input_sizes_of_one_are_allowed_and_zero_or_booleans_refused() -> None:
    block = Bottleneck(8, 2)
    assert bottleneck_input(block, batch=1, size=1).shape == (1, 8, 1, 1)
    assert bottleneck_input(block, size=(1, 3)).shape == (1, 8, 1, 3)
    with pytest.raises(VerifierError, match=re.escape("size must be a positive int or a pair of them, got (2, 0)")):
        bottleneck_input(block, size=(2, 0))
    with pytest.raises(VerifierError, match=re.escape("batch must be a positive int, got True (bool)")):
        bottleneck_input(block, batch=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "object"])
def test_inputs_come_in_the_dtype_asked_for(dtype: str) -> None:
    x = bottleneck_input(Bottleneck(8, 2), batch=2, size=4, seed=3, dtype=dtype, integer=True)  # type: ignore[arg-type]
    assert x.dtype == np.dtype(dtype) and x.shape == (2, 8, 4, 4)
    assert _exact(x) <= {Fraction(k) for k in range(-3, 4)}
    if dtype == "object":
        assert all(type(v) is Fraction for v in x.ravel())
