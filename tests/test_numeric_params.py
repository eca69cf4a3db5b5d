"""Proofs about the bottleneck's parameters and inputs (verifier/numeric/params.py): what is drawn, in which dtype,
and what is refused.

The draws are checked against the documented sets and ranges (counted with exact arithmetic where the values
are exact), and every bad argument is refused by its name.
"""

from __future__ import annotations

import dataclasses
import math
import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verifier import Bottleneck, VerifierError, VerifierTypeError
from verifier.numeric import bottleneck_input, bottleneck_params, conv2d
from verifier.numeric.normalization import exact_sqrt
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
    assert bottleneck_input(block, batch=1, input_size=1).shape == (1, 8, 1, 1)
    assert bottleneck_input(block, input_size=(1, 3)).shape == (1, 8, 1, 3)
    with pytest.raises(
        VerifierError, match=re.escape("input_size must be a positive int or a pair of them, got (2, 0)")
    ):
        bottleneck_input(block, input_size=(2, 0))
    with pytest.raises(VerifierError, match=re.escape("batch must be a positive int, got True (bool)")):
        bottleneck_input(block, batch=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "object"])
def test_inputs_come_in_the_dtype_asked_for(dtype: str) -> None:
    x = bottleneck_input(Bottleneck(8, 2), batch=2, input_size=4, seed=3, dtype=dtype, integer=True)  # type: ignore[arg-type]
    assert x.dtype == np.dtype(dtype) and x.shape == (2, 8, 4, 4)
    assert _exact(x) <= {Fraction(k) for k in range(-3, 4)}
    if dtype == "object":
        assert all(type(v) is Fraction for v in x.ravel())


@pytest.mark.parametrize("size", [1.5, "56", (4, 0), None, True])
def test_a_block_input_size_must_be_a_positive_int_or_pair(size: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("input_size must be a positive int or a pair of them, got")):
        bottleneck_input(Bottleneck(8, 2), input_size=size)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seeds_must_be_non_negative_ints(seed: Any) -> None:
    with pytest.raises(VerifierError, match="^" + re.escape(f"seed must be an int >= 0, got {seed!r}")):
        bottleneck_params(Bottleneck(8, 2), seed=seed)
    with pytest.raises(VerifierError, match="^" + re.escape(f"seed must be an int >= 0, got {seed!r}")):
        bottleneck_input(Bottleneck(8, 2), input_size=4, seed=seed)


@pytest.mark.parametrize("kind", [int, np.int64, np.int32, np.uint8])
def test_bottleneck_input_takes_numpy_integer_sizes_as_conv2d_does(kind: Any) -> None:
    block = Bottleneck(8, 2)
    x = bottleneck_input(block, batch=kind(2), input_size=(kind(3), kind(4)))
    assert x.shape == (2, 8, 3, 4)
    assert conv2d(x, np.ones((2, 8, 1, 1), np.float32), stride=kind(2)).shape == (2, 2, 2, 2)


@pytest.mark.parametrize("batch", [0, -1, 2.0, True, "1", None])
def test_a_bad_batch_is_refused_by_its_name(batch: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"batch must be a positive int, got {batch!r}")):
        bottleneck_input(Bottleneck(8, 2), batch=batch)


@pytest.mark.parametrize(
    ("given", "name"), [(np.float32, "float32"), (np.dtype("float64"), "float64"), ("object", "object")]
)
def test_dtypes_are_taken_by_name_or_as_numpy_dtypes(given: Any, name: str) -> None:
    block = Bottleneck(4, 1)
    params = bottleneck_params(block, dtype=given, integer=True)
    assert bottleneck_input(block, input_size=2, dtype=given).dtype == np.dtype(name)
    assert params.conv1.dtype == np.dtype(name)


@pytest.mark.parametrize("dtype", [np.array(["float32", "float64"]), ["float32"], 32, None, np.float16])
def test_a_dtype_that_is_no_allowed_name_is_refused_by_name(dtype: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("dtype must be one of float32, float64, object, got")):
        bottleneck_params(dtype=dtype)


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


def test_batch_norm_parameters_show_their_channels_and_eps() -> None:
    params = bottleneck_params(Bottleneck(8, 2), dtype="float64")
    assert repr(params.bn1) == "BatchNormParams(2 channels, eps=1e-05)"
    assert repr(params.bn3) == "BatchNormParams(8 channels, eps=1e-05)"
    exact = bottleneck_params(Bottleneck(8, 2), dtype="object", integer=True)
    assert repr(exact.bn2) == "BatchNormParams(2 channels, eps=1/65536)"


@pytest.mark.parametrize(("dtype", "size"), [("float32", "64.0 MiB"), ("float64", "128.0 MiB"), ("object", "1.0 GiB")])
def test_an_input_too_large_for_memory_is_refused_with_its_size(
    monkeypatch: pytest.MonkeyPatch, dtype: str, size: str
) -> None:
    from verifier import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1024)
    # 256 maps of 256 x 256: 2**24 entries, of 4 or 8 bytes, or a pointer and a number (64 bytes) for objects
    message = f"an input of shape (1, 256, 256, 256) needs about {size}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        bottleneck_input(Bottleneck(), input_size=256, dtype=dtype)  # type: ignore[arg-type]


def test_inputs_default_to_one_standard_normal_sample_and_integers_span_minus_3_to_3() -> None:
    block = Bottleneck(8, 2)
    x = bottleneck_input(block, input_size=(6, 5))
    assert x.shape == (1, 8, 6, 5) and x.dtype == np.float32
    np.testing.assert_array_equal(x, np.random.default_rng(0).standard_normal((1, 8, 6, 5)).astype(np.float32))
    whole = bottleneck_input(block, batch=3, input_size=12, integer=True, dtype="float64")
    assert set(np.unique(whole).tolist()) == {-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0}
    with pytest.raises(VerifierError, match=re.escape("batch must be a positive int, got 0")):
        bottleneck_input(block, batch=0)
    with pytest.raises(VerifierError, match=re.escape("batch must be a positive int, got 2.0 (float)")):
        bottleneck_input(block, batch=2.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [bottleneck_params, bottleneck_input])
@pytest.mark.parametrize(("flag", "shown"), [("yes", "'yes' (str)"), (1, "1 (int)"), (None, "None (NoneType)")])
def test_the_integer_flag_is_refused_by_name_with_the_value_and_its_type(make: Any, flag: Any, shown: str) -> None:
    with pytest.raises(VerifierTypeError) as refused:
        make(Bottleneck(8, 2), integer=flag)
    assert str(refused.value) == f"integer must be True or False, got {shown}"


def test_an_input_for_something_other_than_a_bottleneck_is_refused_naming_what_was_given() -> None:
    with pytest.raises(VerifierTypeError) as refused:
        bottleneck_input("resnet50")  # type: ignore[arg-type]
    assert str(refused.value) == "block must be a verifier.Bottleneck, got str"
