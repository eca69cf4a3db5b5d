"""Proofs about what a network shows of itself: layer names, reprs, groupings, reports and the Figure 5 claims.

Each figure is written out by hand (a count of weights, a known layer name, a ratio in planes^2 per pixel), so a
network that computes the right totals under the wrong names, or a claim that holds for the wrong reason, fails.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import pytest

from verifier import VerifierError, VerifierTypeError
from verifier.models import (
    Comparison,
    ResNet,
    _stage_of,
    bottleneck_vs_basic,
    projection_shortcut_cost,
    resnet,
    variant_gap,
)
from verifier.tables import group_rows

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


def _groups(rows: Any, depth: int, kinds: Any = None) -> list[tuple[str, str]]:
    return [(g["name"], g["type"]) for g in group_rows(rows, depth, kinds)]


def test_groups_are_typed_as_their_leaf_the_given_kind_or_sequential() -> None:
    net = resnet("resnet18")
    rows = net.rows((1, 3, 32, 32))
    stem = [("conv1", "Conv2d"), ("bn1", "BatchNorm2d"), ("relu", "ReLU"), ("maxpool", "MaxPool2d")]
    head = [("avgpool", "AdaptiveAvgPool2d"), ("flatten", "Flatten"), ("fc", "Linear")]
    stages = [(f"layer{s}", "Sequential") for s in (1, 2, 3, 4)]
    assert _groups(rows, 1) == _groups(rows, 1, net.module_kinds()) == stem + stages + head
    blocks = [(f"layer{s}.{i}", "BasicBlock") for s in (1, 2, 3, 4) for i in (0, 1)]
    assert _groups(rows, 2, net.module_kinds()) == stem + blocks + head
    # without kinds, a block is just a sequence of layers
    assert _groups(rows, 2) == stem + [(name, "Sequential") for name, _ in blocks] + head
    assert _groups(rows, 2, {"layer1.0": "Custom"})[4:6] == [("layer1.0", "Custom"), ("layer1.1", "Sequential")]


def test_a_group_spans_from_its_first_rows_input_to_its_last_rows_output() -> None:
    groups = {g["name"]: g for g in group_rows(resnet("resnet18").rows((2, 3, 64, 64)), 1)}
    assert groups["layer2"]["input_shape"] == [2, 64, 16, 16]
    assert groups["layer2"]["output_shape"] == [2, 128, 8, 8]
    # layer1: two blocks of two 3x3 64 -> 64 convs and two BatchNorms of 64 maps
    assert groups["layer1"]["params"] == 2 * (2 * 9 * 64 * 64 + 2 * 2 * 64)
    assert groups["layer1"]["macs"] == 2 * 16 * 16 * 4 * 9 * 64 * 64


@pytest.mark.parametrize(("depth", "error"), [(0, VerifierError), (1.5, VerifierTypeError), (True, VerifierTypeError)])
def test_a_bad_depth_is_refused_by_name(depth: Any, error: type) -> None:
    with pytest.raises(error, match=r"^depth must be a positive int, got "):
        group_rows(resnet("resnet18").rows(), depth)


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
