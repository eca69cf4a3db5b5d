"""Proofs about the count tables: grouping by name keeps every row's figures and names each group's type."""

from __future__ import annotations

from typing import Any

import pytest

from verifier import VerifierError, VerifierTypeError
from verifier.models import (
    resnet,
)
from verifier.tables import group_rows


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


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


@pytest.mark.parametrize("variant", [None, "v1.5"])
def test_the_count_report_shows_the_totals_worked_by_hand_in_text_and_json(variant: str | None) -> None:
    from verifier import Bottleneck
    from verifier.tables import layer_report

    block, shape = Bottleneck(), (1, 256, 56, 56)
    # by hand: the three convs' weights and the three batch norms' (gamma, beta) and running (mean, var)
    convs = 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256
    norms = 64 + 64 + 256
    params, buffers, macs = convs + 2 * norms, 2 * norms, 56 * 56 * convs
    report = layer_report(block.rows(shape), shape, label="bottleneck", variant=variant, param_count=params)
    data = report.data
    assert report.ok is True and data["checks"] == {"layer params add up": True, "layer MACs add up": True}
    assert (data["model"], data["variant"], data["input_shape"]) == ("bottleneck", variant, list(shape))
    assert (data["params"], data["buffers"], data["macs"], data["flops"]) == (params, buffers, macs, 2 * macs)
    shares = {g["name"]: g["share_of_macs"] for g in data["layers"]}
    assert shares["conv2"] == 9 * 64 * 64 / convs and sum(shares.values()) == pytest.approx(1.0)
    lines = _lines(report.text())
    assert lines[0] == f"verifier count bottleneck{' (v1.5)' if variant else ''}: input 1x256x56x56"
    for row in (
        "layer type output params MACs",
        f"parameters (learned) {params:,}",
        f"BatchNorm running statistics (buffers) {buffers:,}",
        f"multiply-adds (MACs) {macs:,}",
        f"FLOPs = 2 x MACs {2 * macs:,}",
        "total count",
        "not in the MAC count operations what is counted",
    ):
        assert row in lines, row
    flat = " ".join(lines)
    assert (
        " A multiply-add (MAC) counts once, as in the ResNet paper and torchvision; FLOPs = 2 x MACs. The MAC column "
        "counts the products of the convs and the classifier only; what BatchNorm, ReLU, pooling, the residual "
        "additions and biases would add is listed separately below. "
    ) in flat


def test_a_count_report_whose_rows_miss_the_models_count_does_not_hold() -> None:
    from verifier import Bottleneck
    from verifier.tables import layer_report

    block, shape = Bottleneck(), (1, 256, 56, 56)
    report = layer_report(block.rows(shape), shape, label="b", variant=None, param_count=block.param_count + 1)
    assert report.ok is False and report.data["checks"]["layer params add up"] is False


@pytest.mark.parametrize("depth", [0, True, 1.5])
def test_the_count_report_refuses_a_bad_depth_naming_the_option(depth: Any) -> None:
    from verifier import Bottleneck
    from verifier.tables import layer_report

    shape = (1, 256, 56, 56)
    with pytest.raises(VerifierError, match=r"^--depth must be a positive int, got "):
        layer_report(Bottleneck().rows(shape), shape, label="b", variant=None, param_count=0, depth=depth)


def test_layers_without_multiply_adds_each_have_a_share_of_zero() -> None:
    from verifier import BatchNorm2d, Bottleneck
    from verifier.tables import layer_report

    shape = (1, 256, 56, 56)
    norms = [row for row in Bottleneck().rows(shape) if isinstance(row.layer, BatchNorm2d)]
    report = layer_report(norms, shape, label="norms", variant=None, param_count=2 * (64 + 64 + 256))
    assert report.data["macs"] == 0 and [g["share_of_macs"] for g in report.data["layers"]] == [0.0, 0.0, 0.0]
