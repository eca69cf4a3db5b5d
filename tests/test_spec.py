"""Proofs about the specs: shapes by PyTorch's rule and counts, each against an independent enumeration."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import BasicBlock, BatchNorm2d, Bottleneck, Conv2d, VerifierError, VerifierTypeError


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
