"""Proofs about the specs: shapes by PyTorch's rule and counts, each against an independent enumeration."""

from __future__ import annotations

import inspect
import itertools
import math
import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from verifier import Add, BasicBlock, BatchNorm2d, Bottleneck, Conv2d, ReLU, VerifierError, VerifierTypeError
from verifier.spec import LayerRow


def _window_starts(size: int, lo: int, hi: int, k: int, s: int, d: int) -> list[int]:
    """Every top-left offset (in padded coordinates) at which the dilated kernel fits: enumerated, not solved."""
    padded = size + lo + hi
    return [start for start in range(0, padded, s) if start + d * (k - 1) < padded]


def _enumerated_products(conv: Conv2d, h: int, w: int) -> tuple[int, int, int]:
    """Count output positions and multiply-adds by walking every output, input map and kernel tap."""
    (pt, pb), (pl, pr) = conv.padding_amounts
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_size, conv.stride, conv.dilation
    rows = _window_starts(h, pt, pb, kh, sh, dh)
    cols = _window_starts(w, pl, pr, kw, sw, dw)
    products = 0
    for o, _r, _c in itertools.product(range(conv.out_channels), rows, cols):
        group = o // (conv.out_channels // conv.groups)
        inputs = range(group * conv.in_per_group, (group + 1) * conv.in_per_group)
        products += len(inputs) * kh * kw
    return len(rows), len(cols), products


convs = st.builds(
    Conv2d,
    in_channels=st.sampled_from([1, 2, 3, 4, 6]),
    out_channels=st.sampled_from([1, 2, 3, 6]),
    kernel_size=st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))),
    stride=st.integers(1, 3),
    padding=st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))),
    dilation=st.integers(1, 2),
    groups=st.just(1),
    bias=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(conv=convs, h=st.integers(1, 9), w=st.integers(1, 9))
def test_output_shape_and_macs_match_an_enumeration_of_windows(conv: Conv2d, h: int, w: int) -> None:
    ho, wo, products = _enumerated_products(conv, h, w)
    if ho == 0 or wo == 0:
        with pytest.raises(VerifierError, match="smaller than the dilated kernel"):
            conv.output_shape((2, conv.in_channels, h, w))
        return
    assert conv.output_shape((2, conv.in_channels, h, w)) == (2, conv.out_channels, ho, wo)
    assert conv.macs((2, conv.in_channels, h, w)) == 2 * products


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_grouped_macs_match_an_enumeration(groups: int) -> None:
    conv = Conv2d(8, 4, 3, padding=1, groups=groups)
    ho, wo, products = _enumerated_products(conv, 5, 5)
    assert conv.macs((8, 5, 5)) == products
    assert conv.param_count == products // (ho * wo) + 4


def test_same_padding_keeps_the_size_and_puts_odd_extra_at_the_end() -> None:
    conv = Conv2d(2, 2, (2, 4), padding="same", dilation=(1, 2))
    assert conv.padding_amounts == ((0, 1), (3, 3))
    assert conv.output_shape((2, 7, 9)) == (2, 7, 9)


def test_thread_layer_has_one_weight_per_output_input_pair() -> None:
    conv = Conv2d(256, 64, 1, bias=False)
    assert conv.param_count == len(list(itertools.product(range(64), range(256))))
    assert conv.weight_shape == (64, 256, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_size": 0}, r"kernel_size must be a positive int or a pair of them, got 0"),
        ({"kernel_size": 1.0}, r"kernel_size must be .* got 1.0 \(float\)"),
        ({"kernel_size": "1"}, r"kernel_size must be .* got '1' \(str\)"),
        ({"kernel_size": True}, r"kernel_size must be .* got True \(bool\)"),
        ({"stride": (1, 0)}, r"stride must be .* got \(1, 0\)"),
        ({"padding": -1}, r"padding must be an int >= 0 or a pair of them, got -1"),
        ({"padding": "full"}, r"padding must be .* 'valid' or 'same', got 'full'"),
        ({"padding": "same", "stride": 2}, r"padding='same' needs stride=1"),
        ({"groups": 3}, r"groups must divide in_channels: in_channels=256 is not divisible by groups=3"),
        ({"bias": 1}, r"bias must be True or False, got 1"),
    ],
)
def test_bad_conv_arguments_name_the_parameter_and_value(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"in_channels": 256, "out_channels": 64, "kernel_size": 1} | kwargs
    with pytest.raises(VerifierError, match=message):
        Conv2d(**args)  # type: ignore[arg-type]


def test_wrong_types_are_type_errors_too() -> None:
    with pytest.raises(TypeError):
        Conv2d("256", 64, 1)  # type: ignore[arg-type]
    assert issubclass(VerifierTypeError, ValueError)


def test_input_channel_mismatch_names_both_sides() -> None:
    with pytest.raises(VerifierError, match=r"input has 3 channels but the conv expects 256"):
        Conv2d(256, 64, 1).output_shape((1, 3, 56, 56))


def test_bottleneck_layers_chain_and_count_by_hand_enumeration() -> None:
    block = Bottleneck()
    rows = block.rows((1, 256, 56, 56))
    assert [r.name for r in rows if r.path == "main"][:3] == ["conv1", "bn1", "relu1"]
    # Each conv's weights: one per (output map, input map, tap), enumerated independently.
    by_name = dict(block.convs())
    for name, (o, i, k) in {"conv1": (64, 256, 1), "conv2": (64, 64, 3), "conv3": (256, 64, 1)}.items():
        assert by_name[name].weight_count == sum(1 for _ in itertools.product(range(o), range(i), range(k * k)))
    assert block.output_shape((1, 256, 56, 56)) == (1, 256, 56, 56)
    assert block.param_count == block.conv_weight_count + sum(2 * c for c in (64, 64, 256))


def test_strided_bottleneck_variants_put_the_stride_in_different_convs() -> None:
    v1 = dict(Bottleneck(256, 128, stride=2, variant="v1").convs())
    v15 = dict(Bottleneck(256, 128, stride=2, variant="v1.5").convs())
    assert v1["conv1"].stride == (2, 2) and v1["conv2"].stride == (1, 1)
    assert v15["conv1"].stride == (1, 1) and v15["conv2"].stride == (2, 2)
    assert "downsample.0" in v1 and v1["downsample.0"].stride == (2, 2)
    x = (1, 256, 56, 56)
    assert Bottleneck(256, 128, stride=2, variant="v1").macs(x) < Bottleneck(256, 128, stride=2).macs(x)


def test_basic_block_and_batchnorm_counts() -> None:
    assert BasicBlock().output_shape((64, 8, 8)) == (64, 8, 8)
    assert BatchNorm2d(10, affine=False).param_count == 0
    with pytest.raises(VerifierError, match="projection=False needs stride=1"):
        BasicBlock(64, 128, projection=False)


@settings(max_examples=40, deadline=None)
@given(conv=convs)
def test_derived_quantities_match_an_enumeration_of_one_window(conv: Conv2d) -> None:
    """kernel_extent and taps_per_output against the taps of one window, listed one by one."""
    (kh, kw), (dh, dw) = conv.kernel_size, conv.dilation
    rows = {u * dh for u in range(kh)}
    cols = {v * dw for v in range(kw)}
    assert conv.kernel_extent == (max(rows) + 1, max(cols) + 1)
    group_inputs = [i for i in range(conv.in_channels) if i // (conv.in_channels // conv.groups) == 0]
    taps = [(i, r, c) for i in group_inputs for r in rows for c in cols]
    assert conv.taps_per_output == len(taps)
    assert conv.weight_count == conv.out_channels * len(taps)


# -- hardening: bad input, edge cases and attacks ------------------------------------------------------
FAST = settings(max_examples=40, deadline=None)


#: Values that are not integers at all (each must be a type error, whatever the parameter).
not_ints = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.booleans(),
    st.none(),
    st.complex_numbers(max_magnitude=10),
    st.just(b"1"),
    st.just(object()),
)


#: Integers below 1 (zero and negatives): value errors.
non_positive = st.integers(max_value=0)


def _named(message: str, parameter: str, value: Any) -> bool:
    """The message names the parameter and shows the value (its repr, or its tuple form for a list)."""
    shown = repr(tuple(value)) if isinstance(value, list) else repr(value)
    return parameter in message and shown in message


# -- Conv2d ---------------------------------------------------------------------------------------------
SIZE_PARAMETERS = ("in_channels", "out_channels", "groups")


PAIR_PARAMETERS = ("kernel_size", "stride", "dilation")


def _conv(**kwargs: Any) -> Conv2d:
    args: dict[str, Any] = {"in_channels": 4, "out_channels": 4, "kernel_size": 1} | kwargs
    return Conv2d(**args)


bad_shapes = st.one_of(
    st.lists(st.integers(1, 4), min_size=0, max_size=2),
    st.lists(st.integers(1, 4), min_size=5, max_size=6),
    st.integers(1, 4),
    st.none(),
    st.text(max_size=3),
)


# -- valid convs: shapes and counts against formulas written out here ------------------------------------
valid_convs = st.builds(
    lambda cin_g, cout_g, groups, kh, kw, sh, sw, ph, pw, dh, dw, bias: Conv2d(
        cin_g * groups, cout_g * groups, (kh, kw), (sh, sw), (ph, pw), (dh, dw), groups, bias
    ),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(0, 2),
    st.integers(1, 2),
    st.integers(1, 2),
    st.booleans(),
)


# -- blocks ---------------------------------------------------------------------------------------------
BOTTLENECK_SIZES = ("in_channels", "planes", "stride", "groups", "base_width", "expansion")


def _independent_bottleneck(cin: int, planes: int, stride: int, groups: int, base: int, variant: str) -> dict[str, Any]:
    """The bottleneck's convs written out from torchvision's definition: (cin, cout, k, stride, groups)."""
    width = planes * base // 64 * groups
    out = planes * 4
    s1, s2 = (stride, 1) if variant == "v1" else (1, stride)
    convs = {
        "conv1": (cin, width, 1, s1, 1),
        "conv2": (width, width, 3, s2, groups),
        "conv3": (width, out, 1, 1, 1),
    }
    if stride != 1 or cin != out:
        convs["downsample.0"] = (cin, out, 1, stride, 1)
    return convs


@FAST
@given(parameter=st.sampled_from(SIZE_PARAMETERS + PAIR_PARAMETERS), value=not_ints)
def test_non_integer_sizes_are_type_errors_naming_parameter_and_value(parameter: str, value: Any) -> None:
    with pytest.raises(VerifierTypeError) as info:
        _conv(**{parameter: value})
    assert _named(str(info.value), parameter, value), str(info.value)
    assert f"({type(value).__name__})" in str(info.value)


@FAST
@given(parameter=st.sampled_from(SIZE_PARAMETERS + PAIR_PARAMETERS), value=non_positive)
def test_zero_and_negative_sizes_are_value_errors_saying_positive(parameter: str, value: int) -> None:
    with pytest.raises(VerifierError) as info:
        _conv(**{parameter: value})
    assert not isinstance(info.value, TypeError)
    message = str(info.value)
    assert message.startswith(f"{parameter} must be a positive int")
    assert message.endswith(f"got {value!r}")


@FAST
@given(parameter=st.sampled_from(PAIR_PARAMETERS), first=st.integers(-3, 3), second=st.integers(-3, 3))
def test_pairs_with_a_non_positive_entry_are_refused_showing_the_pair(parameter: str, first: int, second: int) -> None:
    if min(first, second) >= 1:
        conv = _conv(**{parameter: [first, second]})
        assert getattr(conv, parameter) == (first, second)
        return
    with pytest.raises(
        VerifierError, match=re.escape(f"{parameter} must be a positive int or a pair of them, got ({first}, {second})")
    ):
        _conv(**{parameter: [first, second]})


@FAST
@given(parameter=st.sampled_from(PAIR_PARAMETERS), length=st.sampled_from([0, 1, 3]))
def test_sequences_of_the_wrong_length_are_type_errors(parameter: str, length: int) -> None:
    value = (1,) * length
    with pytest.raises(
        VerifierTypeError,
        match=re.escape(f"{parameter} must be a positive int or a pair of them, got {value!r} (tuple)"),
    ):
        _conv(**{parameter: value})


@FAST
@given(value=st.one_of(st.integers(max_value=-1), st.tuples(st.integers(-3, 3), st.integers(-3, -1))))
def test_negative_padding_is_refused_and_zero_is_allowed(value: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"padding must be an int >= 0 or a pair of them, got {value!r}")):
        _conv(padding=value)
    assert _conv(padding=0).padding == (0, 0)


@FAST
@given(value=st.text(max_size=6).filter(lambda s: s not in ("valid", "same")))
def test_unknown_padding_strings_are_refused_listing_valid_and_same(value: str) -> None:
    message = f"padding must be a non-negative int, a pair of them, 'valid' or 'same', got {value!r}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        _conv(padding=value)


@FAST
@given(stride=st.integers(2, 5))
def test_same_padding_with_a_stride_is_refused(stride: int) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"padding='same' needs stride=1, got stride={(stride, stride)}")):
        _conv(padding="same", stride=stride)


@FAST
@given(channels=st.integers(1, 64), groups=st.integers(1, 64), other=st.integers(1, 64))
def test_groups_must_divide_both_channel_counts(channels: int, groups: int, other: int) -> None:
    for name, args in (("in_channels", (channels, groups * other)), ("out_channels", (groups * other, channels))):
        if channels % groups == 0:
            assert Conv2d(*args, 1, groups=groups).weight_shape[1] == args[0] // groups
            continue
        message = f"groups must divide {name}: {name}={channels} is not divisible by groups={groups}"
        with pytest.raises(VerifierError, match=re.escape(message)):
            Conv2d(*args, 1, groups=groups)


@FAST
@given(value=st.one_of(st.integers(), st.none(), st.text(max_size=2), st.floats()))
def test_bias_must_be_a_bool(value: Any) -> None:
    with pytest.raises(
        VerifierTypeError, match=re.escape(f"bias must be True or False, got {value!r} ({type(value).__name__})")
    ):
        _conv(bias=value)


@FAST
@given(
    size=st.integers(1, 8),
    kernel=st.integers(1, 8),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
    axis=st.sampled_from(["height", "width"]),
)
def test_a_kernel_larger_than_the_padded_input_is_refused(
    size: int, kernel: int, padding: int, dilation: int, axis: str
) -> None:
    conv = Conv2d(2, 3, kernel, padding=padding, dilation=dilation)
    span = dilation * (kernel - 1) + 1
    h, w = (size, 8 * 3 + 1) if axis == "height" else (8 * 3 + 1, size)
    if size + 2 * padding >= span:
        assert conv.output_shape((2, h, w))[1 if axis == "height" else 2] == size + 2 * padding - span + 1
        return
    message = (
        f"input {axis} {size} (padded to {size + 2 * padding}) is smaller than the dilated kernel's extent {span} "
        f"(kernel_size={(kernel, kernel)}, dilation={(dilation, dilation)})"
    )
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv.output_shape((2, h, w))
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv.macs((1, 2, h, w))


@FAST
@given(shape=bad_shapes)
def test_input_shapes_of_the_wrong_rank_are_refused_everywhere(shape: Any) -> None:
    message = f"input_shape must be a tuple of 3 or 4 positive ints, got {shape!r}"
    for layer in (Conv2d(2, 2, 1), BatchNorm2d(2), ReLU(), Add(), Bottleneck(), BasicBlock()):
        with pytest.raises(VerifierError, match=re.escape(message)):
            layer.output_shape(shape)
        with pytest.raises(VerifierError, match=re.escape(message)):
            layer.macs(shape)


@FAST
@given(index=st.integers(0, 3), value=st.one_of(non_positive, st.floats(), st.text(max_size=2), st.booleans()))
def test_a_bad_entry_of_an_input_shape_is_named_by_its_index(index: int, value: Any) -> None:
    shape: list[Any] = [1, 2, 5, 5]
    shape[index] = value
    with pytest.raises(VerifierError, match=re.escape(f"input_shape[{index}] must be a positive int, got {value!r}")):
        Conv2d(2, 2, 1).output_shape(tuple(shape))
    with pytest.raises(VerifierError, match=re.escape(f"input_shape[{index}] must be a positive int, got {value!r}")):
        ReLU().output_shape(tuple(shape))


@FAST
@given(expected=st.integers(1, 9), given_=st.integers(1, 9), batched=st.booleans())
def test_a_channel_mismatch_names_both_counts_and_the_layer(expected: int, given_: int, batched: bool) -> None:
    shape = (1, given_, 4, 4) if batched else (given_, 4, 4)
    layers = ((Conv2d(expected, 2, 1), "the conv"), (BatchNorm2d(expected), "the batch norm"))
    for layer, who in layers:
        if given_ == expected:
            assert layer.output_shape(shape)[-3:-2] == ((2,) if who == "the conv" else (expected,))
            continue
        message = f"input has {given_} channels but {who} expects {expected} (input_shape={shape})"
        with pytest.raises(VerifierError, match=re.escape(message)):
            layer.output_shape(shape)
        with pytest.raises(VerifierError, match=re.escape(message)):
            layer.macs(shape)


@FAST
@given(conv=valid_convs, n=st.integers(1, 3), h=st.integers(8, 12), w=st.integers(8, 12))
def test_valid_conv_shapes_and_counts_match_the_formulas(conv: Conv2d, n: int, h: int, w: int) -> None:
    kh, kw = conv.kernel_size  # type: ignore[misc]
    (sh, sw), (ph, pw), (dh, dw) = conv.stride, conv.padding, conv.dilation  # type: ignore[misc]
    ho = math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh + 1)
    wo = math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw + 1)
    cin, cout, g = conv.in_channels, conv.out_channels, conv.groups
    assert conv.in_per_group * g == cin and conv.out_per_group * g == cout
    assert conv.weight_shape == (cout, cin // g, kh, kw)
    assert conv.bias_shape == ((cout,) if conv.bias else None)
    assert conv.weight_count == math.prod(conv.weight_shape)
    assert conv.param_count == math.prod(conv.weight_shape) + (cout if conv.bias else 0)
    assert conv.padding_pair == (ph, pw)
    assert conv.padding_amounts == ((ph, ph), (pw, pw))
    assert conv.output_size(h, w) == (ho, wo)
    assert conv.output_shape((n, cin, h, w)) == (n, cout, ho, wo)
    assert conv.output_shape((cin, h, w)) == (cout, ho, wo)
    assert conv.macs((n, cin, h, w)) == n * ho * wo * cout * (cin // g) * kh * kw
    assert conv.macs((cin, h, w)) == ho * wo * cout * (cin // g) * kh * kw


@FAST
@given(k=st.integers(1, 6), d=st.integers(1, 3), size=st.integers(6, 10))
def test_same_padding_splits_the_total_with_the_odd_extra_after(k: int, d: int, size: int) -> None:
    conv = Conv2d(1, 1, (k, 1), padding="same", dilation=(d, 1))
    total = d * (k - 1)
    assert conv.padding_amounts == ((total // 2, total - total // 2), (0, 0))
    assert conv.output_size(size, size) == (size, size)
    with pytest.raises(VerifierError, match=re.escape("padding='same' may be asymmetric: use padding_amounts")):
        conv.padding_pair  # noqa: B018


def test_valid_padding_means_none() -> None:
    conv = Conv2d(1, 1, 3, padding="valid")
    assert conv.padding_pair == (0, 0)
    assert conv.padding_amounts == ((0, 0), (0, 0))
    assert conv.output_size(5, 6) == (3, 4)
    assert repr(conv) == "Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1))"


def test_conv_repr_shows_exactly_the_non_default_arguments() -> None:
    assert repr(Conv2d(4, 2, 1)) == "Conv2d(4, 2, kernel_size=(1, 1), stride=(1, 1))"
    assert (
        repr(Conv2d(4, 2, (1, 3), stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=2, bias=False))
        == "Conv2d(4, 2, kernel_size=(1, 3), stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=2, bias=False)"
    )
    assert repr(Conv2d(4, 2, 3, padding="same")) == "Conv2d(4, 2, kernel_size=(3, 3), stride=(1, 1), padding='same')"


def test_spatial_arguments_are_stored_as_pairs_of_plain_ints() -> None:
    import numpy as np

    conv = Conv2d(np.int64(4), np.int32(2), [np.int16(3), 1], stride=np.int8(2), dilation=(1, np.uint8(2)))
    for value in (conv.in_channels, conv.out_channels, *conv.kernel_size, *conv.stride, *conv.dilation):  # type: ignore[misc]
        assert type(value) is int
    assert (conv.kernel_size, conv.stride, conv.dilation) == ((3, 1), (2, 2), (1, 2))


# -- BatchNorm2d ----------------------------------------------------------------------------------------
@FAST
@given(value=st.one_of(not_ints, non_positive))
def test_batch_norm_features_must_be_a_positive_int(value: Any) -> None:
    with pytest.raises(VerifierError) as info:
        BatchNorm2d(value)
    assert str(info.value).startswith("num_features must be a positive int, got ")
    assert repr(value) in str(info.value)


@FAST
@given(
    eps=st.one_of(
        st.floats(max_value=0.0),
        st.just(math.nan),
        st.just(math.inf),
        st.booleans(),
        st.text(max_size=3),
        st.none(),
        st.integers(max_value=0),
    )
)
def test_batch_norm_eps_must_be_positive_and_finite(eps: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"eps must be a positive finite number, got {eps!r}")):
        BatchNorm2d(4, eps=eps)


@FAST
@given(eps=st.one_of(st.floats(min_value=1e-300, max_value=1e300), st.integers(1, 10)))
def test_batch_norm_accepts_any_positive_finite_eps(eps: float) -> None:
    assert BatchNorm2d(4, eps=eps).eps == eps


@pytest.mark.parametrize("name", ["affine", "track_running_stats"])
@pytest.mark.parametrize("value", [1, 0, None, "yes"])
def test_batch_norm_flags_must_be_bools(name: str, value: Any) -> None:
    with pytest.raises(VerifierTypeError, match=re.escape(f"{name} must be True or False, got {value!r}")):
        BatchNorm2d(4, **{name: value})


@FAST
@given(c=st.integers(1, 50), affine=st.booleans(), track=st.booleans(), n=st.integers(1, 3))
def test_batch_norm_counts_two_per_feature_and_no_macs(c: int, affine: bool, track: bool, n: int) -> None:
    bn = BatchNorm2d(c, affine=affine, track_running_stats=track)
    assert bn.param_count == (2 * c if affine else 0)
    assert bn.buffer_count == (2 * c if track else 0)
    assert bn.output_shape((n, c, 3, 2)) == (n, c, 3, 2)
    assert bn.output_shape((c, 3, 2)) == (c, 3, 2)
    assert bn.macs((n, c, 3, 2)) == 0
    assert repr(bn) == f"BatchNorm2d({c})"


def test_parameter_free_layers_pass_shapes_through() -> None:
    for layer, name in ((ReLU(), "ReLU()"), (Add(), "Add()")):
        assert repr(layer) == name
        assert layer.param_count == 0
        assert layer.output_shape([2, 3, 4, 5]) == (2, 3, 4, 5)
        assert layer.output_shape((3, 4, 5)) == (3, 4, 5)
        assert layer.macs((2, 3, 4, 5)) == 0


@FAST
@given(parameter=st.sampled_from(BOTTLENECK_SIZES), value=st.one_of(not_ints, non_positive))
def test_bottleneck_sizes_must_be_positive_ints(parameter: str, value: Any) -> None:
    with pytest.raises(VerifierError) as info:
        Bottleneck(**{parameter: value})
    assert str(info.value).startswith(f"{parameter} must be a positive int, got {value!r}")


@FAST
@given(parameter=st.sampled_from(("in_channels", "planes", "stride")), value=st.one_of(not_ints, non_positive))
def test_basic_block_sizes_must_be_positive_ints(parameter: str, value: Any) -> None:
    with pytest.raises(VerifierError) as info:
        BasicBlock(**{parameter: value})
    assert str(info.value).startswith(f"{parameter} must be a positive int, got {value!r}")


@FAST
@given(
    variant=st.one_of(st.text(max_size=4), st.none(), st.floats(), st.just("v2")).filter(
        lambda v: v not in ("v1", "v1.5")
    )
)
def test_bottleneck_variant_must_be_v1_or_v1_5(variant: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"variant must be 'v1' or 'v1.5', got {variant!r}")):
        Bottleneck(variant=variant)


@pytest.mark.parametrize("block", [Bottleneck, BasicBlock])
@pytest.mark.parametrize("value", [0, 1, "no", 0.0])
def test_projection_must_be_a_bool_or_none(block: type, value: Any) -> None:
    with pytest.raises(VerifierTypeError, match=re.escape(f"projection must be True, False or None, got {value!r}")):
        block(projection=value)


@pytest.mark.parametrize(
    ("block", "kwargs", "out", "stride", "cin"),
    [
        (Bottleneck, {"in_channels": 64, "planes": 64}, 256, 1, 64),
        (Bottleneck, {"in_channels": 256, "planes": 64, "stride": 2}, 256, 2, 256),
        (BasicBlock, {"in_channels": 64, "planes": 128}, 128, 1, 64),
        (BasicBlock, {"in_channels": 64, "planes": 64, "stride": 2}, 64, 2, 64),
    ],
)
def test_refusing_a_projection_needs_matching_shapes(
    block: type, kwargs: dict[str, int], out: int, stride: int, cin: int
) -> None:
    message = (
        f"projection=False needs stride=1 and in_channels == out_channels ({out}), got stride={stride}, "
        f"in_channels={cin}"
    )
    with pytest.raises(VerifierError, match=re.escape(message)):
        block(projection=False, **kwargs)


@FAST
@given(
    cin=st.sampled_from([4, 8, 16]),
    planes=st.sampled_from([2, 4, 8]),
    stride=st.integers(1, 2),
    groups=st.sampled_from([1, 2]),
    base=st.sampled_from([64, 128]),
    variant=st.sampled_from(["v1", "v1.5"]),
    size=st.integers(3, 7),
)
def test_bottleneck_rows_match_a_hand_written_block(
    cin: int, planes: int, stride: int, groups: int, base: int, variant: str, size: int
) -> None:
    block = Bottleneck(cin, planes, stride, groups, base, variant)  # type: ignore[arg-type]
    expected = _independent_bottleneck(cin, planes, stride, groups, base, variant)
    convs = dict(block.convs())
    assert sorted(convs) == sorted(expected)
    weights = 0
    macs = 0
    shape = (1, cin, size, size)
    rows = {row.name: row for row in block.rows(shape)}
    for name, (ci, co, k, s, g) in expected.items():
        conv = convs[name]
        assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.groups) == (
            ci,
            co,
            (k, k),
            (s, s),
            g,
        )
        assert conv.padding == ((1, 1) if k == 3 else (0, 0)) and conv.bias is False
        weights += co * (ci // g) * k * k
        row = rows[name]
        assert row.path == ("shortcut" if name.startswith("downsample") else "main")
        assert row.params == co * (ci // g) * k * k
        hin = row.input_shape[2]
        hout = (hin + 2 * (k // 2) - k) // s + 1
        assert row.output_shape == (1, co, hout, hout)
        assert row.macs == hout * hout * co * (ci // g) * k * k
        macs += row.macs
    bn_features = (
        [planes * base // 64 * groups] * 2 + [planes * 4] + ([planes * 4] if "downsample.0" in expected else [])
    )
    assert block.conv_weight_count == weights
    assert block.param_count == weights + 2 * sum(bn_features)
    assert block.macs(shape) == macs
    final = (size + 2 - 3) // stride + 1
    assert block.output_shape(shape) == (1, planes * 4, final, final)
    assert [r.name for r in block.rows(shape)][-2:] == ["add", "relu"]
    assert all(r.path == "merge" and r.params == 0 and r.macs == 0 for r in block.rows(shape)[-2:])
    assert block.has_projection == ("downsample.0" in expected)
    assert [name for name, _ in block] == [name for name, _ in block.layers()]
    assert block.out_channels == planes * 4 and block.width == planes * base // 64 * groups


@FAST
@given(cin=st.sampled_from([4, 8]), planes=st.sampled_from([4, 8]), stride=st.integers(1, 2), size=st.integers(3, 6))
def test_basic_block_rows_match_a_hand_written_block(cin: int, planes: int, stride: int, size: int) -> None:
    block = BasicBlock(cin, planes, stride)
    projection = stride != 1 or cin != planes
    weights = planes * cin * 9 + planes * planes * 9 + (planes * cin if projection else 0)
    assert block.conv_weight_count == weights
    assert block.param_count == weights + 2 * planes * (3 if projection else 2)
    out = (size + 2 - 3) // stride + 1
    assert block.output_shape((cin, size, size)) == (planes, out, out)
    assert block.macs((cin, size, size)) == out * out * weights
    names = [name for name, _ in block.layers()]
    assert names == ["conv1", "bn1", "relu1", "conv2", "bn2"] + (
        ["downsample.0", "downsample.1"] if projection else []
    ) + ["add", "relu"]
    conv1, conv2 = dict(block.convs())["conv1"], dict(block.convs())["conv2"]
    assert conv1.stride == (stride, stride) and conv2.stride == (1, 1) and conv1.padding == conv2.padding == (1, 1)


def test_forced_projection_adds_a_shortcut_even_when_shapes_match() -> None:
    plain, forced = Bottleneck(256, 64), Bottleneck(256, 64, projection=True)
    assert not plain.has_projection and forced.has_projection
    assert forced.param_count - plain.param_count == 256 * 256 + 2 * 256
    assert BasicBlock(projection=True).param_count - BasicBlock().param_count == 64 * 64 + 2 * 64
    assert Bottleneck(256, 64, projection=False).param_count == plain.param_count


def test_block_input_channel_mismatch_is_named() -> None:
    with pytest.raises(
        VerifierError, match=re.escape("input has 64 channels but the block expects 256 (input_shape=(1, 64, 8, 8))")
    ):
        Bottleneck().rows((1, 64, 8, 8))


def test_a_block_whose_paths_disagree_is_refused() -> None:
    class Broken(BasicBlock):
        def main_path(self) -> Any:
            return (("conv1", Conv2d(self.in_channels, self.planes + 1, 1, bias=False)),)

    with pytest.raises(
        VerifierError, match=re.escape("the main path gives (9, 4, 4) but the shortcut gives (8, 4, 4)")
    ):
        Broken(8, 8, projection=True).rows((8, 4, 4))


def test_layer_rows_are_frozen_records() -> None:
    row = Bottleneck().rows((256, 4, 4))[0]
    assert isinstance(row, LayerRow) and row.name == "conv1" and row.input_shape == (256, 4, 4)
    with pytest.raises(AttributeError):
        row.name = "x"  # type: ignore[misc]


def test_every_stored_size_is_a_plain_int_even_from_numpy_integers() -> None:
    import numpy as np

    conv = Conv2d(np.int64(4), np.int64(4), 1, groups=np.int64(2))
    bn = BatchNorm2d(np.int32(6))
    assert type(conv.groups) is int and conv.groups == 2
    assert type(bn.num_features) is int and bn.num_features == 6
    block = Bottleneck(np.int64(8), np.int64(2), groups=np.int16(1))
    assert all(type(getattr(block, name)) is int for name in BOTTLENECK_SIZES)


def test_bottleneck_layers_carry_torchvisions_names_in_order() -> None:
    names = [name for name, _ in Bottleneck(256, 64).layers()]
    assert names == ["conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3", "add", "relu"]
    names = [name for name, _ in Bottleneck(256, 128, stride=2).layers()]
    assert names[-4:] == ["downsample.0", "downsample.1", "add", "relu"]


@pytest.mark.parametrize("block", [Bottleneck(256, 64), Bottleneck(64, 64, stride=2), BasicBlock(64, 128, 2)])
def test_each_row_holds_its_own_layer_and_the_merge_rows_the_final_shape(block: Any) -> None:
    shape = (2, block.in_channels, 8, 8)
    rows = block.rows(shape)
    layers = dict(block.layers())
    assert [row.name for row in rows] == list(layers)
    for row in rows:
        assert row.layer == layers[row.name] and row.params == layers[row.name].param_count
    *_, add, relu = rows
    out = block.output_shape(shape)
    assert (add.layer, relu.layer) == (Add(), ReLU())
    assert add.input_shape == add.output_shape == relu.input_shape == relu.output_shape == out


@FAST
@given(planes=st.integers(1, 80), base_width=st.integers(1, 80), groups=st.integers(1, 3))
def test_a_bottleneck_too_narrow_for_one_inner_map_is_refused_when_built(
    planes: int, base_width: int, groups: int
) -> None:
    width = planes * base_width // 64 * groups  # torchvision: int(planes * (base_width / 64.)) * groups
    if width >= 1:
        block = Bottleneck(8, planes, groups=groups, base_width=base_width)
        assert dict(block.convs())["conv2"].weight_shape == (width, width // groups, 3, 3)
        return
    message = (
        f"planes * base_width / 64 must be at least 1 (the block's inner width), got planes={planes}, "
        f"base_width={base_width}"
    )
    with pytest.raises(VerifierError, match=re.escape(message)):
        Bottleneck(8, planes, groups=groups, base_width=base_width)


# -- counts in integers at any size ----------------------------------------------------------------------------
@FAST
@given(
    planes=st.integers(1, 2**63 - 1),
    base_width=st.integers(1, 2**63 - 1),
    groups=st.integers(1, 64),
)
def test_the_bottleneck_width_is_computed_in_integers_at_any_size(planes: int, base_width: int, groups: int) -> None:
    assume(planes * base_width >= 64 and planes * base_width // 64 * groups < 2**63)
    block = Bottleneck(in_channels=8, planes=planes, base_width=base_width, groups=groups)
    exact = Fraction(planes * base_width, 64)
    assert block.width == math.floor(exact) * groups  # torchvision's int(planes * (base_width / 64.)) * groups


@FAST
@given(planes=st.integers(1, 2**52), base_width=st.integers(1, 256))
def test_the_width_agrees_with_torchvisions_float_formula_where_floats_are_exact(planes: int, base_width: int) -> None:
    assume(planes * base_width >= 64 and planes * base_width < 2**53)
    assert Bottleneck(planes=planes, base_width=base_width).width == int(planes * (base_width / 64.0))


@FAST
@given(p=st.one_of(st.integers(1, 10**6), st.integers(2**58, 2**60), st.just(2**60 + 1)))
def test_bottleneck_counts_are_exact_polynomials_in_planes(p: int) -> None:
    block = Bottleneck(256, p)
    # conv1 256p + conv2 9p^2 + conv3 4p^2, batch norms 2(p + p + 4p), projection 256 * 4p + 2 * 4p (4p != 256)
    projection = 256 * 4 * p + 8 * p if 4 * p != 256 else 0
    assert block.param_count == 256 * p + 13 * p * p + 12 * p + projection
    assert block.macs((1, 256, 1, 1)) == 256 * p + 13 * p * p + (256 * 4 * p if 4 * p != 256 else 0)


# -- one set of rules for the same kind of argument ------------------------------------------------------------
@pytest.mark.parametrize("eps", [np.float32(1e-5), np.float64(1e-3), Fraction(1, 3), 2])
def test_batch_norm_spec_takes_numpy_and_exact_eps(eps: Any) -> None:
    assert BatchNorm2d(4, eps=eps).eps == eps


@pytest.mark.parametrize("momentum", ["abc", math.nan, math.inf, -0.1, 1.5, True, [0.1], np.array([0.1, 0.2])])
def test_batch_norm_spec_refuses_a_momentum_that_is_no_fraction(momentum: Any) -> None:
    with pytest.raises(VerifierError, match=r"^momentum must be"):
        BatchNorm2d(4, momentum=momentum)


@pytest.mark.parametrize("momentum", [None, 0, 0.1, 1, np.float32(0.1), Fraction(1, 10)])
def test_batch_norm_spec_takes_none_or_a_fraction_as_momentum(momentum: Any) -> None:
    assert BatchNorm2d(4, momentum=momentum).momentum == momentum


def test_conv2d_takes_torchs_default_padding_mode_and_refuses_the_others_by_name() -> None:
    assert Conv2d(2, 2, 3, padding_mode="zeros") == Conv2d(2, 2, 3)
    assert list(inspect.signature(Conv2d).parameters)[:9] == [
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "bias",
        "padding_mode",
    ]  # torch.nn.Conv2d's names and order
    for mode in ("reflect", "replicate", "circular", "ZEROS", None, ["zeros"], np.array(["zeros", "zeros"])):
        expected = re.escape("padding_mode must be 'zeros'") + ".*" + re.escape(repr(mode))
        with pytest.raises(VerifierError, match=expected):
            Conv2d(2, 2, 3, padding_mode=mode)


@pytest.mark.parametrize("variant", [["v1"], np.array(["v1", "v1.5"]), None, 1.5])
def test_a_variant_that_is_no_string_is_refused_by_name(variant: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("variant must be 'v1' or 'v1.5', got")):
        Bottleneck(variant=variant)


@pytest.mark.parametrize("size", [2**63, 10**400])
@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda n: Bottleneck(planes=n), "planes"),
        (lambda n: Bottleneck(in_channels=4 * n, planes=n), "planes"),
        (lambda n: Conv2d(n, 1, 1), "in_channels"),
        (lambda n: Conv2d(1, 1, (1, n)), "kernel_size"),
        (lambda n: BatchNorm2d(n), "num_features"),
        (lambda n: Conv2d(1, 1, 1).output_shape((1, 1, n, 1)), "input_shape[2]"),
    ],
)
def test_sizes_beyond_int64_are_refused_by_name_as_torch_refuses_them(make: Any, name: str, size: int) -> None:
    with pytest.raises(VerifierError, match=re.escape(name) + r" must be .* below 2\*\*63 \(PyTorch's int64 sizes\)"):
        make(size)
    assert make(2**63 - 1 if name != "planes" else 2**60) is not None  # the largest sizes still pass
