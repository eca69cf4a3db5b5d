"""Proofs about whole ResNets: totals against the reference implementations, stage counts against a hand loop."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from _hand_counts import PUBLISHED_BLOCKS, configs, hand_counts, hand_counts_total
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import BasicBlock, Bottleneck, Conv2d, VerifierError, VerifierTypeError
from verifier.conventions import CONVENTIONS, KERAS_PUBLISHED, PUBLISHED, get_convention, reconcile
from verifier.layers import AdaptiveAvgPool2d, Linear, MaxPool2d, side_counts
from verifier.models import (
    MODEL_NAMES,
    PAPER_TABLE1_GFLOPS,
    Comparison,
    ResNet,
    _stage_of,
    bottleneck_vs_basic,
    keras_count,
    projection_shortcut_cost,
    resnet,
    variant_gap,
)
from verifier.tables import group_rows

# Parameter counts torchvision reports for its models (the `num_params` of each weights entry in
# pytorch/vision, torchvision/models/resnet.py, also shown in torchvision's model docs).
TORCHVISION_PARAMS = {
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "resnext50_32x4d": 25_028_904,
    "wide_resnet50_2": 68_883_240,
}


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_weighted_layers_number_the_depth_in_the_models_name(name: str) -> None:
    """The paper names each network by its weighted layers: the stem conv, every main-path conv and the fc."""
    net = resnet(name)
    main_path_convs = [row for row in net.rows() if isinstance(row.layer, Conv2d) and ".downsample." not in row.name]
    assert len(main_path_convs) + 1 == int(name.removeprefix("resnet"))
    per_stage = [len([b for b, _ in net.blocks() if b.startswith(f"layer{s}.")]) for s in (1, 2, 3, 4)]
    assert (net.block, tuple(per_stage)) == PUBLISHED_BLOCKS[name][:2]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_totals_equal_torchvision_to_the_unit(name: str) -> None:
    assert resnet(name).param_count == TORCHVISION_PARAMS[name]
    assert resnet(name, "v1").param_count == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("variant", ["v1", "v1.5"])
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_stage_counts_equal_a_hand_written_loop_over_blocks(name: str, variant: str) -> None:
    net = resnet(name, variant)
    expected = hand_counts(name, variant)
    assert net.stage_macs() == {stage: v["macs"] for stage, v in expected.items()}
    params_by_stage: dict[str, int] = {}
    for row in net.rows():
        stage = (
            row.name.split(".")[0]
            if row.name.startswith("layer")
            else "head"
            if row.name in ("avgpool", "flatten", "fc")
            else "stem"
        )
        params_by_stage[stage] = params_by_stage.get(stage, 0) + row.params
    assert params_by_stage == {stage: v["params"] for stage, v in expected.items()}
    side = net.side_counts()
    assert side["batchnorm_elements"] == sum(v["bn"] for v in expected.values())
    assert side["residual_adds"] == sum(v["add"] for v in expected.values())


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnext50_32x4d"])
@pytest.mark.parametrize("input_shape", [(1, 3, 224, 224), (2, 3, 160, 128), (1, 3, 33, 47)])
def test_layer_rows_add_up_to_the_totals_at_every_depth(name: str, input_shape: tuple[int, ...]) -> None:
    net = resnet(name)
    rows = net.rows(input_shape)
    macs, params = net.macs(input_shape), net.param_count
    assert sum(r.macs for r in rows) == macs
    assert sum(r.params for r in rows) == params
    for depth in (1, 2, 3, 4):
        groups = group_rows(rows, depth, net.module_kinds())
        assert sum(g["macs"] for g in groups) == macs
        assert sum(g["params"] for g in groups) == params
    assert macs % input_shape[0] == 0 and macs // input_shape[0] == net.macs((1, *input_shape[1:]))


def test_each_rows_shapes_chain_into_the_next_and_end_in_the_classes() -> None:
    rows = resnet("resnet50").rows((2, 3, 224, 224))
    stem_and_head = [r for r in rows if not r.name.startswith("layer")]
    assert [r.output_shape for r in stem_and_head] == [
        (2, 64, 112, 112), (2, 64, 112, 112), (2, 64, 112, 112), (2, 64, 56, 56),
        (2, 2048, 1, 1), (2, 2048), (2, 1000),
    ]  # fmt: skip
    block_outputs = [r.output_shape for r in rows if r.name.endswith(".relu") and r.path == "merge"]
    assert block_outputs[2] == (2, 256, 56, 56) and block_outputs[-1] == (2, 2048, 7, 7)


@pytest.mark.parametrize("name", ["resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2"])
def test_v1_and_v1_5_differ_only_where_the_stride_moves(name: str) -> None:
    v1, v15 = resnet(name, "v1").rows(), resnet(name, "v1.5").rows()
    differing = [(a.name, Fraction(b.macs, a.macs)) for a, b in zip(v1, v15, strict=True) if a.macs != b.macs]
    # Only the first 1x1 of each downsampling block, which v1.5 runs on the 2x larger input: 4 times the MACs.
    assert differing == [(f"layer{s}.0.conv1", Fraction(4)) for s in (2, 3, 4)]
    gap = variant_gap(name)
    assert gap.gap == gap.v1_5 - gap.v1 == sum(3 * a.macs for a in v1 if a.name in dict(differing))


@pytest.mark.parametrize("name", ["resnet18", "resnet34"])
def test_basic_block_networks_are_the_same_in_both_variants(name: str) -> None:
    assert resnet(name, "v1").rows() == resnet(name, "v1.5").rows()
    assert variant_gap(name).blocks == ()


@pytest.mark.parametrize("name", list(PAPER_TABLE1_GFLOPS))
def test_paper_table1_is_met_by_v1_within_its_last_printed_digit(name: str) -> None:
    paper = Fraction(str(PAPER_TABLE1_GFLOPS[name])) * 10**9
    assert abs(resnet(name, "v1").macs() - paper) < Fraction(10**8)


@pytest.mark.parametrize("name", ["resnet50", "resnet101", "resnet152"])
def test_paper_table1_is_missed_by_v1_5_for_bottleneck_networks(name: str) -> None:
    paper = Fraction(str(PAPER_TABLE1_GFLOPS[name])) * 10**9
    assert resnet(name, "v1.5").macs() - paper > Fraction(10**8)


@pytest.mark.parametrize("name", list(KERAS_PUBLISHED))
def test_keras_total_is_pytorch_plus_conv_biases_plus_moving_statistics(name: str) -> None:
    net = resnet(name, "v1")
    kind, layers, _, _ = PUBLISHED_BLOCKS[name]
    # conv biases by hand: one per output map of every conv (stem, 3 per block, one projection per stage)
    biases = 64 + sum(n * (p + p + 4 * p) + 4 * p for p, n in zip((64, 128, 256, 512), layers, strict=True))
    k = keras_count(net)
    assert k.conv_biases == biases
    assert k.moving_statistics == 2 * biases  # each conv feeds a BatchNorm of as many maps: mean and variance
    assert k.total == TORCHVISION_PARAMS[name] + biases + 2 * biases == KERAS_PUBLISHED[name]
    assert kind == "bottleneck"


@pytest.mark.parametrize("published", PUBLISHED, ids=lambda p: f"{p.convention}-{p.model}")
def test_each_published_counter_figure_is_reproduced_from_the_closed_forms(published: object) -> None:
    convention = get_convention(published.convention)  # type: ignore[attr-defined]
    net = resnet(published.model, published.variant)  # type: ignore[attr-defined]
    assert published.reproduced_by(convention.total(net))  # type: ignore[attr-defined]


def test_published_figures_are_not_reproduced_by_the_wrong_convention() -> None:
    """The check can fail: ptflops' printed 4.12 is not met by bare MACs, nor torchvision's 4.089 by ptflops."""
    net = resnet("resnet50")
    by_name = {(p.convention, p.model): p for p in PUBLISHED}
    assert not by_name[("ptflops", "resnet50")].reproduced_by(get_convention("multiply-adds").total(net))
    assert not by_name[("torchvision", "resnet50")].reproduced_by(get_convention("ptflops").total(net))
    assert not by_name[("torchvision", "resnet50")].reproduced_by(resnet("resnet50", "v1").macs())


def test_conventions_differ_from_the_macs_exactly_by_what_they_add() -> None:
    net = resnet("resnet50")
    macs, side = net.macs(), net.side_counts()
    hand = hand_counts("resnet50", "v1.5")
    # a ReLU follows every BatchNorm except the projections' (the block's last ReLU comes after the add, on
    # as many elements as its last BatchNorm)
    projection_bn = sum(4 * p * (56 // (p // 64)) ** 2 for p in (64, 128, 256, 512))
    assert side["relu_elements"] == sum(v["bn"] for v in hand.values()) - projection_bn
    totals = {row["convention"]: row["total"] for row in reconcile(net)}
    assert totals["multiply-adds"] == totals["torchvision"] == macs
    assert totals["FLOPs (2 x MACs)"] == 2 * macs
    assert totals["fvcore"] - macs == 2 * side["batchnorm_elements"] + 2048 * 7 * 7
    assert totals["ptflops"] - macs == (
        1000 + 2 * side["batchnorm_elements"] + side["relu_elements"] + 64 * 112 * 112 + 2048 * 7 * 7
    )
    bn_params = sum(r.params for r in net.rows() if type(r.layer).__name__ == "BatchNorm2d")
    assert totals["torchinfo"] - macs == bn_params + 1000
    assert totals["thop"] - macs == 4 * side["batchnorm_elements"] + 2048 * (7 * 7 + 1)
    # ptflops' default mode counts the functional relu / max_pool2d / adaptive_avg_pool2d calls that the
    # modules make inside their forward: each ReLU's, the max-pool's and the average pool's input once more
    assert totals["ptflops default"] - totals["ptflops"] == side["relu_elements"] + 64 * 112 * 112 + 2048 * 7 * 7
    assert len(CONVENTIONS) == len(totals)


def test_ptflops_figures_are_per_image_and_the_default_mode_is_the_cited_4_132_436_968() -> None:
    net = resnet("resnet50")
    cited = {p.convention: p for p in PUBLISHED if p.model == "resnet50"}
    default, modules = get_convention("ptflops default"), get_convention("ptflops")
    assert default.total(net) == int(Decimal(cited["ptflops default"].giga) * 10**9)
    assert cited["ptflops"].reproduced_by(modules.total(net)) and not cited["ptflops"].reproduced_by(default.total(net))
    for convention in (default, modules):
        assert convention.total(net, (3, 3, 224, 224)) == convention.total(net)  # per image at batch 3
    bare = get_convention("multiply-adds")
    assert bare.total(net, (3, 3, 224, 224)) == 3 * bare.total(net)


def test_figure5_bottleneck_and_basic_block_networks_have_similar_complexity() -> None:
    c = bottleneck_vs_basic()
    assert c.holds
    # identity blocks at every stage, in units of planes^2 per pixel: bottleneck 4 + 9 + 4, basic 9 + 9
    assert [r for _, r in c.detail] == [Fraction(4 + 9 + 4, 9 + 9)] * 4
    assert [r for _, r in c.weight_detail] == [Fraction(4 + 9 + 4, 9 + 9)] * 4  # same per pixel, same size
    assert (c.left_value, c.right_value) == (resnet("resnet50", "v1").macs(), resnet("resnet34", "v1").macs())
    assert abs(c.ratio - 1) <= Fraction(1, 10)


def test_figure5_a_projection_shortcut_about_doubles_a_bottleneck_but_not_a_basic_block() -> None:
    c = projection_shortcut_cost("resnet50")
    assert c.holds
    # an identity bottleneck (17 planes^2 per pixel) gains a 4p -> 4p projection (16 planes^2 per pixel)
    assert [r for _, r in c.detail] == [Fraction(17 + 16, 17)] * 4
    assert [r for _, r in c.weight_detail] == [Fraction(17 + 16, 17)] * 4
    assert 1 < c.ratio < 2  # the whole network grows less: stem, classifier and downsampling blocks are unchanged
    basic = projection_shortcut_cost("resnet34")
    assert not basic.holds  # a p -> p projection adds 1 to 18 planes^2 per pixel
    assert [r for _, r in basic.detail] == [Fraction(18 + 1, 18)] * 4


def test_shortcut_c_adds_one_projection_per_identity_block() -> None:
    b, c = resnet("resnet50", shortcut="B"), resnet("resnet50", shortcut="C")
    extra = c.param_count - b.param_count
    hand = sum((n - 1) * (4 * p * 4 * p + 2 * 4 * p) for p, n in zip((64, 128, 256, 512), (3, 4, 6, 3), strict=True))
    assert extra == hand


def test_unknown_model_names_list_the_valid_ones() -> None:
    with pytest.raises(
        VerifierError, match=r"model must be one of resnet18, resnet34, .*wide_resnet50_2, got 'resnet51'"
    ):
        resnet("resnet51")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layers": (3, 4, 6)}, r"layers must be 4 positive ints .*got \(3, 4, 6\)"),
        ({"layers": (3, 4, 0, 3)}, r"layers\[2\] must be a positive int, got 0"),
        ({"variant": "v2"}, r"variant must be 'v1' or 'v1.5', got 'v2'"),
        ({"shortcut": "A"}, r"shortcut must be 'B' or 'C', got 'A'"),
        ({"block": "basic", "groups": 32}, r"basic blocks take groups=1 and width_per_group=64"),
        ({"block": "dense"}, r"block must be 'basic' or 'bottleneck', got 'dense'"),
    ],
)
def test_bad_network_arguments_are_named_in_the_error(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"name": "x", "block": "bottleneck", "layers": (3, 4, 6, 3), **kwargs}
    with pytest.raises(VerifierError, match=message):
        ResNet(**args)  # type: ignore[arg-type]


def test_a_one_pixel_input_runs_as_in_torchvision_but_a_wrong_channel_count_is_refused() -> None:
    # padding keeps every layer's output at least 1x1, so a 1x1 image is a valid (if useless) input
    assert resnet("resnet50").output_shape((1, 3, 1, 1)) == (1, 1000)
    assert resnet("resnet50").macs((1, 3, 1, 1)) == hand_counts_total("resnet50", "v1.5", 1)
    with pytest.raises(VerifierError, match="input has 1 channels but the conv expects 3"):
        resnet("resnet50").macs((1, 1, 224, 224))


def test_max_pool_output_matches_an_enumeration_of_windows() -> None:
    for size in range(1, 20):
        for k, s, p in [(3, 2, 1), (2, 2, 0), (3, 1, 1), (3, 3, 0)]:
            if size + 2 * p < k:
                continue
            starts = [a for a in range(0, size + 2 * p, s) if a + k <= size + 2 * p]
            assert MaxPool2d(k, s, p).output_shape((1, 2, size, size)) == (1, 2, len(starts), len(starts))


def test_side_counts_of_the_pools_and_the_classifier() -> None:
    assert side_counts(MaxPool2d(3, 2, 1), (1, 64, 112, 112), (1, 64, 56, 56)) == {
        "maxpool_inputs": 64 * 112 * 112,
        "maxpool_comparisons": 64 * 56 * 56 * 8,
    }
    assert side_counts(AdaptiveAvgPool2d(1), (2, 2048, 7, 7), (2, 2048, 1, 1)) == {
        "avgpool_inputs": 2 * 2048 * 49,
        "avgpool_outputs": 2 * 2048,
    }
    assert Linear(2048, 1000).macs((3, 2048)) == 3 * 2048 * 1000
    with pytest.raises(VerifierError, match="input has 1000 features but the linear layer expects 2048"):
        Linear(2048, 1000).macs((1, 1000))


@settings(max_examples=40, deadline=None)
@given(config=configs, variant=st.sampled_from(["v1", "v1.5"]), hw=st.integers(1, 80))
def test_any_configuration_counts_like_the_hand_loop(
    config: tuple[str, tuple[int, ...], tuple[int, int]], variant: str, hw: int
) -> None:
    kind, layers, (groups, wpg) = config
    if kind == "basic":
        groups, wpg = 1, 64
    net = ResNet("custom", kind, layers, groups, wpg, variant)  # type: ignore[arg-type]
    expected = hand_counts((kind, layers, groups, wpg), variant, hw)
    assert net.macs((1, 3, hw, hw)) == sum(v["macs"] for v in expected.values())
    assert net.param_count == sum(v["params"] for v in expected.values())


# -- hardening: bad input, edge cases and attacks ------------------------------------------------------
FAST = settings(max_examples=25, deadline=None)


NAMES = ", ".join(MODEL_NAMES)


def _blocks_by_hand(kind: str, layers: tuple[int, ...], groups: int, width: int, variant: str) -> list[Any]:
    """The residual blocks of a ResNet written out from the paper's table: stage widths 64..512, stride 2 after 1."""
    out: list[Any] = []
    channels = 64
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
        for i in range(count):
            stride = 2 if stage and not i else 1
            if kind == "bottleneck":
                out.append(Bottleneck(channels, planes, stride, groups, width, variant))  # type: ignore[arg-type]
                channels = planes * 4
            else:
                out.append(BasicBlock(channels, planes, stride))
                channels = planes
    return out


@FAST
@given(name=st.one_of(st.text(max_size=12), st.integers(), st.none()).filter(lambda n: n not in MODEL_NAMES))
def test_unknown_model_names_are_refused_listing_the_family(name: Any) -> None:
    message = f"model must be one of {NAMES}, got {name!r}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        resnet(name)
    with pytest.raises(VerifierError, match=re.escape(message)):
        variant_gap(name)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": 5}, VerifierTypeError, "name must be a str, got 5"),
        ({"block": "dense"}, VerifierError, "block must be 'basic' or 'bottleneck', got 'dense'"),
        ({"layers": (3, 4, 6)}, VerifierError, "layers must be 4 positive ints (blocks per stage), got (3, 4, 6)"),
        ({"layers": "3463"}, VerifierError, "layers must be 4 positive ints (blocks per stage), got '3463'"),
        ({"layers": (3, 4, 0, 3)}, VerifierError, "layers[2] must be a positive int, got 0"),
        ({"layers": (3, 4.0, 6, 3)}, VerifierTypeError, "layers[1] must be a positive int, got 4.0 (float)"),
        ({"groups": 0}, VerifierError, "groups must be a positive int, got 0"),
        ({"width_per_group": -1}, VerifierError, "width_per_group must be a positive int, got -1"),
        ({"num_classes": True}, VerifierTypeError, "num_classes must be a positive int, got True (bool)"),
        ({"variant": "v2"}, VerifierError, "variant must be 'v1' or 'v1.5', got 'v2'"),
        ({"shortcut": "A"}, VerifierError, "shortcut must be 'B' or 'C', got 'A'"),
        (
            {"block": "basic", "groups": 2},
            VerifierError,
            "basic blocks take groups=1 and width_per_group=64, got groups=2, width_per_group=64",
        ),
    ],
)
def test_bad_network_arguments_are_named(kwargs: dict[str, Any], error: type, message: str) -> None:
    args: dict[str, Any] = {"name": "x", "block": "bottleneck", "layers": (3, 4, 6, 3)} | kwargs
    with pytest.raises(error, match=re.escape(message)):
        ResNet(**args)


@pytest.mark.parametrize("shape", [(224, 224), (1, 3, 224), (1, 3, 0, 224), "224x224"])
def test_bad_input_shapes_are_refused(shape: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("input_shape")):
        resnet("resnet18").macs(shape)


def test_a_wrong_channel_count_names_the_stem() -> None:
    message = "input has 4 channels but the conv expects 3 (input_shape=(1, 4, 224, 224))"
    with pytest.raises(VerifierError, match=re.escape(message)):
        resnet("resnet50").rows((1, 4, 224, 224))


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("variant", ["v1", "v1.5"])
def test_network_totals_are_stem_plus_blocks_plus_head(name: str, variant: str) -> None:
    net = resnet(name, variant)  # type: ignore[arg-type]
    blocks = _blocks_by_hand(net.block, net.layers, net.groups, net.width_per_group, variant)
    assert [b for _, b in net.blocks()] == blocks
    features = 2048 if net.block == "bottleneck" else 512
    stem = 7 * 7 * 3 * 64 + 2 * 64
    head = features * 1000 + 1000
    assert net.param_count == stem + sum(b.param_count for b in blocks) + head
    shape = (2, 3, 160, 192)
    assert net.output_shape(shape) == (2, 1000)
    stem_macs = 2 * 80 * 96 * 7 * 7 * 3 * 64  # the 7x7/2 conv; the max-pool halves again to 40 x 48
    size = (40, 48)
    block_macs = 0
    for block in blocks:
        block_macs += block.macs((2, block.in_channels, *size))
        size = block.output_shape((block.in_channels, *size))[1:]
    assert net.macs(shape) == stem_macs + block_macs + 2 * features * 1000
    stages = net.stage_macs(shape)
    assert list(stages) == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert sum(stages.values()) == net.macs(shape) and stages["stem"] == stem_macs
    assert sum(row.params for row in net.rows(shape)) == net.param_count


def test_v1_and_v1_5_differ_only_where_a_stride_moves() -> None:
    for name in MODEL_NAMES:
        gap = variant_gap(name)
        v1, v15 = resnet(name, "v1"), resnet(name, "v1.5")
        assert (gap.v1, gap.v1_5) == (v1.macs(), v15.macs())
        assert v1.param_count == v15.param_count
        if v1.block == "basic":
            assert gap.v1 == gap.v1_5
        else:
            assert gap.v1 < gap.v1_5


def test_shortcut_c_projects_in_every_block() -> None:
    b, c = resnet("resnet50"), resnet("resnet50", shortcut="C")
    assert all(block.has_projection for _, block in c.blocks())
    extra = sum(
        cb.in_channels * cb.out_channels + 2 * cb.out_channels
        for (_, bb), (_, cb) in zip(b.blocks(), c.blocks(), strict=True)
        if not bb.has_projection
    )
    assert c.param_count - b.param_count == extra
    assert repr(c).endswith("shortcut='C')")


@pytest.mark.parametrize("name", [["resnet50"], ("resnet50",), {"resnet50"}, None, 50, b"resnet50"])
def test_a_model_name_that_is_no_string_is_refused_by_name(name: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"model must be one of {', '.join(MODEL_NAMES)}, got {name!r}")):
        resnet(name)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("variant", np.array(["v1", "v1.5"]), "variant must be 'v1' or 'v1.5'"),
        ("shortcut", np.array(["B", "C"]), "shortcut must be 'B' or 'C'"),
        ("block", np.array(["basic", "bottleneck"]), "block must be 'basic' or 'bottleneck'"),
        ("variant", ["v1"], "variant must be 'v1' or 'v1.5'"),
    ],
)
def test_resnet_fields_that_are_no_strings_are_refused_by_name(field: str, value: Any, message: str) -> None:
    arguments: dict[str, Any] = {"name": "x", "block": "bottleneck", "layers": (1, 1, 1, 1), field: value}
    with pytest.raises(VerifierError, match=re.escape(message)):
        ResNet(**arguments)


# -- the surface: names, reprs, stages, variants and the comparisons ------------------------------------
# Module names of torchvision's ResNet before and after the stages (``flatten`` is a function call there, a
# layer here, between the pool and the classifier).
STEM = ["conv1", "bn1", "relu", "maxpool"]


HEAD = ["avgpool", "flatten", "fc"]


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_stem_and_head_carry_torchvisions_module_names(name: str) -> None:
    net = resnet(name)
    names = [n for n, _ in net.layer_specs()]
    assert names[:4] == STEM and names[-3:] == HEAD
    assert [n for n, _ in net.stem()] == STEM and [n for n, _ in net.head()] == HEAD
    rows = net.rows()
    assert [r.name for r in rows[:4]] == STEM and [r.name for r in rows[-3:]] == HEAD


@pytest.mark.parametrize(
    ("row", "stage"),
    [
        *[(n, "stem") for n in STEM],
        *[(n, "head") for n in HEAD],
        ("layer1.0.conv1", "layer1"),
        ("layer4.2.downsample.0", "layer4"),
        ("layer3", "layer3"),
    ],
)
def test_each_layer_name_belongs_to_the_stem_a_stage_or_the_head(row: str, stage: str) -> None:
    assert _stage_of(row) == stage


def test_stage_macs_put_the_classifier_in_the_head_and_the_stem_conv_in_the_stem() -> None:
    # resnet18 on 64x64: the 7x7/2 conv gives 32x32 maps; the classifier is 512 x 1000
    stages = resnet("resnet18").stage_macs((1, 3, 64, 64))
    assert stages["stem"] == 32 * 32 * 7 * 7 * 3 * 64
    assert stages["head"] == 512 * 1000


@pytest.mark.parametrize(
    ("net", "text"),
    [
        (resnet("resnet50"), "ResNet('resnet50', bottleneck, layers=(3, 4, 6, 3), variant='v1.5')"),
        (
            resnet("resnext50_32x4d", "v1"),
            "ResNet('resnext50_32x4d', bottleneck, layers=(3, 4, 6, 3), variant='v1', groups=32, width_per_group=4)",
        ),
        (
            resnet("wide_resnet50_2"),
            "ResNet('wide_resnet50_2', bottleneck, layers=(3, 4, 6, 3), variant='v1.5', groups=1, width_per_group=128)",
        ),
        (
            ResNet("g2", "bottleneck", (1, 1, 1, 1), groups=2),
            "ResNet('g2', bottleneck, layers=(1, 1, 1, 1), variant='v1.5', groups=2, width_per_group=64)",
        ),
        (
            resnet("resnet18", shortcut="C"),
            "ResNet('resnet18', basic, layers=(2, 2, 2, 2), variant='v1.5', shortcut='C')",
        ),
        (
            resnet("resnext50_32x4d", shortcut="C"),
            "ResNet('resnext50_32x4d', bottleneck, layers=(3, 4, 6, 3), variant='v1.5', groups=32, "
            "width_per_group=4, shortcut='C')",
        ),
    ],
)
def test_repr_shows_every_setting_that_differs_from_resnet(net: ResNet, text: str) -> None:
    assert repr(net) == text


def test_layers_given_as_a_list_are_stored_as_a_tuple_of_ints() -> None:
    net = ResNet("x", "basic", [2, 2, 2, 2])  # type: ignore[arg-type]
    assert net.layers == (2, 2, 2, 2) and type(net.layers) is tuple
    assert net.param_count == resnet("resnet18").param_count  # and it is hashable, so its rows can be cached
    assert hash(net) == hash(ResNet("x", "basic", (2, 2, 2, 2)))


def test_a_single_image_without_a_batch_axis_counts_as_a_batch_of_one() -> None:
    net = resnet("resnet18")
    assert net.output_shape((3, 64, 64)) == (1000,)
    assert net.macs((3, 64, 64)) == net.macs((1, 3, 64, 64))


@pytest.mark.parametrize("shape", [(64, 64), (1, 1, 3, 64, 64)])
def test_an_input_of_another_rank_is_refused_naming_input_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(
        VerifierError, match=re.escape(f"input_shape must be a tuple of 3 or 4 positive ints, got {shape}")
    ):
        resnet("resnet18").rows(shape)


def test_num_classes_sizes_the_classifier() -> None:
    # resnet18 with a 10-way classifier: 512 x 10 weights and 10 biases instead of 512 x 1000 and 1000
    assert resnet("resnet18", num_classes=10).param_count == 11_689_512 - 512 * 990 - 990
    assert resnet("resnet50", num_classes=10).output_shape() == (1, 10)


def test_module_kinds_name_the_four_stages_and_every_block() -> None:
    kinds = resnet("resnet18").module_kinds()
    stages = {f"layer{s}": "Sequential" for s in (1, 2, 3, 4)}
    blocks = {f"layer{s}.{i}": "BasicBlock" for s in (1, 2, 3, 4) for i in (0, 1)}
    assert kinds == stages | blocks
    assert set(resnet("resnet50").module_kinds().values()) == {"Sequential", "Bottleneck"}


def test_with_variant_moves_only_the_stride() -> None:
    net = resnet("resnet50", shortcut="C", num_classes=10)
    v1 = net.with_variant("v1")
    assert v1 == resnet("resnet50", "v1", shortcut="C", num_classes=10)
    assert v1.with_variant("v1.5") == net


def test_summary_is_the_count_report_of_this_network_and_input() -> None:
    report = resnet("resnet18").summary((2, 3, 64, 64), depth=1)
    assert report.data["model"] == "resnet18" and report.data["input_shape"] == [2, 3, 64, 64]
    layers = {g["name"]: g for g in report.data["layers"]}
    assert list(layers) == STEM + [f"layer{s}" for s in (1, 2, 3, 4)] + HEAD
    assert layers["layer1"]["output_shape"] == [2, 64, 16, 16]
    assert layers["layer1"]["params"] == 2 * (2 * 9 * 64 * 64 + 2 * 2 * 64)
    assert report.data["params"] == 11_689_512
    every_layer = resnet("resnet18").summary((1, 3, 32, 32))
    assert len(every_layer.data["layers"]) == len(resnet("resnet18").rows((1, 3, 32, 32)))


def test_the_notebook_view_is_the_stage_level_table_at_imagenet_size() -> None:
    md = resnet("resnet18")._repr_markdown_()
    assert "| layer1 | Sequential | 1x64x56x56 | 147,968 |" in md
    assert "| layer1.0 |" not in md and "| layer1.0.conv1 |" not in md


def test_comparison_repr_gives_both_figures_and_their_ratio() -> None:
    c = Comparison("claim", "criterion", "a", 3_000, "b", 2_000, True)
    assert c.ratio == Fraction(3, 2)
    assert repr(c) == "Comparison(a=3,000 / b=2,000 = 1.5000, holds=True)"


def test_variant_gap_names_each_downsampling_block_and_its_extra_macs() -> None:
    g = variant_gap("resnet50")
    assert g.model == "resnet50" and g.input_shape == (1, 3, 224, 224)
    # v1.5 runs the first 1x1 (C_in -> planes) at twice the resolution: 4x its v1 MACs, 3x extra
    extra = {
        "layer2.0": 3 * 256 * 128 * 28 * 28,
        "layer3.0": 3 * 512 * 256 * 14 * 14,
        "layer4.0": 3 * 1024 * 512 * 7 * 7,
    }
    assert g.blocks == tuple(extra.items())
    small = variant_gap("resnet101", [2, 3, 64, 64])  # type: ignore[arg-type]
    assert small.input_shape == (2, 3, 64, 64)
    assert dict(small.blocks) == {"layer2.0": 2 * 3 * 256 * 128 * 8 * 8, "layer3.0": 2 * 3 * 512 * 256 * 4 * 4,
                                  "layer4.0": 2 * 3 * 1024 * 512 * 2 * 2}  # fmt: skip


def test_bottleneck_vs_basic_states_its_claim_and_the_compared_networks() -> None:
    c = bottleneck_vs_basic("v1.5")
    assert c.claim == "bottleneck and basic-block designs have similar time complexity"
    assert c.criterion == (
        "ResNet-50 MACs within 10% of ResNet-34's, and each identity bottleneck no costlier than a basic block "
        "in MACs and in conv weights"
    )
    assert (c.left, c.right) == ("resnet50 (v1.5) MACs", "resnet34 (v1.5) MACs")


def test_bottleneck_vs_basic_fails_for_v1_5_whose_strided_3x3_costs_more() -> None:
    # torchvision's v1.5 is 4.09 GMACs against ResNet-34's 3.66: 11.6% more, beyond the 10% of the claim
    c = bottleneck_vs_basic("v1.5")
    assert not c.holds and Fraction(11, 10) < c.ratio < Fraction(12, 10)
    assert [r for _, r in c.detail] == [Fraction(17, 18)] * 4  # the identity blocks still cost less


def test_bottleneck_vs_basic_holds_just_inside_ten_percent() -> None:
    # on a 16x32 input the stem's share grows: ResNet-50 (v1) costs 9.94% more than ResNet-34
    c = bottleneck_vs_basic("v1", (1, 3, 16, 32))
    assert Fraction(1, 11) < c.ratio - 1 < Fraction(1, 10)
    assert c.holds


def test_projection_shortcut_cost_states_its_claim_and_the_compared_networks() -> None:
    c = projection_shortcut_cost()
    assert c.claim == "a projection shortcut would double a bottleneck block's time complexity and model size"
    assert c.criterion == (
        "each identity bottleneck block's MACs and conv weights multiplied by 2 within 10% when its shortcut is "
        "a projection"
    )
    assert (c.left, c.right) == ("resnet50 (v1, all projections) MACs", "resnet50 (v1, identity shortcuts) MACs")
    assert c.holds


def test_projection_shortcut_cost_compares_the_requested_variant() -> None:
    c = projection_shortcut_cost("resnet50", "v1")
    b = resnet("resnet50", "v1")
    assert c.right_value == b.macs()
    # option C adds a 4p -> 4p 1x1 projection to each of the (n - 1) identity blocks of a stage, at its resolution
    added = sum(
        (n - 1) * (4 * p) ** 2 * hw**2
        for p, n, hw in zip((64, 128, 256, 512), (3, 4, 6, 3), (56, 28, 14, 7), strict=True)
    )
    assert c.left_value - c.right_value == added


def test_a_wide_bottleneck_does_not_double_with_a_projection() -> None:
    # width 2p: 4p*2p + 9*(2p)^2 + 2p*4p = 52 p^2 per pixel, and the projection adds 16: 68/52 = 17/13
    c = projection_shortcut_cost("wide_resnet50_2")
    assert [r for _, r in c.detail] == [Fraction(17, 13)] * 4
    assert not c.holds


def test_projection_ratios_compare_the_last_block_of_each_stage() -> None:
    # resnet18 has two blocks per stage; the last is an identity p -> p basic block (18 p^2 per pixel) that
    # option C gives a p -> p projection (1 p^2 more); the first of stages 2-4 projects in both options
    c = projection_shortcut_cost("resnet18")
    assert [r for _, r in c.detail] == [Fraction(19, 18)] * 4
    assert [r for _, r in c.weight_detail] == [Fraction(19, 18)] * 4
    assert not c.holds


def test_a_networks_summary_names_its_variant_and_block_types_and_its_rows_add_up_to_its_count() -> None:
    model = resnet("resnet50", "v1")
    stages, blocks = model.summary(depth=1), model.summary(depth=2)  # one row per stage, one per block
    for report in (stages, blocks):
        assert report.ok is True and report.data["variant"] == "v1"
        assert report.text().splitlines()[0] == "verifier count resnet50 (v1): input 1x3x224x224"
        # the rows' multiply-adds against published block layouts counted by hand (no verifier class involved)
        assert sum(g["macs"] for g in report.data["layers"]) == hand_counts_total("resnet50", "v1", 224)
    assert {g["name"]: g["type"] for g in stages.data["layers"]}["layer1"] == "Sequential"
    types = {g["name"]: g["type"] for g in blocks.data["layers"]}
    assert types["layer1.0"] == types["layer4.2"] == "Bottleneck"
